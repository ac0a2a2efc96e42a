import Foundation
import Hummingbird
import PipelineEngine
import RunStore

/// The buttons: `POST /runs/ID/rerun` (optionally `from=STAGE`) and `POST /runs/ID/cancel`,
/// each with the page's CSRF token. Re-runs are recorded with trigger `web` and link to
/// the run they re-ran; the answer is a redirect to the new run's page.
struct Actions: Sendable {
    let state: ServerState

    func respond(_ request: Request, _ parts: RequestParts) async throws -> Response {
        let s = parts.segments
        guard s.count == 3, s[0] == "runs" else { throw HTTPAnswer.notFound("no action at /\(s.joined(separator: "/"))") }
        let id = try APIRoutes(state: state).runID(s[1])
        let form = try await FormBody.read(request)
        guard let csrf = form["csrf"], Access.same(csrf, state.access.csrfToken) else {
            throw HTTPAnswer.forbidden("the form lacks this server's CSRF token; reload the page and press the button again")
        }
        let run: RunRecord
        do { run = try await state.history.resolve(String(id)) } catch { throw HTTPAnswer(error) }
        switch s[2] {
        case "rerun":
            let from = form["from"].flatMap { $0.isEmpty ? nil : $0 }
            let newRun: Int64
            do { newRun = try await state.launcher.rerun(id, from: from) } catch { throw HTTPAnswer(status: .badRequest, message: error.message) }
            return HTTPAnswer.redirect("/runs/\(newRun)")
        case "cancel":
            // A run a push started is this server's own, like the buttons' runs.
            if run.status == .running, state.triggers?.cancel(run: id) == true { return HTTPAnswer.redirect("/runs/\(id)") }
            do { _ = try state.launcher.cancel(run) } catch { throw HTTPAnswer(status: .conflict, message: error.message) }
            return HTTPAnswer.redirect("/runs/\(id)")
        default:
            throw HTTPAnswer.notFound("no action '\(s[2])'; the actions are rerun and cancel")
        }
    }
}
