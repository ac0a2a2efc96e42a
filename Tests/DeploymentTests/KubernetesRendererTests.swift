import Foundation
import Testing
@testable import Deployment

@Suite("KubernetesRenderer: manifests that run a model version on a cluster")
struct KubernetesRendererTests {
    static func full() throws -> KubernetesSpec {
        try #require(try KubernetesFixtures.settings(try KubernetesFixtures.exampleText()).kubernetes)
    }

    static func minimal() throws -> KubernetesSpec {
        try #require(try KubernetesFixtures.settings(KubernetesFixtures.minimalText).kubernetes)
    }

    static func file(_ rendering: KubernetesRendering, _ name: String) throws -> String {
        try #require(rendering.manifests.first { $0.fileName == name }).text
    }

    @Test("the same spec gives the same bytes, and every manifest's file is ranked in apply order")
    func deterministic() throws {
        let first = try KubernetesRenderer.render(try Self.full(), for: KubernetesFixtures.workload)
        let second = try KubernetesRenderer.render(try Self.full(), for: KubernetesFixtures.workload)
        #expect(first == second)
        #expect(first.manifests.map(\.fileName) == [
            "00-serviceaccount.yaml", "01-role.yaml", "02-rolebinding.yaml", "10-deployment.yaml", "11-service.yaml",
            "20-horizontalpodautoscaler.yaml", "21-poddisruptionbudget.yaml", "22-networkpolicy.yaml",
            "30-httproute.yaml", "31-peerauthentication.yaml", "32-authorizationpolicy.yaml", "40-servicemonitor.yaml",
        ])
        #expect(first.serviceHost == "iris.ml.svc.cluster.local")
        #expect(first.endpoint.description == "http://iris.ml.svc.cluster.local:8080")
        #expect(first.rolloutResource == "deployment/iris")
    }

    @Test("a minimal spec gives the core objects only, in the default namespace, with one replica")
    func minimalSpec() throws {
        let rendering = try KubernetesRenderer.render(try Self.minimal(), for: KubernetesFixtures.workload)
        #expect(rendering.manifests.map(\.kind) == [
            "ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor",
        ])
        #expect(rendering.serviceHost == "iris.default.svc.cluster.local")
        let deployment = try Self.file(rendering, "10-deployment.yaml")
        #expect(deployment.contains("\n  replicas: 1\n"))
        // Default deny: the policy selects the pods and admits nothing.
        #expect(try Self.file(rendering, "22-networkpolicy.yaml").hasSuffix("  policyTypes:\n  - Ingress\n  ingress: []\n"))
    }

    @Test("the Deployment runs the image by digest, non-root, read-only, without capabilities, with limits and probes")
    func deployment() throws {
        let text = try Self.file(try KubernetesRenderer.render(try Self.full(), for: KubernetesFixtures.workload),
                                 "10-deployment.yaml")
        for line in [
            "        image: \"registry.example.com/ml/iris@sha256:\(String(repeating: "ab", count: 32))\"\n",
            "        readinessProbe:\n          httpGet:\n            path: /v2/health/ready\n            port: http\n",
            "        livenessProbe:\n          httpGet:\n            path: /v2/health/live\n            port: http\n",
            "          limits:\n            cpu: \"2\"\n            memory: \"2Gi\"\n            nvidia.com/gpu: 1\n",
            "          requests:\n            cpu: \"500m\"\n            memory: \"512Mi\"\n",
            "        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n"
                + "          runAsNonRoot: true\n          capabilities:\n            drop:\n            - ALL\n"
                + "          seccompProfile:\n            type: RuntimeDefault\n",
            "      nodeSelector:\n        nvidia.com/gpu.present: \"true\"\n",
            "      tolerations:\n      - key: nvidia.com/gpu\n        operator: Exists\n        effect: NoSchedule\n",
            "        volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n",
            "        vault.hashicorp.com/agent-inject: \"true\"\n"
                + "        vault.hashicorp.com/agent-inject-secret-feature-store: secret/data/ml/feature-store\n"
                + "        vault.hashicorp.com/role: iris\n",
        ] {
            #expect(text.contains(line), "missing:\n\(line)")
        }
        // The HPA owns the replica count.
        #expect(!text.contains("replicas:"))
    }

    @Test("the Role can get exactly the named Secrets and nothing else")
    func role() throws {
        let rendering = try KubernetesRenderer.render(try Self.full(), for: KubernetesFixtures.workload)
        #expect(try Self.file(rendering, "01-role.yaml").hasSuffix("""
            rules:
            - apiGroups:
              - ""
              resources:
              - secrets
              resourceNames:
              - iris-auth
              verbs:
              - get

            """))
    }

    @Test("no secret value can reach a manifest: every variable but mlpipe's own comes from a Secret reference")
    func secretsByReference() throws {
        var spec = try Self.full()
        spec.secrets.append(.init(env: "DATABASE_PASSWORD", secret: "db", key: "password"))
        let rendering = try KubernetesRenderer.render(spec, for: KubernetesFixtures.workload)
        let deployment = try Self.file(rendering, "10-deployment.yaml")
        let values = deployment.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("value:") }
        #expect(values.map { $0.trimmingCharacters(in: .whitespaces) } == ["value: \"3\"", "value: \"8080\""])
        #expect(deployment.contains("""
                    - name: DATABASE_PASSWORD
                      valueFrom:
                        secretKeyRef:
                          name: db
                          key: password
            """))
        #expect(try Self.file(rendering, "01-role.yaml").contains("  resourceNames:\n  - db\n  - iris-auth\n"))
    }

    @Test("an image named by tag, a name that is not a Service name, or a bad version is refused with the fix")
    func badWorkload() throws {
        let spec = try Self.minimal()
        #expect(throws: KubernetesError.self) {
            try KubernetesRenderer.render(spec, for: KubernetesWorkload(name: "iris", version: "3", image: "ml/iris:latest"))
        }
        do {
            _ = try KubernetesRenderer.render(spec, for: KubernetesWorkload(name: "iris", version: "3", image: "ml/iris:3"))
        } catch {
            #expect(error.description.contains("name the image by digest, REGISTRY/REPO@sha256:HEX"))
        }
        for (name, version) in [("Iris", "3"), ("1iris", "3"), ("iris", "v 3")] {
            #expect(throws: KubernetesError.self) {
                try KubernetesRenderer.render(spec, for: KubernetesWorkload(name: name, version: version,
                                                                           image: KubernetesFixtures.workload.image))
            }
        }
    }

    @Test("writing a rendering replaces the manifests of an earlier one and keeps other files")
    func rewrite() throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try KubernetesRenderer.render(try Self.full(), for: KubernetesFixtures.workload).write(to: folder)
        try Data("# mine\n".utf8).write(to: folder.appendingPathComponent("notes.yaml"))
        let minimal = try KubernetesRenderer.render(try Self.minimal(), for: KubernetesFixtures.workload)
        try minimal.write(to: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == (minimal.manifests.map(\.fileName) + ["notes.yaml"]).sorted())
        #expect(try String(contentsOf: folder.appendingPathComponent("10-deployment.yaml"), encoding: .utf8)
                == minimal.manifests.first { $0.kind == "Deployment" }?.text)
    }

    @Test("strings that YAML would read as something else are quoted, and read back as the same string")
    func quoting() throws {
        let hostile = ["yes", "No", "null", "~", "1", "0x1F", "1e3", ".inf", "a: b", "- x", "#c", "'q'", "\"d\"",
                       "line\nbreak", "tab\there", "\u{85}nel", "\u{2028}", "\u{FEFF}bom", "\u{7F}", "émoji 🎉", ""]
        let document = ManifestNode.map(hostile.enumerated().map { ("k\($0.offset)", .string($0.element)) })
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("doc.yaml")
        try Data(document.yaml.utf8).write(to: file)
        let python = KubernetesFixtures.venv + "/bin/python3"
        let result = try KubernetesFixtures.run(python, ["-c", """
            import json, sys, yaml
            data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
            print(json.dumps([data["k%d" % i] for i in range(len(data))]))
            """, file.path])
        #expect(result.status == 0, "\(result.output)")
        let decoded = try JSONDecoder().decode([String].self, from: Data(result.output.utf8))
        #expect(decoded == hostile)
        #expect(ManifestNode.scalar("ml-serving") == "ml-serving" && ManifestNode.scalar("yes") == "\"yes\"")
    }
}
