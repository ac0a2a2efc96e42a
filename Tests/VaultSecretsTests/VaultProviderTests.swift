import Foundation
import PipelineEngine
import PipelineSpec
import TestSupport
import Testing
import VaultSecrets

/// The `vault` provider as a run uses it (`SecretProviderRegistry.builtin`, settings from
/// the environment), against a real OpenBao dev server: what the user reads is
/// `secret NAME: MESSAGE`, at the line that declares the secret.
@Suite("vault secrets from a real OpenBao", .vaultServer, .serialized)
struct VaultProviderTests {
    var server: VaultServer { VaultServerTrait.current! }

    /// A HOME that does not exist, so that no `~/.vault-token` of the machine is read.
    static let home = NSTemporaryDirectory() + "mlpipe-vault-no-home-" + UUID().uuidString

    /// The value of `reference` through a fresh registry (one run) with `environment`, or
    /// the error as the user reads it.
    static func resolve(_ reference: String, _ environment: [String: String],
                        name: String = "DB_PASSWORD") async -> Result<String, SecretError> {
        var environment = environment
        environment["HOME"] = environment["HOME"] ?? home
        let registry = SecretProviderRegistry.builtin(repositoryRoot: home, environment: environment)
        let source = SecretSource(provider: "vault", reference: reference,
                                  location: SourceLocation(file: "p.yaml", line: 4, column: 3))
        do throws(SecretError) {
            return .success(try await registry.value(of: name, from: source))
        } catch {
            return .failure(error)
        }
    }

    static func message(_ result: Result<String, SecretError>) -> String {
        switch result {
        case .success(let value): "unexpected value of \(value.count) characters"
        case .failure(let error): error.description
        }
    }

