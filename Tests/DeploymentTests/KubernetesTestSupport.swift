import Foundation
import TestSupport
import PipelineSpec
@testable import Deployment

/// A deploy kind whose `with:` holds only the two Kubernetes targets' settings, so that
/// the specs are read by mlpipe's own settings decoder, as `mlpipe lint` reads them.
struct KubernetesTestSettings: KindSettings {
    var kubernetes: KubernetesSpec?
    var knative: KnativeSpec?
}

enum KubernetesFixtures {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The Python venv with kubernetes-validate and jsonschema: $MLPIPE_VENV, else workspace/venv.
    static var venv: String {
        ProcessInfo.processInfo.environment["MLPIPE_VENV"] ?? root.appendingPathComponent("workspace/venv").path
    }

    /// The Kubernetes version the core manifests are validated for.
    static let kubernetesVersion = "1.30.0"

    /// The model the tests deploy.
    static let workload = KubernetesWorkload(
        name: "iris", version: "3",
        image: "registry.example.com/ml/iris@sha256:" + String(repeating: "ab", count: 32))

    /// The example spec of templates/kubernetes: every setting.
    static func exampleText() throws -> String {
        try String(contentsOf: root.appendingPathComponent("templates/kubernetes/example.yaml"), encoding: .utf8)
    }

    /// The smallest spec there is: resources only.
    static let minimalText = """
        kubernetes:
          resources:
            requests: { cpu: 250m, memory: 256Mi }
            limits: { cpu: "1", memory: 512Mi }
        knative:
          resources:
            requests: { cpu: 250m, memory: 256Mi }
            limits: { cpu: "1", memory: 512Mi }
        """

    /// `with` as a pipeline file `pipeline.yaml` with one deploy stage; `with` starts at line 7,
    /// indented by 6.
    static func pipeline(with text: String, params: String? = nil) -> String {
        let indented = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "      " + $0 }.joined(separator: "\n")
        let header = params.map { "version: 1\nname: k8s\nparams: \($0)\n" } ?? "version: 1\nname: k8s\n"
        return header + "stages:\n  deploy:\n    kind: deploy\n    with:\n" + indented + "\n"
    }

    static let kinds = ["deploy": KindSchema(name: "deploy", settings: KubernetesTestSettings.self, cachedByDefault: false)]

    /// The diagnostics `mlpipe lint` would print for `with` (empty when it is fine).
    static func lint(_ text: String, params: String? = nil) -> [String] {
        do {
            _ = try PipelineLoader.parse(source: pipeline(with: text, params: params), file: "pipeline.yaml", kinds: kinds,
                                         secretProviders: ["env"])
            return []
        } catch {
            return error.diagnostics.map(\.rendered)
        }
    }

    /// The settings decoded as a stage start decodes them.
    static func settings(_ text: String) throws -> KubernetesTestSettings {
        let pipeline = try PipelineLoader.parse(source: pipeline(with: text), file: "pipeline.yaml", kinds: kinds,
                                                secretProviders: ["env"])
        guard let stage = pipeline.stages.first(where: { $0.name == "deploy" }) else {
            throw SettingsFailure(diagnostics: [])
        }
        let values = stage.with.compactMapValues(\.literal)
        return try SettingsDecoder.decode(KubernetesTestSettings.self, from: values, of: stage)
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `executable` with `arguments`; its exit status and output (stdout and stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runTool(executable, arguments)
    }
}
