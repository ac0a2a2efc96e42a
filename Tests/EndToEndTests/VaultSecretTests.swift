import Foundation
import TestSupport
import Testing

/// `{ vault: "MOUNT/data/PATH#KEY" }` secrets through the built mlpipe, against a real
/// OpenBao dev server.
@Suite("secrets from OpenBao", .vaultServer, .serialized)
struct VaultSecretTests {
    var server: VaultServer { VaultServerTrait.current! }

    static let password = "vault-pw-8f3a2c91"
    static let user = "ml-ci-user-42"

    static let pipeline = """
        version: 1
        name: v
        secrets:
          DB_PASSWORD: { vault: "secret/data/ci#password" }
          DB_USER: { vault: "secret/data/ci#user" }
        stages:
          use:
            run: echo "connecting as $DB_USER with $DB_PASSWORD"; echo "$DB_PASSWORD" > ${{ outputs.out }}
            outputs: { out: out.txt }
            secrets: [DB_PASSWORD, DB_USER]
          other:
            run: echo "${DB_PASSWORD:-unset}" > ${{ outputs.out }}
            outputs: { out: out.txt }

        """

    @Test("a vault secret reaches only the stage that lists it, and is masked in the console, logs and database")
    func tokenEndToEnd() throws {
        try server.put("ci", "{\"password\":\"\(Self.password)\",\"user\":\"\(Self.user)\"}")
        let repo = try TempRepo(files: ["pipelines/v.yaml": Self.pipeline])
        let result = try repo.mlpipe("run", env: ["VAULT_ADDR": server.address, "VAULT_TOKEN": server.rootToken,
                                                  "HOME": repo.root])
        #expect(result.status == 0, "\(result)")
        #expect(repo.read("workspace/runs/1/use/out.txt") == Self.password + "\n")
        #expect(repo.read("workspace/runs/1/other/out.txt") == "unset\n")
        let logs = try repo.mlpipe("logs", "latest", "use")
        #expect(logs.stdout.contains("connecting as *** with ***"), "\(logs)")
        let show = try repo.mlpipe("runs", "show", "latest", "--json")
        for text in [result.stdout, result.stderr, logs.stdout, logs.stderr, show.stdout] {
            for secret in [Self.password, Self.user, server.rootToken] {
                #expect(!text.contains(secret), "a secret or the token is shown: \(text)")
            }
        }
        let database = try Data(contentsOf: URL(fileURLWithPath: repo.path("workspace/mlpipe.db")))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: repo.path("workspace/mlpipe.db-wal")))) ?? Data()
        for blob in [database, wal] {
            for secret in [Self.password, Self.user, server.rootToken] {
                #expect(blob.range(of: Data(secret.utf8)) == nil, "a secret or the token is in the database")
            }
        }
    }

    @Test("a server that does not answer fails the run with exit 3 at each secret's line, naming the address")
    func serverDown() throws {
        let address = "http://127.0.0.1:\(try VaultServer.freePort())"
        let repo = try TempRepo(files: ["pipelines/v.yaml": Self.pipeline])
        let result = try repo.mlpipe("run", env: ["VAULT_ADDR": address, "VAULT_TOKEN": "some-token-value",
                                                  "HOME": repo.root])
        #expect(result.status == 3, "\(result)")
        let down = "error: secret DB_PASSWORD: cannot reach OpenBao/Vault at \(address) (VAULT_ADDR) for reading "
            + "secret/data/ci: connection refused (after 4 attempts); start the server, or set VAULT_ADDR to its address"
        #expect(result.errorLines.contains("pipelines/v.yaml:4:3: " + down), "\(result)")
        #expect(result.errorLines.contains("pipelines/v.yaml:5:3: "
            + down.replacingOccurrences(of: "DB_PASSWORD", with: "DB_USER")), "\(result)")
        #expect(repo.read("workspace/runs/1/use/out.txt") == nil, "nothing ran")
    }

    @Test("lint reports a malformed vault path at its line and column")
    func lint() throws {
        let pipeline = """
            version: 1
            name: v
            secrets:
              A: { vault: "secret/ci" }
              B: { vault: "secret/data/ci#" }
              C: { vault: "kv/team/ci#token" }
            stages:
              use:
                run: 'true'
                secrets: [A, B, C]

            """
        let repo = try TempRepo(files: ["pipelines/v.yaml": pipeline])
        let result = try repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == [
            "pipelines/v.yaml:4:15: error: `vault` of secret 'A': 'secret/ci' has no `#KEY`; name the key of the "
                + "secret to read, e.g. `MOUNT/data/PATH#KEY`, such as `secret/data/ci#password`",
            "pipelines/v.yaml:5:15: error: `vault` of secret 'B': 'secret/data/ci#' has an empty key after `#`; name "
                + "the key of the secret to read, e.g. `secret/data/ci#password`",
            "pipelines/v.yaml:6:15: error: `vault` of secret 'C': 'kv/team/ci#token' has no `/data/` after the mount; "
                + "KV v2 secrets are read at `MOUNT/data/PATH#KEY`: did you mean 'kv/data/team/ci#token'? (the `bao kv "
                + "get -mount=kv team/ci` secret)",
        ], "\(result)")
    }
}
