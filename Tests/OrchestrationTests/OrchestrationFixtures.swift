import Foundation
import TestSupport
import Orchestration
import PipelineSpec
import Yams

enum OrchestrationFixtures {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/OrchestrationTests/Fixtures")

    /// The Python venv with kubernetes-validate and jsonschema: $MLPIPE_VENV, else workspace/venv.
    static var venv: String {
        ProcessInfo.processInfo.environment["MLPIPE_VENV"] ?? root.appendingPathComponent("workspace/venv").path
    }

    static let commit = "0123456789abcdef0123456789abcdef01234567"
    static let source = SourceCheckout(repository: "https://git.example.com/team/sweep.git", commit: commit)
    static let settings = PodSettings(image: "registry.example.com/mlpipe:0.1.0", namespace: "ml",
                                      serviceAccount: "mlpipe-runner")

    static func quantity(_ text: String) -> ResourceQuantity? { ResourceQuantity(text) }

    /// Three stages: prepare, a GPU training with a deadline and retries, and an
    /// evaluation with a secret.
    static var tasks: [PodTask] {
        [
            PodTask(stage: "prepare", name: "prepare",
                    arguments: ["run", "pipelines/sweep.yaml", "--only", "prepare", "--cached-upstream",
                                "--remote", "s3://team-cache/mlpipe", "--remote-required"]),
            PodTask(stage: "train[lr=0.1]", name: "train-lr-0-1", dependencies: ["prepare"],
                    arguments: ["run", "pipelines/sweep.yaml", "--only", "train[lr=0.1]", "--cached-upstream",
                                "--remote", "s3://team-cache/mlpipe", "--remote-required"],
                    environment: ["MLPIPE_STORE": "postgresql://mlpipe@db/mlpipe"],
                    timeout: 599.5, retries: 2,
                    resources: StageResources(requests: ResourceAmounts(cpu: quantity("500m"), memory: quantity("1Gi")),
                                              limits: ResourceAmounts(cpu: quantity("2"), memory: quantity("2Gi"), gpu: 1)),
                    nodeSelector: ["nvidia.com/gpu.present": "true"]),
            PodTask(stage: "evaluate", name: "evaluate", dependencies: ["train-lr-0-1"],
                    arguments: ["run", "pipelines/sweep.yaml", "--only", "evaluate"],
                    secrets: [SecretReference(variable: "API_TOKEN", secret: "mlpipe-sweep", key: "API_TOKEN"),
                              SecretReference(variable: "AWS_ACCESS_KEY_ID", secret: "mlpipe-sweep",
                                              key: "AWS_ACCESS_KEY_ID", optional: true)]),
        ]
    }

    /// The YAML as nested dictionaries and arrays.
    static func tree(_ yaml: String) throws -> [String: Any] {
        try Yams.load(yaml: yaml) as? [String: Any] ?? [:]
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-orch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `executable` with `arguments`; its exit status and output (stdout and stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runTool(executable, arguments)
    }

    /// Writes `text` to NAME in a new temporary folder; the folder and the file's path.
    static func write(_ text: String, as name: String) throws -> (folder: URL, path: String) {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return (folder, file.path)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The value at a dotted path of keys and list indexes: `spec.templates.1.name`.
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") {
            if let index = Int(part), let list = current as? [Any] {
                current = index < list.count ? list[index] : nil
            } else {
                current = (current as? [String: Any])?[String(part)]
            }
        }
        return current
    }
}
