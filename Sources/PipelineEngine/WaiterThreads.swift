import Foundation

/// Threads that wait for stage processes, kept between stages instead of created anew.
///
/// Waiting for a process blocks a thread, which must never be one of the concurrency
/// pool's few. A thread per stage cost a tenth of a run of 1,000 trivial stages (clone,
/// stack mapping, start-up); dispatch's workers are reused but added beyond the core
/// count only after being blocked a while, which delays stages under `--jobs` above the
/// core count. Here a job goes to an idle thread when there is one and to a new thread
/// otherwise, so it always starts at once; a thread idle for `idleTimeout` exits.
final class WaiterThreads: @unchecked Sendable {
    // Safe to send: `queue` and `idle` are read and written only with `condition` locked.
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var idle = 0
    /// Threads started so far; each is named after its number (`mlpipe-wait-3`).
    private var started = 0
    private let idleTimeout: TimeInterval
    private let stackSize: Int

    static let shared = WaiterThreads()

    init(idleTimeout: TimeInterval = 10, stackSize: Int = 512 * 1024) {
        self.idleTimeout = idleTimeout
        self.stackSize = stackSize
    }

    /// Runs `job` on a waiting thread, starting one when none is idle.
    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(job)
        // An idle thread that is already being woken for an earlier job does not count.
        let startThread = idle < queue.count
        if startThread { started += 1 } else { condition.signal() }
        let number = started
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in loop() }
            thread.name = "mlpipe-wait-\(number)"
            thread.stackSize = stackSize
            thread.start()
        }
    }

    private func loop() {
        condition.lock()
        while true {
            if !queue.isEmpty {
                let job = queue.removeFirst()
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            idle += 1
            let woken = condition.wait(until: Date(timeIntervalSinceNow: idleTimeout))
            idle -= 1
            if !woken && queue.isEmpty { break }
        }
        condition.unlock()
    }
}
