import Foundation
import Testing
@testable import Deployment

/// No cluster runs here. What is checked instead: the core manifests with
/// kubernetes-validate (the API's OpenAPI schemas for one Kubernetes version, strict: no
/// unknown fields), and the custom resources with jsonschema against mlpipe's own schemas
/// of the fields it renders (Fixtures/schemas, written from the CRD releases its README
/// names). The published CRDs themselves are not in the repository: `make check-crds`
/// checks templates/kubernetes against them from clones of their projects.
@Suite("Kubernetes manifests pass kubernetes-validate and mlpipe's CRD-subset schemas")
struct KubernetesValidationTests {
    static let crdKinds: Set<String> = ["HTTPRoute", "PeerAuthentication", "AuthorizationPolicy", "ServiceMonitor"]

    /// Writes the full or minimal rendering (and its Knative Service) to a temporary folder.
    static func render(_ text: String) throws -> (folder: URL, core: [String], custom: [String]) {
        let settings = try KubernetesFixtures.settings(text)
        var rendering = try KubernetesRenderer.render(try #require(settings.kubernetes), for: KubernetesFixtures.workload)
        let knative = try KnativeRenderer.render(try #require(settings.knative), for: KubernetesFixtures.workload,
                                                 previousRevision: "iris-v2")
        rendering.manifests += knative.manifests.map { manifest in
            var manifest = manifest
            manifest.kind = "KnativeService"
            return manifest
        }
        let folder = try KubernetesFixtures.temporaryFolder()
        try rendering.write(to: folder)
        let path = { (manifest: RenderedManifest) in folder.appendingPathComponent(manifest.fileName).path }
        let custom = rendering.manifests.filter { Self.crdKinds.contains($0.kind) || $0.kind == "KnativeService" }
        let core = rendering.manifests.filter { !custom.contains($0) }
        return (folder, core.map(path), custom.map(path))
    }

    @Test("every core manifest of a full and a minimal spec passes kubernetes-validate for Kubernetes 1.30, strictly",
          arguments: ["full", "minimal"])
    func core(_ which: String) throws {
        let text = which == "full" ? try KubernetesFixtures.exampleText() : KubernetesFixtures.minimalText
        let rendered = try Self.render(text)
        defer { try? FileManager.default.removeItem(at: rendered.folder) }
        #expect(rendered.core.count == (which == "full" ? 8 : 5))
        let result = try KubernetesFixtures.run(KubernetesFixtures.venv + "/bin/kubernetes-validate",
                                                ["--strict", "-k", KubernetesFixtures.kubernetesVersion] + rendered.core)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: "INFO").count - 1 == rendered.core.count, "\(result.output)")
    }

    static let schemas = KubernetesFixtures.root.appendingPathComponent("Tests/DeploymentTests/Fixtures/schemas")
    static let checker = KubernetesFixtures.root.appendingPathComponent("Tests/DeploymentTests/Fixtures/check_crd_manifests.py")

    @Test("the Knative Service, HTTPRoute, Istio policies and ServiceMonitor pass mlpipe's schemas of their CRDs",
          arguments: ["full", "minimal"])
    func custom(_ which: String) throws {
        let text = which == "full" ? try KubernetesFixtures.exampleText() : KubernetesFixtures.minimalText
        let rendered = try Self.render(text)
        defer { try? FileManager.default.removeItem(at: rendered.folder) }
        #expect(rendered.custom.count == (which == "full" ? 5 : 2))
        let result = try KubernetesFixtures.run(KubernetesFixtures.venv + "/bin/python3",
                                                [Self.checker.path, Self.schemas.path] + rendered.custom)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: ": valid against").count - 1 == rendered.custom.count,
                "\(result.output)")
    }

    @Test("the CRD check catches a field its schema does not declare and a value of the wrong type")
    func checkerCatches() throws {
        let folder = try KubernetesFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("bad.yaml")
        try Data("""
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: { name: iris }
            spec:
              mtls: { mode: STRICTEST }
              selektor: {}

            """.utf8).write(to: bad)
        let wrongType = folder.appendingPathComponent("wrong-type.yaml")
        try Data("""
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: { name: iris, namespace: ml }
            spec:
              selector: { matchLabels: { app.kubernetes.io/name: iris } }
              endpoints: [{ port: 8080, path: /metrics }]

            """.utf8).write(to: wrongType)
        let result = try KubernetesFixtures.run(KubernetesFixtures.venv + "/bin/python3",
                                                [Self.checker.path, Self.schemas.path, bad.path, wrongType.path])
        #expect(result.status == 1)
        #expect(result.output.contains("spec.mtls.mode: 'STRICTEST' is not one of"), "\(result.output)")
        #expect(result.output.contains("spec: Additional properties are not allowed ('selektor' was unexpected)"),
                "\(result.output)")
        #expect(result.output.contains("spec.endpoints.0.port: 8080 is not of type 'string'"), "\(result.output)")
    }
}
