import Foundation
import TestSupport
import Testing
import PostgresRunStore
import RunStore

/// (The samples of Tests/RunStoreTests/TestSupport.swift: test targets share no support target.)

/// A folder under the system's temporary folder, removed with its content when the last
/// reference goes.
final class TemporaryFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pgstore-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The two stores that keep the ``RunStore`` contract on disk.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }
}

/// A store of `kind` on a new, empty database, and what keeps it alive (a folder, a server).
struct StoreFixture {
    let store: any RunStore & CacheIndex
    let keepAlive: [AnyObject]

    init(_ kind: StoreKind) async throws {
        switch kind {
        case .sqlite:
            let folder = try TemporaryFolder()
            store = try SQLiteRunStore(path: folder.file("workspace/mlpipe.db"))
            keepAlive = [folder]
        case .postgresql:
            let server = try PostgresServer()
            let database = try server.createDatabase()
            store = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
            keepAlive = [server]
        }
    }
}

/// A time that survives the round trip exactly, `seconds` after a fixed moment.
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

/// Waits until `condition` holds or `deadline` seconds pass; returns whether it held.
func eventually(within deadline: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(deadline)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
