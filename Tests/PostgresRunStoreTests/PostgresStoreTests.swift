import Foundation
import PostgresRunStore
import RunStore
import Synchronization
import TestSupport
import Testing

/// What a shared store adds to the contract: one schema for every runner, locks and
/// leases that hold across machines, and a password that never shows.
@Suite("The PostgreSQL run store")
struct PostgresStoreTests {
    /// The identifiers `schema_migrations` holds once a database is migrated: SQLite's,
    /// then the PostgreSQL-only ones.
    static let identifiers = [
        "v1 runs, stages, outputs, cache entries", "v2 stage results and warnings, cache entry results",
        "v3 run.pruned_at", "v4 model registry: models, versions, alias moves", "v5 deployments",
        "v6 serve: runs by branch and commit", "v9 run names and notes", "pg1 run leases", "v10 webhook trigger queue",
        "v11 run keys, stage hosts",
    ]

    @Test("runners that open a new database at the same moment apply each migration once, and all can write")
    func migrationsOnce() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let location = try PostgresLocation(url: server.url(database))
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let store = try await PostgresRunStore.open(location)
                    return try await store.createRun(sampleRun(status: .succeeded), stages: plannedStages())
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ids) == Set(1...6))
        let applied = try server.psql(database, "SELECT identifier FROM schema_migrations ORDER BY identifier")
        #expect(applied.split(separator: "\n").map(String.init) == Self.identifiers.sorted())
        // Opening a migrated database applies nothing again.
        _ = try await PostgresRunStore.open(location)
        #expect(try server.psql(database, "SELECT COUNT(*) FROM schema_migrations") == String(Self.identifiers.count))
    }

    @Test("every table has the columns of its SQLite twin, and run adds only its lease")
    func sameColumns() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        _ = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
        let folder = try TemporaryFolder()
        _ = try SQLiteRunStore(path: folder.file("mlpipe.db"))
        for table in ["run", "stage", "output", "cache_entry", "run_note", "model", "model_version", "model_alias_move", "deployment"] {
            let sqlite = try PostgresServer.run("/usr/bin/sqlite3", [folder.file("mlpipe.db"), "SELECT name FROM pragma_table_info('\(table)')"],
                                                in: folder.path)
            let postgres = try server.psql(database, """
                SELECT column_name FROM information_schema.columns WHERE table_name = '\(table)' ORDER BY ordinal_position
                """)
            var expected = sqlite.split(separator: "\n").map(String.init)
            if table == "run" { expected.append("lease_until") }
            #expect(postgres.split(separator: "\n").map(String.init) == expected, "table \(table)")
        }
    }

    @Test("two stores on one database, as two machines, see each other's runs, and their ids never collide")
    func sharedHistory() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let location = try PostgresLocation(url: server.url(database))
        let first = try await PostgresRunStore.open(location)
        let second = try await PostgresRunStore.open(location)
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (store, host) in [(first, "runner-a"), (second, "runner-b")] {
                group.addTask {
                    var ids: [Int64] = []
                    for _ in 0..<20 {
                        ids.append(try await store.createRun(sampleRun(status: .succeeded, host: host), stages: plannedStages()))
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == 40)
        #expect(try await first.runCount() == 40)
        #expect(Set(try await second.runs(RunFilter(limit: 0)).map(\.host)) == ["runner-a", "runner-b"])
    }

    @Test("a key locked by one runner keeps a second process out until it is released")
    func advisoryLockAcrossProcesses() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let store = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
        let key = "sha256:" + String(repeating: "5e", count: 32)
        let tryLock = "SELECT pg_try_advisory_lock(hashtextextended('\(key)', 0))"

        let held = try await store.advisoryLocks.lock(key)
        #expect(try server.psql(database, tryLock) == "f", "psql, another process, cannot take the key")
        #expect(try server.psql(database, "SELECT pg_try_advisory_lock(hashtextextended('sha256:other', 0))") == "t")
        held.release()
        #expect(try await eventually(within: 60) { try server.psql(database, tryLock) == "t" })
    }

    @Test("a runner waits for a key another process holds, and takes it when that process dies")
    func waitsForDeadHolder() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let store = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
        let key = "sha256:" + String(repeating: "77", count: 32)

        // Another runner: psql holding the key on an idle connection (as a runner's lock
        // connection is), waiting for more commands on a pipe the test keeps open.
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        let holder = try PostgresServer.spawn(server.bin + "/psql", [
            "-h", server.folder, "-p", String(server.port), "-U", PostgresServer.user, "-d", database,
        ], in: server.folder, stdin: pipeEnds[0])
        close(pipeEnds[0])
        let command = "SELECT pg_advisory_lock(hashtextextended('\(key)', 0));\n"
        #expect(command.withCString { write(pipeEnds[1], $0, strlen($0)) } == command.utf8.count)
        var reaped = false
        func killHolder() {
            guard !reaped else { return }
            kill(holder, SIGKILL)
            var status: Int32 = 0
            while waitpid(holder, &status, 0) < 0 && errno == EINTR {}
            close(pipeEnds[1])
            reaped = true
        }
        defer { killHolder() }
        let heldByOther = try await eventually(within: 60) {
            try server.psql(database, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") == "1"
        }
        try #require(heldByOther)

        let taken = Flag()
        let waiter = Task {
            let lock = try await store.advisoryLocks.lock(key)
            taken.set()
            return lock
        }
        // The wait must last: half a second in which the lock is not taken.
        try await Task.sleep(for: .milliseconds(500))
        #expect(!taken.isSet, "the key is held by the other process")
        killHolder()
        let started = Date()
        let lock = try await waiter.value
        // Seconds on a loaded machine; a server that waited for TCP keepalive to notice
        // would take two hours.
        #expect(Date().timeIntervalSince(started) < 60, "the server freed the key when its holder died")
        #expect(taken.isSet)
        lock.release()
    }

    @Test("a wait for a held key ends when its task is cancelled")
    func cancelledWait() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let store = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
        let held = try await store.advisoryLocks.lock("k")
        let waiter = Task { try await store.advisoryLocks.lock("k") }
        try await Task.sleep(for: .milliseconds(200))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        held.release()
    }

    /// The test process runs many tests on few threads, so a task can wait seconds for
    /// one: nothing here depends on a beat arriving in time. The live run's lease outlasts
    /// the test, and its heartbeat is seen by the lease moving forward.
    @Test("a run whose lease expired is marked interrupted whatever its host; a heartbeat moves a live run's lease forward")
    func leaseExpiry() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let location = try PostgresLocation(url: server.url(database))
        let alive = try await PostgresRunStore.open(location, heartbeatPeriod: .milliseconds(200), leaseDuration: .seconds(300))
        // A runner that stops renewing, as one that died would.
        let dying = try await PostgresRunStore.open(location, heartbeatPeriod: .seconds(3600), leaseDuration: .seconds(8))

        let live = try await alive.createRun(sampleRun(host: "runner-a"), stages: plannedStages())
        let created = Date()
        let dead = try await dying.createRun(sampleRun(startedAt: moment(0), host: "runner-b"), stages: plannedStages())
        try await dying.updateStage(StageRecord(runID: dead, name: "train", kind: "command", position: 0, status: .succeeded,
                                                startedAt: moment(1), finishedAt: moment(4)), outputs: nil)
        try await dying.updateStage(StageRecord(runID: dead, name: "validate", kind: "validate", position: 1, status: .running,
                                                startedAt: moment(4.5)), outputs: nil)
        var marked = try await alive.markInterruptedRuns(host: "runner-a", isAlive: { _, _ in true })
        // Only when this machine took less than the lease to get here can nothing have expired.
        if Date().timeIntervalSince(created) < 7 {
            #expect(marked == [], "no lease has run out yet")
        }

        let found = try await eventually(within: 60) {
            marked += try await alive.markInterruptedRuns(host: "runner-a", isAlive: { _, _ in true })
            return !marked.isEmpty
        }
        #expect(found)
        #expect(marked == [dead])
        #expect(try await alive.run(id: dead)?.status == .interrupted)
        #expect(try await alive.run(id: dead)?.finishedAt == moment(4.5))
        let stages = try await alive.stages(runID: dead)
        #expect(stages.map(\.status) == [.succeeded, .cancelled, .cancelled])
        #expect(stages.dropFirst().allSatisfy { $0.error == "run interrupted" })
        #expect(try await alive.run(id: live)?.status == .running)

        let leaseOfLive = "SELECT lease_until FROM run WHERE id = \(live)"
        let first = try #require(Double(try server.psql(database, leaseOfLive)))
        #expect(try await eventually(within: 60) { (Double(try server.psql(database, leaseOfLive)) ?? 0) > first },
                "the heartbeat renews the live run's lease")

        try await alive.finishRun(id: live, status: .succeeded, finishedAt: Date())
        #expect(try await alive.renewLease(runID: live) == false, "a finished run has no lease to renew")
    }

    @Test("the password comes from the URL or PGPASSWORD, and no error or description shows it")
    func passwordNeverShown() async throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let fromEnvironment = try PostgresLocation(url: server.url(database, withPassword: false),
                                                   environment: ["PGPASSWORD": PostgresServer.password])
        _ = try await PostgresRunStore.open(fromEnvironment)
        #expect("\(fromEnvironment)" == "postgresql://mlpipe@127.0.0.1:\(server.port)/\(database)")

        let wrong = try PostgresLocation(url: "postgresql://mlpipe:wrong-secret-9@127.0.0.1:\(server.port)/\(database)")
        let refused = await #expect(throws: RunStoreError.self) { try await PostgresRunStore.open(wrong) }
        #expect(refused?.code == .cannotOpen)
        let text = "\(refused.map { "\($0)" } ?? "") \(String(reflecting: refused))"
        #expect(!text.contains("wrong-secret-9"), "\(text)")
        #expect(text.contains("postgresql://mlpipe@127.0.0.1:\(server.port)/\(database)"), "\(text)")
        #expect(text.contains("PGPASSWORD"), "\(text)")

        let down = try PostgresLocation(url: "postgres://mlpipe:wrong-secret-9@127.0.0.1:\(try PostgresServer.freePort())/x")
        let unreachable = await #expect(throws: RunStoreError.self) { try await PostgresRunStore.open(down) }
        #expect(unreachable?.code == .cannotOpen)
        #expect(unreachable.map { "\($0)" }?.contains("check that PostgreSQL is running") == true)
        #expect(unreachable.map { "\($0)" }?.contains("wrong-secret-9") == false)

        let malformed = #expect(throws: RunStoreError.self) { try PostgresLocation(url: "postgresql://u:pw-secret@/db") }
        #expect(malformed?.code == .cannotOpen)
        #expect(malformed.map { "\($0)" }?.contains("pw-secret") == false)
        #expect(malformed.map { "\($0)" }?.contains("postgresql://u@/db") == true)
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
