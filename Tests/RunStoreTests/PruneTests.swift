import Foundation
import TestSupport
import GRDB
import Testing
@testable import RunStore

@Suite("Pruned runs")
struct PruneTests {
    /// Both stores, so that the engine's unit tests (in memory) see what users see (SQLite).
    static let kinds = ["sqlite", "memory"]

    func makeAnyStore(_ kind: String) throws -> (TemporaryFolder?, any RunStore) {
        if kind == "memory" { return (nil, InMemoryRunStore()) }
        let (folder, store) = try makeStore()
        return (folder, store)
    }

    /// Runs #1…#6: #1 succeeded (ended at 10), #2 failed (20), #3 succeeded (30),
    /// #4 interrupted (ended at 35, when it started), #5 failed (50), #6 running.
    func history(_ store: any RunStore) async throws {
        let ends: [(RunStatus, Double?)] = [(.succeeded, 10), (.failed, 20), (.succeeded, 30), (.interrupted, nil),
                                            (.failed, 50), (.running, nil)]
        for (offset, (status, end)) in ends.enumerated() {
            let id = try await store.createRun(sampleRun(startedAt: moment(Double(offset * 10 + 5))), stages: [])
            if status != .running {
                try await store.finishRun(id: id, status: status, finishedAt: moment(end ?? Double(offset * 10 + 5)))
            }
        }
    }

    func picked(_ store: any RunStore, _ selection: PruneSelection) async throws -> [Int64] {
        try await store.runsToPrune(selection).compactMap(\.id)
    }

    @Test("every finished run is picked, oldest first, and a running one never", arguments: kinds)
    func picksFinishedRuns(kind: String) async throws {
        let (folder, store) = try makeAnyStore(kind)
        _ = folder
        try await history(store)
        #expect(try await picked(store, PruneSelection()) == [1, 2, 3, 4, 5])
        #expect(try await picked(store, PruneSelection(status: .running)) == [])
        #expect(try await store.runsToPrune(PruneSelection()).allSatisfy { $0.pipelineSource.isEmpty })
    }

    @Test("keep spares the newest finished runs of the status given", arguments: kinds)
    func keepSparesNewest(kind: String) async throws {
        let (folder, store) = try makeAnyStore(kind)
        _ = folder
        try await history(store)
        #expect(try await picked(store, PruneSelection(keep: 1)) == [1, 2, 3, 4])
        #expect(try await picked(store, PruneSelection(keep: 2)) == [1, 2, 3])
        #expect(try await picked(store, PruneSelection(keep: 0)) == [1, 2, 3, 4, 5])
        #expect(try await picked(store, PruneSelection(keep: 1, status: .failed)) == [2])
        #expect(try await picked(store, PruneSelection(keep: 9)) == [])
    }

    @Test("an age picks the runs that ended before it", arguments: kinds)
    func ageUsesEndTime(kind: String) async throws {
        let (folder, store) = try makeAnyStore(kind)
        _ = folder
        try await history(store)
        #expect(try await picked(store, PruneSelection(endedBefore: moment(30))) == [1, 2])
        #expect(try await picked(store, PruneSelection(endedBefore: moment(36))) == [1, 2, 3, 4])
        #expect(try await picked(store, PruneSelection(keep: 3, endedBefore: moment(36))) == [1, 2])
    }

    @Test("marking runs pruned records when, once, leaves running and unknown runs alone, and keeps the record listed", arguments: kinds)
    func markPruned(kind: String) async throws {
        let (folder, store) = try makeAnyStore(kind)
        _ = folder
        try await history(store)

        #expect(try await store.markPruned(runIDs: [1, 3, 6, 99], at: moment(100)) == [1, 3])
        #expect(try await store.markPruned(runIDs: [1, 2], at: moment(200)) == [2])

        #expect(try await store.run(id: 1)?.prunedAt == moment(100))
        #expect(try await store.run(id: 2)?.prunedAt == moment(200))
        #expect(try await store.run(id: 6)?.prunedAt == nil)
        #expect(try await store.run(id: 6)?.status == .running)
        let listed = try await store.runs(RunFilter(limit: 0))
        #expect(listed.map(\.id) == [6, 5, 4, 3, 2, 1])
        #expect(listed.map { $0.prunedAt != nil } == [false, false, false, true, true, true])
        #expect(try await picked(store, PruneSelection()) == [4, 5])
    }

    @Test("a database from before pruning gains pruned_at through its own named migration, and its runs read as not pruned")
    func migratesOlderDatabase() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("mlpipe.db")
        // The schema as the previous release left it: every migration before v3.
        do {
            let queue = try DatabaseQueue(path: path)
            var previous = DatabaseMigrator()
            previous.registerMigration("v1 runs, stages, outputs, cache entries", migrate: Schema.createRunHistory)
            previous.registerMigration("v2 stage results and warnings, cache entry results", migrate: Schema.addResults)
            try previous.migrate(queue)
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO run (pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, \
                    triggered_by, status, started_at, finished_at, version, host, pid, pid_start_time, params_json, \
                    pipeline_source) VALUES ('iris', 'pipelines/iris.yaml', 'sha256:ab', 'c0ffee', 'main', 0, 'cli', \
                    'succeeded', 1700000000, 1700000009, '0.1.0', 'build-host', 1, 1, '{}', 'version: 1')
                    """)
            }
        }

        let store = try SQLiteRunStore(path: path)

        #expect(try store.run(id: 1)?.prunedAt == nil)
        #expect(try store.runs(RunFilter()).map(\.prunedAt) == [nil])
        #expect(try store.markPruned(runIDs: [1], at: moment(100)) == [1])
        #expect(try store.run(id: 1)?.prunedAt == moment(100))
        #expect(try store.run(id: 1)?.pipelineSource == "version: 1")
        let applied = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
        #expect(applied.contains("v3 run.pruned_at"))
    }
}
