import Foundation
@testable import RunStore

/// A folder under the system's temporary folder, removed with its content when
/// the last reference goes.
final class TemporaryFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("runstore-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A store on a new file in a new temporary folder; keep the folder alive as
/// long as the store.
func makeStore() throws -> (TemporaryFolder, SQLiteRunStore) {
    let folder = try TemporaryFolder()
    return (folder, try SQLiteRunStore(path: folder.file("workspace/mlpipe.db")))
}

/// A time that survives the round trip exactly (whole and half seconds are
/// exact in binary), `seconds` after a fixed moment.
func moment(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: 1_700_000_000 + seconds)
}

/// A running run of `pipeline`, as the engine would create it.
func sampleRun(
    pipeline: String = "iris", status: RunStatus = .running, startedAt: Date = moment(0),
    host: String = "build-host", pid: Int32 = 4242, pidStartTime: Int64 = 777,
    paramsJSON: String = #"{"min_accuracy":0.9}"#, parentRun: Int64? = nil
) -> RunRecord {
    RunRecord(
        pipeline: pipeline, pipelineFile: "pipelines/\(pipeline).yaml",
        pipelineSource: "version: 1\nname: \(pipeline)\nstages: {}\n",
        pipelineDigest: "sha256:" + String(repeating: "ab", count: 32),
        paramsJSON: paramsJSON, commit: String(repeating: "c0ffee", count: 6) + "c0ff",
        branch: "main", dirty: false, trigger: .cli, parentRun: parentRun, status: status,
        startedAt: startedAt, version: "0.1.0", host: host, pid: pid, pidStartTime: pidStartTime)
}

/// Planned (pending) stages named `names`, in that order.
func plannedStages(_ names: [String] = ["train", "validate", "serialize"]) -> [StageRecord] {
    names.enumerated().map { StageRecord(name: $0.element, kind: $0.offset == 0 ? "command" : $0.element, position: $0.offset) }
}

/// An output of `stage` in run `runID`.
func sampleOutput(runID: Int64, stage: String, name: String, digest: String = "sha256:1111", size: Int64 = 10) -> OutputRecord {
    OutputRecord(runID: runID, stage: stage, name: name, digest: digest, kind: "file", size: size, path: "runs/\(runID)/\(stage)/\(name)")
}
