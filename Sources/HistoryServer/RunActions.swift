import Foundation
import PipelineEngine
import RunStore

/// What the server does to a run, whoever asks: the page's buttons (``Actions``) and the
/// API's POSTs (``APIActions``) both come here, so they refuse and allow the same things.
///
/// - Re-run: a run that is not running; a succeeded one only from a stage (everything
///   else would be reused: the page offers only "Re-run from" for it). Recorded with
///   trigger `web` and the run it re-ran as parent.
/// - Cancel: a running run. One this server started (a button's, or a push's) through
///   its task; one started elsewhere on this machine by SIGINT to its process.
///
/// Who may act (token, CSRF, origin) is decided before: ``Access``.
struct RunActions: Sendable {
    let state: ServerState

    /// Why a start failed, for the caller to answer in its own way: the run cannot be
    /// re-run as asked (``refused``), or the engine did not start it (``engine``; a
    /// definition error is a stage name that is not in the run's pipeline).
    enum RerunFailure: Error {
        case refused(HTTPAnswer)
        case engine(EngineError)
    }

    /// Re-runs run `id` (from `stage`, when given) and returns the new run's id once it
    /// has one.
    func rerun(_ id: Int64, from stage: String?) async throws(RerunFailure) -> Int64 {
        let run: RunRecord
        do { run = try await state.history.resolve(String(id)) } catch { throw .refused(HTTPAnswer(error)) }
        if run.status == .running {
            throw .refused(HTTPAnswer(status: .conflict, message: "run #\(id) is still running; cancel it or wait for "
                + "it to end, then re-run it"))
        }
        if run.status == .succeeded && stage == nil {
            throw .refused(HTTPAnswer(status: .conflict, message: "run #\(id) succeeded: a re-run would only reuse its "
                + "results; name a stage to run again with what follows it (from)"))
        }
        do { return try await state.launcher.rerun(id, from: stage) } catch { throw .engine(error) }
    }

    /// Cancels run `id` and returns its record as it was when the cancel was sent (still
    /// `running`: the run records `cancelled` once its stages stopped). 404 for no such
    /// run, 409 for one that cannot be cancelled from here (not running, on another
    /// machine, its process gone).
    func cancel(_ id: Int64) async throws(HTTPAnswer) -> RunRecord {
        let run: RunRecord
        do { run = try await state.history.resolve(String(id)) } catch { throw HTTPAnswer(error) }
        // A run a push started is this server's own, like the buttons' runs.
        if run.status == .running, state.triggers?.cancel(run: id) == true { return run }
        do { _ = try state.launcher.cancel(run) } catch { throw HTTPAnswer(status: .conflict, message: error.message) }
        return run
    }
}
