import Foundation
import PipelineEngine
import PipelineSpec
import TestSupport
import Testing
import VaultSecrets

/// The Kubernetes login, and how many requests a run sends, against a small recording
/// stand-in for the server: a real Kubernetes login needs a cluster's TokenReview API,
/// which these machines do not have. The stand-in (Python's http.server) accepts any JWT,
/// answers the login with a token, serves one secret to that token, and writes every
/// request it gets (method, path, token and namespace headers, JSON body) to a log.
@Suite("vault Kubernetes login against a recording stand-in")
struct VaultKubernetesLoginTests {
    static let stub = #"""
        import http.server, json, os, sys
        log_path, port_path = sys.argv[1], sys.argv[2]

        class Handler(http.server.BaseHTTPRequestHandler):
            def record(self, body):
                with open(log_path, "a") as log:
                    log.write(json.dumps({"method": self.command, "path": self.path,
                                          "token": self.headers.get("X-Vault-Token"),
                                          "namespace": self.headers.get("X-Vault-Namespace"),
                                          "body": body}) + "\n")

            def answer(self, status, document):
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.record(json.loads(self.rfile.read(length) or b"{}"))
                if self.path == "/v1/auth/kubernetes/login":
                    self.answer(200, {"auth": {"client_token": "stub-client-token", "policies": ["app"]}})
                else:
                    self.answer(404, {"errors": []})

            def do_GET(self):
                self.record(None)
                if self.path == "/v1/secret/data/app" and self.headers.get("X-Vault-Token") == "stub-client-token":
                    self.answer(200, {"data": {"data": {"user": "stub-user-name", "password": "stub-password-1"},
                                               "metadata": {"version": 1, "deletion_time": "", "destroyed": False}}})
                else:
                    self.answer(403, {"errors": ["permission denied"]})

            def log_message(self, *arguments):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_path + ".tmp", "w") as port:
            port.write(str(server.server_address[1]))
        os.rename(port_path + ".tmp", port_path)
        server.serve_forever()
        """#

    @Test("the Kubernetes login posts the role and the service-account JWT once, and two keys of one path cost one read")
    func kubernetesLogin() async throws {
        let folder = NSTemporaryDirectory() + "mlpipe-vault-k8s-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(Self.stub.utf8).write(to: URL(fileURLWithPath: folder + "/stub.py"))
        try Data("eyJhbGciOiJSUzI1NiJ9.service-account-jwt.signature\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/token"))
        let pid = try TestServers.spawn(VaultServer.venv + "/bin/python3",
                                        [folder + "/stub.py", folder + "/requests.jsonl", folder + "/port"],
                                        environment: ProcessInfo.processInfo.environment, log: folder + "/stub.log")
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let end = Date().addingTimeInterval(30)
        var port: String?
        while port == nil, Date() < end {
            port = try? String(contentsOfFile: folder + "/port", encoding: .utf8)
            if port == nil { usleep(50_000) }
        }
        let address = "http://127.0.0.1:" + (try #require(port, "the stand-in did not start"))

        let environment = ["VAULT_ADDR": address, "VAULT_K8S_ROLE": "ml-runner", "VAULT_K8S_TOKEN_PATH": folder + "/token",
                           "VAULT_NAMESPACE": "team-a", "HOME": folder]
        var registry = SecretProviderRegistry()
        registry.register(VaultSecretProvider(environment: environment))
        let location = SourceLocation(file: "p.yaml", line: 4, column: 3)
        let resolved = try await ResolvedSecrets.resolve([
            "USER": SecretSource(provider: "vault", reference: "secret/data/app#user", location: location),
            "PASSWORD": SecretSource(provider: "vault", reference: "secret/data/app#password", location: location),
        ], providers: registry)
        #expect(resolved.values == ["USER": "stub-user-name", "PASSWORD": "stub-password-1"])

        let log = try String(contentsOfFile: folder + "/requests.jsonl", encoding: .utf8)
        let requests = log.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(requests.map { "\($0["method"] ?? "") \($0["path"] ?? "")" }
            == ["POST /v1/auth/kubernetes/login", "GET /v1/secret/data/app"])
        let login = try #require(requests.first)
        #expect(login["body"] as? [String: String]
            == ["role": "ml-runner", "jwt": "eyJhbGciOiJSUzI1NiJ9.service-account-jwt.signature"])
        #expect(login["token"] is NSNull, "the login carries no token")
        #expect(requests.allSatisfy { $0["namespace"] as? String == "team-a" }, "\(requests)")
        #expect(requests.last?["token"] as? String == "stub-client-token")
    }

    @Test("a Kubernetes login outside a pod says which token file is missing")
    func noServiceAccount() async throws {
        let missing = NSTemporaryDirectory() + "mlpipe-no-such-token-" + UUID().uuidString
        var registry = SecretProviderRegistry()
        registry.register(VaultSecretProvider(environment: [
            "VAULT_ADDR": "http://127.0.0.1:9", "VAULT_K8S_ROLE": "ml-runner", "VAULT_K8S_TOKEN_PATH": missing,
        ]))
        let source = SecretSource(provider: "vault", reference: "secret/data/app#user",
                                  location: SourceLocation(file: "p.yaml", line: 4, column: 3))
        do throws(SecretError) {
            _ = try await registry.value(of: "USER", from: source)
            Issue.record("a value came without a service-account token")
        } catch {
            #expect(error.description == "secret USER: the Kubernetes login (VAULT_K8S_ROLE is set) needs the "
                + "service-account token at \(missing), which does not exist; run mlpipe in a pod with a service "
                + "account, or set VAULT_K8S_TOKEN_PATH to the token's file")
        }
    }
}
