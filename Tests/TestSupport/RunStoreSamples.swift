import Foundation
import RunStore

// Records as the engine writes them, shared by the tests of both run stores (SQLite and
// PostgreSQL), so that one contract is checked with one set of samples.

/// A time that survives the round trip exactly (whole and half seconds are exact in
/// binary), `seconds` after a fixed moment.
public func moment(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: 1_700_000_000 + seconds)
}

/// A running run of `pipeline`, as the engine would create it.
public func sampleRun(
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
public func plannedStages(_ names: [String] = ["train", "validate", "serialize"]) -> [StageRecord] {
    names.enumerated().map { StageRecord(name: $0.element, kind: $0.offset == 0 ? "command" : $0.element, position: $0.offset) }
}

/// An output of `stage` in run `runID`.
public func sampleOutput(runID: Int64, stage: String, name: String, digest: String = "sha256:1111", size: Int64 = 10) -> OutputRecord {
    OutputRecord(runID: runID, stage: stage, name: name, digest: digest, kind: "file", size: size, path: "runs/\(runID)/\(stage)/\(name)")
}

/// A folder under the system's temporary folder, removed with its content when the last
/// reference goes.
public final class TemporaryFolder: Sendable {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
