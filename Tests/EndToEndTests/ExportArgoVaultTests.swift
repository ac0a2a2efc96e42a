import Foundation
import TestSupport
import Testing

/// `mlpipe export argo` of a stage with a `{ vault: … }` secret, through the binary: the
/// pods learn where Vault is and which role to log in as from the exporting shell's
/// variables, and the exporter's own token stays in that shell.
@Suite("export argo with vault secrets through the binary")
struct ExportArgoVaultTests {
    static let pipeline = """
        version: 1
        name: team
        remote: s3://team-cache/mlpipe?endpoint=http://127.0.0.1:8333&region=us-east-1
        secrets:
          DB_PASSWORD: { vault: "secret/data/team/db#password" }
        stages:
          train:
            run: 'true'
            secrets: [DB_PASSWORD]

        """

    /// The exporting shell: a reachable Vault, the pods' role, and a token of its own.
    static let shell = ["VAULT_ADDR": "https://vault.example.com:8200", "BAO_ADDR": "", "VAULT_NAMESPACE": "",
                        "BAO_NAMESPACE": "", "VAULT_K8S_ROLE": "mlpipe-pods", "VAULT_K8S_MOUNT": "",
                        "VAULT_K8S_TOKEN_PATH": "", "VAULT_TOKEN": "hvs.exporter-own-token"]

    func repo() throws -> TempRepo {
        let repo = try TempRepo(files: ["pipelines/team.yaml": Self.pipeline])
        try repo.git("remote", "add", "origin", "https://git.example.com/team/ml.git")
        return repo
    }

    @Test("the pod gets VAULT_ADDR and VAULT_K8S_ROLE from the exporting shell, and its service account, but no token")
    func exportsVaultVariables() throws {
        let repo = try repo()
        let result = try repo.mlpipe(arguments: ["export", "argo", "team", "--service-account", "mlpipe-runner"],
                                     env: Self.shell)
        #expect(result.status == 0, "\(result)")
        let tree = try yamlTree(result.stdout)
        let spec = try #require(tree["spec"] as? [String: Any])
        #expect(spec["serviceAccountName"] as? String == "mlpipe-runner")
        let templates = try #require(spec["templates"] as? [[String: Any]])
        let env = try #require((templates.last?["container"] as? [String: Any])?["env"] as? [[String: Any]])
        let plain = Dictionary(uniqueKeysWithValues: env.compactMap { entry -> (String, String)? in
            guard let name = entry["name"] as? String, let value = entry["value"] as? String else { return nil }
            return (name, value)
        })
        #expect(plain == ["VAULT_ADDR": "https://vault.example.com:8200", "VAULT_K8S_ROLE": "mlpipe-pods"])
        #expect(!result.stdout.contains("VAULT_TOKEN") && !result.stdout.contains("hvs.exporter-own-token"))
    }

    @Test("without VAULT_K8S_ROLE, or with a loopback VAULT_ADDR, the export fails with exit 3 at the secret's line")
    func refusesWithoutRole() throws {
        let repo = try repo()
        var shell = Self.shell
        shell["VAULT_K8S_ROLE"] = ""
        let noRole = try repo.mlpipe(arguments: ["export", "argo", "team"], env: shell)
        #expect(noRole.status == 3, "\(noRole)")
        #expect(noRole.stdout.isEmpty)
        #expect(noRole.stderr.contains("pipelines/team.yaml:5:3: error: secret DB_PASSWORD "
            + "({ vault: secret/data/team/db#password }) comes from Vault, and stage 'train' runs in a pod"), "\(noRole)")
        #expect(noRole.stderr.contains("set VAULT_K8S_ROLE to the Vault role the pods' service account logs in with"),
                "\(noRole)")
        #expect(!noRole.stderr.contains("hvs.exporter-own-token"))

        shell = Self.shell
        shell["VAULT_ADDR"] = "http://127.0.0.1:8200"
        let loopback = try repo.mlpipe(arguments: ["export", "argo", "team"], env: shell)
        #expect(loopback.status == 3, "\(loopback)")
        #expect(loopback.stderr.contains("VAULT_ADDR is http://127.0.0.1:8200, this machine's loopback address, "
            + "which a pod cannot reach"), "\(loopback)")
    }
}
