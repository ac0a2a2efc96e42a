import Foundation
import Testing
@testable import Deployment

/// templates/kubernetes holds the example spec and what the renderer makes of it, as a
/// kustomize base a team can patch with overlays. This test keeps the two in step: it
/// fails when a rendered file differs, and rewrites them with MLPIPE_UPDATE_TEMPLATES=1.
@Suite("templates/kubernetes: the reference manifests are what the renderer writes")
struct KubernetesTemplatesTests {
    static let templates = KubernetesFixtures.root.appendingPathComponent("templates/kubernetes")

    /// Every file the example renders to, by its path under templates/kubernetes.
    static func expected() throws -> [String: String] {
        let settings = try KubernetesFixtures.settings(try KubernetesFixtures.exampleText())
        let kubernetes = try KubernetesRenderer.render(try #require(settings.kubernetes), for: KubernetesFixtures.workload)
        let knative = try KnativeRenderer.render(try #require(settings.knative), for: KubernetesFixtures.workload)
        var files: [String: String] = [:]
        for manifest in kubernetes.manifests { files["base/" + manifest.fileName] = manifest.text }
        for manifest in knative.manifests { files["knative/" + manifest.fileName] = manifest.text }
        let header = "# Generated from ../example.yaml by the renderer's tests; do not edit (patch it in an overlay).\n"
        files["base/kustomization.yaml"] = header + ManifestNode.map([
            ("apiVersion", .string("kustomize.config.k8s.io/v1beta1")),
            ("kind", .string("Kustomization")),
            ("resources", .strings(kubernetes.manifests.map(\.fileName))),
        ]).yaml
        return files
    }

    @Test("base/ and knative/ hold exactly the example's rendering")
    func inStep() throws {
        let expected = try Self.expected()
        if ProcessInfo.processInfo.environment["MLPIPE_UPDATE_TEMPLATES"] == "1" {
            for folder in ["base", "knative"] {
                try? FileManager.default.removeItem(at: Self.templates.appendingPathComponent(folder))
                try FileManager.default.createDirectory(at: Self.templates.appendingPathComponent(folder),
                                                        withIntermediateDirectories: true)
            }
            for (path, text) in expected {
                try Data(text.utf8).write(to: Self.templates.appendingPathComponent(path), options: .atomic)
            }
        }
        var present: [String] = []
        for folder in ["base", "knative"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: Self.templates.appendingPathComponent(folder).path)) ?? []
            present += names.map { folder + "/" + $0 }
        }
        #expect(present.sorted() == expected.keys.sorted(),
                "templates/kubernetes is out of date; run MLPIPE_UPDATE_TEMPLATES=1 swift test --filter KubernetesTemplatesTests")
        for (path, text) in expected.sorted(by: { $0.key < $1.key }) {
            let actual = try? String(contentsOf: Self.templates.appendingPathComponent(path), encoding: .utf8)
            #expect(actual == text, """
                templates/kubernetes/\(path) differs from the renderer's output; run \
                MLPIPE_UPDATE_TEMPLATES=1 swift test --filter KubernetesTemplatesTests
                """)
        }
    }
}
