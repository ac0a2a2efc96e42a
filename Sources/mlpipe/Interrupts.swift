import Dispatch
import Foundation
import PipelineEngine

/// Ctrl-C (and SIGTERM) during `run` and `rerun`.
///
/// The first cancels the run's task: each running stage's process group gets SIGTERM
/// and its grace period, stages not yet started are recorded `cancelled`, and mlpipe
/// says on stderr what it waits for and for how long. The second stops every running
/// stage's process group at once (SIGKILL, through `RunningStages`); the run still ends
/// through its cancellation path, so its stages and the run are recorded `cancelled` and
/// the summary is printed before mlpipe exits 130. A third exits at once, after the same
/// SIGKILL, and leaves the run to be marked `interrupted` by the next command: the way
/// out when recording itself hangs.
enum Interrupts {
    static func run<T: Sendable>(registry: RunningStages = .shared,
                                 _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        // One count for both signals, on one serial queue: SIGINT then SIGTERM is a second.
        let count = Counter()
        let queue = DispatchQueue(label: "mlpipe.interrupts")
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                handle(count.increment(), registry: registry) { task.cancel() }
            }
            source.resume()
            return source
        }
        defer {
            signals.forEach { $0.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return try await task.value
    }

    static func handle(_ count: Int, registry: RunningStages, cancel: () -> Void) {
        switch count {
        case 1:
            Console.shared.error(stoppingMessage(registry.running))
            cancel()
        case 2:
            Console.shared.error(killedMessage(registry.stopAllNow()))
        default:
            registry.stopAllNow()
            _exit(130)
        }
    }

    /// "mlpipe: stopping 1 running stage (train); waiting up to 10s for it to exit —
    /// press Ctrl-C again to kill it now"
    static func stoppingMessage(_ running: [RunningStages.Entry]) -> String {
        guard let grace = running.map(\.gracePeriod).max() else {
            return "mlpipe: stopping the run (no stage is running) — press Ctrl-C again to stop at once"
        }
        let one = running.count == 1
        return "mlpipe: stopping \(stages(running)); waiting up to \(Int(grace.rounded(.up)))s for "
            + "\(one ? "it" : "them") to exit — press Ctrl-C again to kill \(one ? "it" : "them") now"
    }

    /// "mlpipe: killed 1 running stage (train); recording the run — …"
    static func killedMessage(_ stopped: [RunningStages.Entry]) -> String {
        let what = stopped.isEmpty ? "no stage was running" : "killed \(stages(stopped))"
        return "mlpipe: \(what); recording the run as cancelled — press Ctrl-C again to exit without recording it"
    }

    /// "2 running stages (evaluate, train)"
    static func stages(_ entries: [RunningStages.Entry]) -> String {
        let names = entries.map(\.stageName).sorted()
        return "\(names.count) running stage\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", ")))"
    }

    final class Counter: @unchecked Sendable {
        // Only touched from the signal sources' handlers, which run on one serial queue.
        private var value = 0
        func increment() -> Int { value += 1; return value }
    }
}
