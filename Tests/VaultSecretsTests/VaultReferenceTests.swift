import PipelineSpec
import Testing

/// `MOUNT/data/PATH#KEY[@VERSION]`: what the loader accepts and what the provider fetches.
@Suite("vault references")
struct VaultReferenceTests {
    static func problem(_ text: String) -> String? {
        do throws(VaultReference.Malformed) {
            _ = try VaultReference(parsing: text)
            return nil
        } catch {
            return error.problem
        }
    }

    @Test("a reference splits into mount, path, key and version at the first `data` segment")
    func parts() throws {
        let plain = try VaultReference(parsing: "secret/data/ci#password")
        #expect([plain.mount, plain.path, plain.key] == ["secret", "ci", "password"] && plain.version == nil)
        let nested = try VaultReference(parsing: "team/kv/data/apps/data/web#to#ken@12")
        #expect([nested.mount, nested.path, nested.key] == ["team/kv", "apps/data/web", "to#ken"])
        #expect(nested.version == 12)
        #expect(nested.dataPath == "team/kv/data/apps/data/web" && nested.written == "team/kv/data/apps/data/web#to#ken@12")
    }

    @Test("each malformed reference says what is wrong and how to write it")
    func malformed() {
        #expect(Self.problem("secret/data/ci") == "'secret/data/ci' has no `#KEY`; name the key of the secret to read, "
            + "e.g. 'secret/data/ci#password'")
        #expect(Self.problem("#password") == "'#password' has no path before `#`; write `MOUNT/data/PATH#KEY`, "
            + "e.g. `secret/data/ci#password`")
        #expect(Self.problem("secret/data/ci#password@latest") == "'secret/data/ci#password@latest' has '@latest' "
            + "after its key, which is not a version; write `#KEY@N` with N a version number (1, 2, …), or leave `@` "
            + "out for the latest version")
        #expect(Self.problem("secret/data/ci#@3") == "'secret/data/ci#@3' has an empty key after `#`; name the key "
            + "of the secret to read, e.g. `secret/data/ci#password`")
        #expect(Self.problem("/v1/secret/data/ci#password") == "'/v1/secret/data/ci#password' starts with '/v1/'; "
            + "write the path without it, as in a policy: 'secret/data/ci#password'")
        #expect(Self.problem("secret//data/ci#password") == "'secret//data/ci#password' has an empty part in its "
            + "path ('//' or a '/' at the end); write `MOUNT/data/PATH#KEY`, e.g. `secret/data/ci#password`")
        #expect(Self.problem("secret/data/../ci#password") == "'secret/data/../ci#password' has '..' in its path; "
            + "write the secret's path in full, e.g. `secret/data/ci#password`")
        #expect(Self.problem("secret/data#password") == "'secret/data#password' names no secret after `data/`; "
            + "write `MOUNT/data/PATH#KEY`, e.g. `secret/data/ci#password`")
        #expect(Self.problem("secret#password") == "'secret#password' has no `/data/` after the mount; KV v2 secrets "
            + "are read at `MOUNT/data/PATH#KEY`: e.g. 'secret/data/ci#password' for secret `ci` on mount `secret`")
    }
}
