import Foundation
@testable import PipelineEngine
import PipelineSpec
import TestSupport
import Testing

/// A pod's `vault` secret end to end: the variables `PodTaskPlan` gives a stage's pod,
/// and nothing else, let the pod's secret provider log in to a real OpenBao with its
/// Kubernetes auth method and read the secret.
///
/// No cluster runs here, and OpenBao's Kubernetes auth always asks a cluster's
/// TokenReview API about the JWT it is given (even with `pem_keys`, which only adds a
/// signature check), so a small stand-in for that one API answers on 127.0.0.1: it
/// accepts the one service-account token the test wrote and names its service account,
/// as the API server would. Everything else is OpenBao's own: the auth method, the
/// role's bound service account and namespace, the policy, the KV v2 read.
@Suite("a pod's vault secret through a real OpenBao's Kubernetes login", .vaultServer, .serialized)
struct VaultPodLoginTests {
    var server: VaultServer { VaultServerTrait.current! }

    static let tokenReview = #"""
        import http.server, json, os, sys
        token_path, port_path = sys.argv[1], sys.argv[2]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                review = json.loads(self.rfile.read(length) or b"{}")
                with open(token_path) as token:
                    known = token.read().strip()
                authenticated = (self.path == "/apis/authentication.k8s.io/v1/tokenreviews"
                                 and review.get("spec", {}).get("token") == known)
                status = {"authenticated": authenticated}
                if authenticated:
                    status["user"] = {"username": "system:serviceaccount:ml:mlpipe-runner", "uid": "7d2c9d1e-runner"}
                data = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                                   "status": status}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *arguments):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_path + ".tmp", "w") as port:
            port.write(str(server.server_address[1]))
        os.rename(port_path + ".tmp", port_path)
        server.serve_forever()
        """#

    /// The service-account JWT a pod of `ml/mlpipe-runner` would find at its token path
    /// (its signature is not checked: no `pem_keys`, the TokenReview stand-in vouches).
    static var serviceAccountJWT: String {
        func part(_ object: [String: String]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys)) ?? Data()
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return part(["alg": "RS256", "typ": "JWT"]) + "." + part([
            "iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:ml:mlpipe-runner",
            "kubernetes.io/serviceaccount/namespace": "ml",
            "kubernetes.io/serviceaccount/service-account.name": "mlpipe-runner",
            "kubernetes.io/serviceaccount/service-account.uid": "7d2c9d1e-runner",
        ]) + "." + Data(repeating: 7, count: 256).base64EncodedString().replacingOccurrences(of: "=", with: "")
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    @Test("a process with only the pod's VAULT_* variables and its service-account token reads the secret")
    func podReadsSecret() async throws {
        let folder = NSTemporaryDirectory() + "mlpipe-vault-pod-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data((Self.serviceAccountJWT + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/token"))
        try Data(Self.tokenReview.utf8).write(to: URL(fileURLWithPath: folder + "/tokenreview.py"))
        let pid = try TestServers.spawn(VaultServer.venv + "/bin/python3",
                                        [folder + "/tokenreview.py", folder + "/token", folder + "/port"],
                                        log: folder + "/tokenreview.log")
        defer { TestServers.kill(pid) }
        let end = Date().addingTimeInterval(30)
        var port: String?
        while port == nil, Date() < end {
            port = try? String(contentsOfFile: folder + "/port", encoding: .utf8)
            if port == nil { usleep(50_000) }
        }
        let kubernetesAPI = "http://127.0.0.1:" + (try #require(port, "the TokenReview stand-in did not start"))

        // Vault's side, as its operator sets it up for a cluster.
        try server.call("POST", "sys/auth/k8s-team", #"{"type":"kubernetes"}"#)
        let ca = try Self.certificate(in: folder)
        let config = try JSONSerialization.data(withJSONObject: [
            "kubernetes_host": kubernetesAPI, "kubernetes_ca_cert": ca, "disable_local_ca_jwt": true,
        ])
        try server.call("POST", "auth/k8s-team/config", String(decoding: config, as: UTF8.self))
        try server.call("PUT", "sys/policies/acl/team-db", #"{"policy":"path \"secret/data/team/db\" { capabilities = [\"read\"] }"}"#)
        try server.call("POST", "auth/k8s-team/role/mlpipe-pods", #"{"bound_service_account_names":["mlpipe-runner"],"#
            + #""bound_service_account_namespaces":["ml"],"token_policies":["team-db"],"token_ttl":"10m"}"#)
        try server.put("team/db", #"{"password":"pod-read-this-1"}"#)

        // The exporter's side: its own root token stays here; in the cluster, Vault has
        // a name the pods resolve, played by the same server.
        let pipeline = try PipelineLoader.parse(source: """
            version: 1
            name: team
            secrets:
              DB_PASSWORD: { vault: "secret/data/team/db#password" }
            stages:
              train: { run: 'true', secrets: [DB_PASSWORD] }

            """, file: "pipelines/team.yaml", kinds: KindRegistry.core.schemas, secretProviders: ["env", "vault"])
        let exporter = ["VAULT_ADDR": "http://vault.vault.svc:8200", "VAULT_TOKEN": server.rootToken,
                        "VAULT_K8S_ROLE": "mlpipe-pods", "VAULT_K8S_MOUNT": "k8s-team",
                        "VAULT_K8S_TOKEN_PATH": folder + "/token"]
        let plan = PodTaskPlan(pipeline: pipeline, pipelinePath: "pipelines/team.yaml",
                               remote: RemoteSetting(url: try RemoteURL(parsing: "s3://cache/team")), params: [],
                               cluster: ClusterOptions(serviceAccount: "mlpipe-runner"), environment: exporter)
        var pod = try plan.task(for: try #require(pipeline.stage(named: "train"))).environment
        #expect(pod["VAULT_ADDR"] == "http://vault.vault.svc:8200" && pod["VAULT_TOKEN"] == nil)
        pod["VAULT_ADDR"] = server.address
        pod["HOME"] = folder  // no ~/.vault-token there

        let source = try #require(pipeline.secrets["DB_PASSWORD"])
        let registry = SecretProviderRegistry.builtin(repositoryRoot: folder, environment: pod)
        #expect(try await registry.value(of: "DB_PASSWORD", from: source) == "pod-read-this-1")

        // Another pod's token is refused by the TokenReview, and Vault says so.
        try Data("not-this-pods-token\n".utf8).write(to: URL(fileURLWithPath: folder + "/token"))
        let other = SecretProviderRegistry.builtin(repositoryRoot: folder, environment: pod)
        let error = await #expect(throws: SecretError.self) { try await other.value(of: "DB_PASSWORD", from: source) }
        #expect(error?.description.contains("pod-read-this-1") == false)
        #expect(error?.description.contains("Kubernetes login at \(server.address)/v1/auth/k8s-team/login was refused") == true,
                "\(String(describing: error))")
    }

    /// A throwaway CA certificate (PEM) for the auth method's `kubernetes_ca_cert`, which
    /// it requires with `disable_local_ca_jwt`; the stand-in speaks plain HTTP, so it is
    /// never used to verify anything.
    static func certificate(in folder: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder + "/ca.key",
                             "-out", folder + "/ca.crt", "-days", "1", "-subj", "/CN=stand-in-kubernetes-ca"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestServerError(description: "openssl could not make a CA certificate (status \(process.terminationStatus))")
        }
        return try String(contentsOfFile: folder + "/ca.crt", encoding: .utf8)
    }
}
