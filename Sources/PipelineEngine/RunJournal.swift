import Synchronization

/// What went wrong with a run's bookkeeping or its environment while its stages ran,
/// collected so that the run ends saying so instead of losing it.
///
/// A stage row that cannot be written does not stop the other stages (their results
/// may still be recorded), but the run then ends with an environment error (exit 3)
/// that names what is missing from its record. A stage that failed because of its
/// environment (a full disk, an unwritable folder) makes the run's exit status 3 too.
final class RunJournal: Sendable {
    private struct State {
        var recordFailures: [String] = []
        var environmentFailures: [String] = []
    }

    private let state = Mutex(State())

    /// A write of the run's record that failed.
    func recordFailure(_ message: String) {
        state.withLock { $0.recordFailures.append(message) }
    }

    /// A stage that failed because of the machine, not the pipeline.
    func recordEnvironmentFailure(_ message: String) {
        state.withLock { $0.environmentFailures.append(message) }
    }

    var recordFailures: [String] { state.withLock { $0.recordFailures } }
    var environmentFailures: [String] { state.withLock { $0.environmentFailures } }
}
