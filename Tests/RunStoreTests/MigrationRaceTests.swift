import Foundation
import TestSupport
import Synchronization
import Testing
@testable import RunStore

@Suite("Opening a new file from several processes")
struct MigrationRaceTests {
    /// Runs `body` on `count` threads that start together, and returns what each
    /// threw, if anything.
    func together(_ count: Int, _ body: @escaping @Sendable () throws -> Void) -> [String] {
        let errors = Mutex<[String]>([])
        let ready = DispatchGroup(), done = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            ready.enter()
            done.enter()
            Thread {
                ready.leave()
                start.wait()
                do {
                    try body()
                } catch {
                    // The cause names the statement that failed.
                    let cause = (error as? RunStoreError)?.cause.map { " (\($0))" } ?? ""
                    errors.withLock { $0.append("\(error)\(cause)") }
                }
                done.leave()
            }.start()
        }
        ready.wait()
        for _ in 0..<count { start.signal() }
        done.wait()
        return errors.withLock { $0 }
    }

    @Test("stores opened at the same moment on a new file all end up migrated")
    func simultaneousOpen() throws {
        let folder = try TemporaryFolder()
        for round in 0..<20 {
            let path = folder.file("\(round)/mlpipe.db")
            let errors = together(4) {
                let store = try SQLiteRunStore(path: path)
                _ = try store.createRun(sampleRun(), stages: plannedStages())
            }
            #expect(errors == [], "round \(round)")
            #expect(try SQLiteRunStore(path: path).runCount() == 4)
        }
    }
}