    @Test("a token from VAULT_TOKEN reads a key of a KV v2 secret, and @N reads an older version")
    func token() async throws {
        try server.put("ci", #"{"password":"first-pw-1234","user":"ci-bot"}"#)
        try server.put("ci", #"{"password":"second-pw-5678","user":"ci-bot","port":5432}"#)
        let environment = ["VAULT_ADDR": server.address, "VAULT_TOKEN": server.rootToken]
        #expect(try await Self.resolve("secret/data/ci#password", environment).get() == "second-pw-5678")
        #expect(try await Self.resolve("secret/data/ci#password@1", environment).get() == "first-pw-1234")
        #expect(try await Self.resolve("secret/data/ci#port", environment).get() == "5432")
        let missing = Self.message(await Self.resolve("secret/data/ci#password@9", environment))
        #expect(missing == "secret DB_PASSWORD: no secret at secret/data/ci (version 9) in \(server.address); name a "
            + "version that exists (`bao kv metadata get -mount=secret ci` lists them), or leave `@N` out")
    }

    @Test("BAO_ADDR and the token that `bao login` leaves in ~/.vault-token are used when nothing else is set")
    func tokenFile() async throws {
        try server.put("home", #"{"key":"from-token-file"}"#)
        let home = NSTemporaryDirectory() + "mlpipe-vault-login-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Data((server.rootToken + "\n").utf8).write(to: URL(fileURLWithPath: home + "/.vault-token"))
        let value = try await Self.resolve("secret/data/home#key", ["BAO_ADDR": server.address, "HOME": home]).get()
        #expect(value == "from-token-file")
        let none = Self.message(await Self.resolve("secret/data/home#key", ["BAO_ADDR": server.address]))
        #expect(none.hasPrefix("secret DB_PASSWORD: no OpenBao/Vault credentials: set VAULT_TOKEN (or BAO_TOKEN)"), "\(none)")
    }

    @Test("an AppRole login gets a token that reads the secret; a wrong secret id is refused without showing it")
    func appRole() async throws {
        try server.put("approle-app", #"{"api_key":"approle-value-42"}"#)
        try server.call("POST", "sys/auth/approle", #"{"type":"approle"}"#)
        _ = try server.token(policies: ["app-read": #"path "secret/data/approle-app" { capabilities = ["read"] }"#])
        try server.call("POST", "auth/approle/role/runner", #"{"token_policies":["app-read"]}"#)
        let roleID = try #require((try server.call("GET", "auth/approle/role/runner/role-id")["data"]
            as? [String: Any])?["role_id"] as? String)
        let secretID = try #require((try server.call("POST", "auth/approle/role/runner/secret-id")["data"]
            as? [String: Any])?["secret_id"] as? String)
        var environment = ["VAULT_ADDR": server.address, "VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID]
        #expect(try await Self.resolve("secret/data/approle-app#api_key", environment).get() == "approle-value-42")

        environment["VAULT_SECRET_ID"] = "00000000-wrong-secret-id"
        let refused = Self.message(await Self.resolve("secret/data/approle-app#api_key", environment))
        #expect(refused == "secret DB_PASSWORD: AppRole login at \(server.address)/v1/auth/approle/login was refused "
            + "(HTTP 400: invalid role or secret ID); check VAULT_ROLE_ID and VAULT_SECRET_ID (a secret id may have "
            + "expired or used up its uses; ask for a new one) and that the AppRole auth method is enabled at auth/approle")
        #expect(!refused.contains("00000000-wrong-secret-id") && !refused.contains(roleID))
    }

    @Test("a missing key is reported with the names of the keys the secret has, never their values")
    func missingKey() async throws {
        try server.put("db", #"{"password":"db-pw-value-1","user":"db-user-value"}"#)
        let environment = ["VAULT_ADDR": server.address, "VAULT_TOKEN": server.rootToken]
        let message = Self.message(await Self.resolve("secret/data/db#pasword", environment))
        #expect(message == "secret DB_PASSWORD: secret/data/db at \(server.address) has no key 'pasword'; its keys: "
            + "password, user; did you mean 'password'?")
        let path = Self.message(await Self.resolve("secret/data/no-such-secret#password", environment))
        #expect(path == "secret DB_PASSWORD: no secret at secret/data/no-such-secret in \(server.address); write it "
            + "(`bao kv put -mount=secret no-such-secret KEY=VALUE`) or fix the path in the pipeline's `secrets:`")
    }

    @Test("a deleted version is reported as deleted, with the command that brings it back; a destroyed one as destroyed")
    func deleted() async throws {
        try server.put("gone", #"{"key":"deleted-value-1"}"#)
        try server.call("DELETE", "secret/data/gone")
        let environment = ["VAULT_ADDR": server.address, "VAULT_TOKEN": server.rootToken]
        let deleted = Self.message(await Self.resolve("secret/data/gone#key", environment))
        #expect(deleted.hasPrefix("secret DB_PASSWORD: secret/data/gone at \(server.address) was deleted at 20"), "\(deleted)")
        #expect(deleted.hasSuffix("; undelete it (`bao kv undelete -mount=secret -versions=1 gone`) or name another version"),
                "\(deleted)")
        try server.call("POST", "secret/destroy/gone", #"{"versions":[1]}"#)
        let destroyed = Self.message(await Self.resolve("secret/data/gone#key@1", environment))
        #expect(destroyed == "secret DB_PASSWORD: secret/data/gone (version 1) at \(server.address) was destroyed; name "
            + "another version (`#KEY@N`), or the latest (without `@`)")
    }

    @Test("a token without a policy for the path is denied, naming the path and the token's policies, never the token")
    func denied() async throws {
        try server.put("prod", #"{"password":"prod-pw-value"}"#)
        let token = try server.token(policies: ["other": #"path "secret/data/other" { capabilities = ["read"] }"#])
        let message = Self.message(await Self.resolve("secret/data/prod#password",
                                                      ["VAULT_ADDR": server.address, "VAULT_TOKEN": token]))
        #expect(message == "secret DB_PASSWORD: permission denied reading secret/data/prod at \(server.address): the "
            + "token from VAULT_TOKEN (its policies: default, other) may not read it; attach a policy with "
            + "`path \"secret/data/prod\" { capabilities = [\"read\"] }` to the token's policies, or fix the path")
        #expect(!message.contains(token))

        let invalid = Self.message(await Self.resolve("secret/data/prod#password",
                                                      ["VAULT_ADDR": server.address, "BAO_TOKEN": "s.not-a-real-token"]))
        #expect(invalid == "secret DB_PASSWORD: permission denied reading secret/data/prod at \(server.address): the "
            + "server does not accept the token from BAO_TOKEN: it is invalid, expired or revoked (or lacks the "
            + "`default` policy); log in again, or give a valid token")
    }

    @Test("a KV version 1 mount and a path with no mount are told apart from a missing secret")
    func wrongMount() async throws {
        try server.call("POST", "sys/mounts/legacy", #"{"type":"kv","options":{"version":"1"}}"#)
        try server.call("POST", "legacy/ci", #"{"password":"v1-pw-value"}"#)
        let environment = ["VAULT_ADDR": server.address, "VAULT_TOKEN": server.rootToken]
        let legacy = Self.message(await Self.resolve("legacy/data/ci#password", environment))
        #expect(legacy == "secret DB_PASSWORD: mount 'legacy' at \(server.address) is a KV version 1 secrets engine, "
            + "and mlpipe reads KV version 2 (`MOUNT/data/PATH`); upgrade it (`bao kv enable-versioning legacy`) or "
            + "keep the secret on a KV version 2 mount")
        let nowhere = Self.message(await Self.resolve("nomount/data/ci#password", environment))
        #expect(nowhere == "secret DB_PASSWORD: no secrets engine is mounted at 'nomount' in \(server.address), so "
            + "nomount/data/ci does not exist; fix the mount (the part before `/data/`) in the pipeline's `secrets:`")
    }

    @Test("a server that does not answer is reported with its address and the variable that gave it")
    func unreachable() async throws {
        let port = try VaultServer.freePort()
        let address = "http://127.0.0.1:\(port)"
        let message = Self.message(await Self.resolve("secret/data/ci#password",
                                                      ["VAULT_ADDR": address, "VAULT_TOKEN": "some-token-value"]))
        #expect(message == "secret DB_PASSWORD: cannot reach OpenBao/Vault at \(address) (VAULT_ADDR) for reading "
            + "secret/data/ci: connection refused (after 4 attempts); start the server, or set VAULT_ADDR to its address")
        let unset = Self.message(await Self.resolve("secret/data/ci#password", ["VAULT_TOKEN": "some-token-value"]))
        #expect(unset == "secret DB_PASSWORD: neither VAULT_ADDR nor BAO_ADDR is set; export the address of the "
            + "OpenBao/Vault server, e.g. VAULT_ADDR=https://vault.example.com:8200")
    }

    @Test("a sealed server is reported as sealed at once, without retries")
    func sealed() async throws {
        let sealed = try VaultServer()
        defer { sealed.stop() }
        try sealed.call("PUT", "sys/seal")
        let started = ContinuousClock.now
        let message = Self.message(await Self.resolve("secret/data/ci#password",
                                                      ["VAULT_ADDR": sealed.address, "VAULT_TOKEN": sealed.rootToken]))
        #expect(message == "secret DB_PASSWORD: OpenBao/Vault at \(sealed.address) is sealed (HTTP 503) and cannot "
            + "serve the read of secret/data/ci until it is unsealed; ask its operators to unseal it "
            + "(`bao operator unseal`), then run again")
        // Retries would wait 0.2 + 0.4 + 0.8 s.
        #expect(ContinuousClock.now - started < .seconds(1.4))
    }
}
