import Foundation
import TestSupport
import GRDB
import Testing
@testable import RunStore

@Suite("Several stores on one file")
struct ConcurrencyTests {
    @Test("stores opened at once on a new file all migrate it and write without a locked error")
    func concurrentWriters() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("workspace/mlpipe.db")
        let writers = 4, runsEach = 8, stageNames = ["prepare", "train", "validate", "serialize"]

        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let store = try SQLiteRunStore(path: path)
                    var ids: [Int64] = []
                    for run in 0..<runsEach {
                        let id = try store.createRun(sampleRun(pipeline: "p\(writer)", startedAt: moment(Double(run))),
                                                     stages: plannedStages(stageNames))
                        for (position, name) in stageNames.enumerated() {
                            var stage = StageRecord(runID: id, name: name, kind: "command", position: position, status: .running)
                            try store.updateStage(stage, outputs: nil)
                            stage.status = .succeeded
                            try store.updateStage(stage, outputs: [sampleOutput(runID: id, stage: name, name: "out")])
                        }
                        try store.finishRun(id: id, status: .succeeded, finishedAt: moment(Double(run) + 1))
                        ids.append(id)
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }

        let store = try SQLiteRunStore(path: path)
        #expect(Set(ids).count == writers * runsEach)
        #expect(try store.runCount() == writers * runsEach)
        #expect(try store.runs(RunFilter(status: .succeeded, limit: 0)).count == writers * runsEach)
        for id in ids {
            #expect(try store.stages(runID: id).map(\.status) == Array(repeating: .succeeded, count: stageNames.count))
            #expect(try store.outputs(runID: id).count == stageNames.count)
        }
    }

    @Test("reopening a migrated database writes nothing, so it succeeds while another process writes")
    func reopenDoesNotMigrate() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("mlpipe.db")
        let writer = try SQLiteRunStore(path: path)
        let id = try writer.createRun(sampleRun(), stages: plannedStages())

        // Hold the write lock as a long transaction of another process would.
        try writer.database.write { _ in
            let reader = try SQLiteRunStore(path: path, busyTimeout: .milliseconds(50))
            #expect(try reader.run(id: id)?.pipeline == "iris")
            #expect(try reader.stages(runID: id).count == 3)
        }
        let applied = try writer.database.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(applied == Schema.migrator.migrations, "each migration applied once, in order")
    }

    @Test("opening waits no longer than the busy timeout and says who holds the database")
    func busyOpen() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("mlpipe.db")
        // A database that still needs migrating, locked by another connection.
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            try db.execute(sql: "CREATE TABLE unrelated (x)")
        }
        try other.write { _ in
            let error = try #require(throws: RunStoreError.self) {
                try SQLiteRunStore(path: path, busyTimeout: .milliseconds(50))
            }
            #expect(error.code == .busy)
            #expect(error.description.hasPrefix("cannot open \(path): database is locked"))
            #expect(error.description.contains("another mlpipe process held the database for more than 0.05 s"))
        }
    }

    @Test("the database is in WAL mode with synchronous NORMAL")
    func walMode() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let (mode, synchronous) = try store.database.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(synchronous == 1)
    }

    @Test("closing the store leaves the WAL for a later checkpoint, and a new store reads what it holds")
    func walKeptOnClose() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("workspace/mlpipe.db")
        var id: Int64 = 0
        do {
            let store = try SQLiteRunStore(path: path)
            id = try store.createRun(sampleRun(), stages: plannedStages(["train"]))
        }
        // The store is gone; a checkpoint on close would have deleted the WAL.
        let wal = try FileManager.default.attributesOfItem(atPath: path + "-wal")
        #expect((wal[.size] as? Int ?? 0) > 0)
        let reopened = try SQLiteRunStore(path: path)
        #expect(try reopened.run(id: id)?.pipeline == "iris")
    }
}
