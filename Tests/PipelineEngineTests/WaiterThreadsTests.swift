import Foundation
import Synchronization
import Testing
@testable import PipelineEngine

@Suite("threads that wait for processes")
struct WaiterThreadsTests {
    final class Box: Sendable {
        let arrived = Atomic<Int>(0)
        let threads = Mutex<Set<String>>([])
        func note() {
            // The kernel's thread id ("pid/task/tid"): unlike pthread_self, not reused soon.
            let id = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? "?"
            threads.withLock { _ = $0.insert(id) }
        }
    }

    @Test("jobs that block start together however many there are, and a finished thread takes the next job")
    func blockingJobsStartTogetherAndThreadsAreReused() async throws {
        let pool = WaiterThreads(idleTimeout: 30)
        let box = Box()
        let count = 6
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
                        pool.run {
                            box.note()
                            box.arrived.add(1, ordering: .sequentiallyConsistent)
                            // Each job waits until all have started: only threads that run at once meet.
                            let deadline = Date().addingTimeInterval(5)
                            while box.arrived.load(ordering: .sequentiallyConsistent) < count && Date() < deadline {
                                usleep(1_000)
                            }
                            done.resume(returning: box.arrived.load(ordering: .sequentiallyConsistent) == count)
                        }
                    }
                }
            }
            for await met in group { #expect(met) }
        }
        let first = box.threads.withLock { $0 }
        #expect(first.count == count)
        // Give the finished threads a moment to go idle, then a new job must reuse one.
        try await Task.sleep(for: .milliseconds(200))
        let again = Box()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.run { again.note(); done.resume() }
        }
        #expect(first.isSuperset(of: again.threads.withLock { $0 }))
    }
}
