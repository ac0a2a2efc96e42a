import Foundation
import TestSupport
import GRDB
import Testing
@testable import RunStore

@Suite("Errors")
struct RunStoreErrorTests {
    static let secret = "hunter2-do-not-print"

    /// Everything a caller could print or log about an error.
    func everything(_ error: RunStoreError) -> String {
        var dumped = ""
        dump(error, to: &dumped)
        return [error.description, String(reflecting: error), "\(error)", dumped,
                error.cause.map { "\($0)" } ?? "", error.cause.map { String(reflecting: $0) } ?? ""]
            .joined(separator: "\n")
    }

    @Test("a failed insert says what is missing and never shows the values it bound")
    func noBoundValues() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let run = sampleRun(paramsJSON: #"{"token":"\#(Self.secret)"}"#, parentRun: 999)
        let error = try #require(throws: RunStoreError.self) { try store.createRun(run, stages: []) }
        #expect(error.code == .notFound)
        #expect(error.description == "cannot record a run of pipeline 'iris' in \(store.path): its parent run #999 does not exist; re-run a run that `mlpipe runs` lists")
        #expect(error.cause is DatabaseError)
        #expect(!everything(error).contains(Self.secret))
    }

    @Test("a stage of a run that does not exist is reported without its content")
    func stageOfMissingRun() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let stage = StageRecord(runID: 5, name: "train", kind: "command", position: 0, status: .failed, error: Self.secret)
        let error = try #require(throws: RunStoreError.self) { try store.updateStage(stage, outputs: nil) }
        #expect(error.code == .notFound)
        #expect(error.description.hasPrefix("cannot record stage 'train' of run #5 in "))
        #expect(error.description.hasSuffix(": there is no run #5; `mlpipe runs` lists the runs that exist"))
        #expect(!everything(error).contains(Self.secret))
    }

    @Test("a SQLite failure keeps GRDB's error as cause without its arguments")
    func sanitisedCause() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: plannedStages(["train"]))
        let stage = StageRecord(runID: id, name: "train", kind: "command", position: 0, status: .succeeded)
        let twice = [sampleOutput(runID: id, stage: "train", name: "model", digest: "sha256:" + Self.secret),
                     sampleOutput(runID: id, stage: "train", name: "model", digest: "sha256:" + Self.secret)]
        let error = try #require(throws: RunStoreError.self) { try store.updateStage(stage, outputs: twice) }
        #expect(error.code == .invalidRecord)
        #expect(error.description.contains("two outputs have the same name"))
        let cause = try #require(error.cause as? DatabaseError)
        #expect(cause.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY)
        #expect(cause.arguments == nil)
        #expect(!everything(error).contains(Self.secret))
    }

    @Test("finishing a run that does not exist is not found")
    func finishMissingRun() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let error = try #require(throws: RunStoreError.self) {
            try store.finishRun(id: 42, status: .failed, finishedAt: moment(0))
        }
        #expect(error.code == .notFound)
        #expect(error.description.contains("cannot record the end of run #42"))
    }

    @Test("a database under a file cannot be opened, and the error says to check the folder")
    func cannotOpen() throws {
        let folder = try TemporaryFolder()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.file("workspace")))
        let error = try #require(throws: RunStoreError.self) {
            try SQLiteRunStore(path: folder.file("workspace/mlpipe.db"))
        }
        #expect(error.code == .cannotOpen)
        #expect(error.description.hasPrefix("cannot open \(folder.file("workspace/mlpipe.db")): cannot create the folder"))
        #expect(error.description.hasSuffix("check that its parent folder exists and is writable"))
    }

    @Test("a file that is not a database is reported as such, with what to do")
    func notADatabase() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("mlpipe.db")
        try Data(String(repeating: "not a database ", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: RunStoreError.self) { try SQLiteRunStore(path: path) }
        #expect(error.code == .corrupt)
        #expect(error.description.contains("move it aside to start a new history"))
    }

    @Test("a status from a newer mlpipe is an error that names it, not a crash")
    func unknownStatus() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: [])
        try store.database.write { db in
            try db.execute(sql: "UPDATE run SET status = 'paused' WHERE id = ?", arguments: [id])
        }
        let error = try #require(throws: RunStoreError.self) { try store.run(id: id) }
        #expect(error.code == .invalidRecord)
        #expect(error.description == "cannot read run #\(id) in \(store.path): unknown run.status 'paused'; a newer mlpipe probably wrote it; use that version or a later one")
    }

    @Test("a NULL where a value must be is an error that names the column, not its row")
    func nullValue() throws {
        let (folder, store) = try makeStore()
        _ = folder
        let id = try store.createRun(sampleRun(), stages: plannedStages(["train"]))
        try store.database.writeWithoutTransaction { db in
            // Only a hand edit can do this: rebuild the table without NOT NULL.
            try db.execute(sql: """
                PRAGMA foreign_keys = OFF;
                CREATE TABLE stage2 AS SELECT * FROM stage;
                DROP TABLE stage;
                ALTER TABLE stage2 RENAME TO stage;
                UPDATE stage SET kind = NULL;
                PRAGMA foreign_keys = ON;
                """)
        }
        let error = try #require(throws: RunStoreError.self) { try store.stages(runID: id) }
        #expect(error.code == .invalidRecord)
        #expect(error.description.hasPrefix("cannot read stage 'train' of run #\(id) in "))
        #expect(error.description.contains(": column stage.kind is NULL;"))
    }
}
