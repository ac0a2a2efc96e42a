import Foundation
import Testing

/// An HS256 key of 64 hex characters (the app wants at least 32 bytes).
private let jwtKey = "6f1c2a9e3b7d4c5a8e0f1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"

/// `deployPipeline()` with `lines` added to the deploy stage's `with:`, and, with
/// `secret`, that secret declared from the environment and listed by the stage.
private func pipeline(adding lines: String, secret: (name: String, env: String)? = nil) -> String {
    var text = deployPipeline().replacingOccurrences(of: "      promote: production\n",
                                                     with: "      promote: production\n" + lines)
    if let secret {
        text = text.replacingOccurrences(of: "stages:\n", with: "secrets:\n  \(secret.name): { env: \(secret.env) }\nstages:\n")
        let template = "      template: \(sourceRoot)/templates/serving/python\n"
        text = text.replacingOccurrences(of: template, with: template + "    secrets: [\(secret.name)]\n")
    }
    return text
}

@Suite("kind: deploy, local target: bearer token and TLS", .serialized)
struct DeployAuthTests {
    @Test("with `token:`, a request without the bearer token gets 401 and one with a valid HS256 JWT gets 200")
    func bearerToken() throws {
        let fixture = try DeployRepo(pipeline: pipeline(adding: "      token: SERVING_TOKEN\n",
                                                        secret: ("SERVING_TOKEN", "TEST_SERVING_TOKEN")))
        defer { fixture.stopAll() }
        var environment = fixture.environment
        environment["TEST_SERVING_TOKEN"] = jwtKey
        let result = try fixture.repo.mlpipe(arguments: ["run", "--param", "scale=1"], env: environment, timeout: 180)
        #expect(result.status == 0, "\(result)")
        #expect(!(result.stdout + result.stderr).contains(jwtKey))
        let endpoint = try #require(try fixture.repo.stages()["deploy"]?["results"] as? [String: Any])["endpoint"]
        let url = try #require(endpoint as? String) + "/v2/models/scaler/infer"
        let script = """
            import json, sys, time, urllib.error, urllib.request, jwt
            url, key = sys.argv[1], sys.argv[2]
            body = json.dumps({'inputs': [{'name': 'X', 'datatype': 'FP32', 'shape': [1, 4], 'data': [1, 2, 3, 4]}]}).encode()
            def status(headers):
                request = urllib.request.Request(url, body, {'Content-Type': 'application/json', **headers})
                try:
                    return urllib.request.urlopen(request, timeout=10).status
                except urllib.error.HTTPError as error:
                    return error.code
            good = jwt.encode({'sub': 'smoke', 'exp': int(time.time()) + 300}, key, algorithm='HS256')
            wrong = jwt.encode({'sub': 'smoke', 'exp': int(time.time()) + 300}, 'x' * 64, algorithm='HS256')
            print(status({}), status({'Authorization': 'Bearer ' + wrong}), status({'Authorization': 'Bearer ' + good}))
            """
        let probe = try runProcess(servingVenv + "/bin/python", ["-c", script, url, jwtKey], in: fixture.repo.root)
        #expect(probe.status == 0, "\(probe)")
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "401 401 200", "\(probe)")
    }

    @Test("with `tls:`, the service answers over https with the certificate it was given")
    func https() throws {
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: certificates, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: certificates) }
        let cert = certificates.appendingPathComponent("tls.crt").path
        let key = certificates.appendingPathComponent("tls.key").path
        let made = try runProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], in: certificates.path)
        try #require(made.status == 0, "\(made)")

        let fixture = try DeployRepo(pipeline: pipeline(adding: "      tls: { cert: \(cert), key: \(key) }\n"))
        defer { fixture.stopAll() }
        let result = try fixture.repo.mlpipe(arguments: ["run", "--param", "scale=1"], env: fixture.environment,
                                             timeout: 180)
        #expect(result.status == 0, "\(result)")
        let endpoint = try #require(try fixture.repo.stages()["deploy"]?["results"] as? [String: Any])["endpoint"]
        let url = try #require(endpoint as? String)
        #expect(url.hasPrefix("https://127.0.0.1:"))
        #expect(try fixture.deployments().first?["endpoint"] as? String == url)
        // Verified against the given certificate as the only CA, and the certificate the
        // server presents compared byte for byte with it.
        let script = """
            import json, socket, ssl, sys, urllib.parse, urllib.request
            url, cert = sys.argv[1], sys.argv[2]
            context = ssl.create_default_context(cafile=cert)
            parts = urllib.parse.urlsplit(url)
            with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
                    presented = tls.getpeercert(binary_form=True)
            given = ssl.PEM_cert_to_DER_cert(open(cert).read())
            ready = urllib.request.urlopen(url + '/v2/health/ready', context=context, timeout=10).status
            print(presented == given, ready)
            """
        let probe = try runProcess(servingVenv + "/bin/python", ["-c", script, url, cert], in: fixture.repo.root)
        #expect(probe.status == 0, "\(probe)")
        #expect(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "True 200", "\(probe)")
        let plain = try runProcess(servingVenv + "/bin/python", ["-c", """
            import sys, urllib.request
            try:
                urllib.request.urlopen(sys.argv[1].replace('https://', 'http://') + '/v2/health/ready', timeout=5)
                print('plain http answered')
            except Exception as error:
                print('refused')
            """, url], in: fixture.repo.root)
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "refused", "\(plain)")
    }
}
