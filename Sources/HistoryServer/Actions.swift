import Foundation
import Hummingbird
import PipelineEngine
import RunStore

/// The buttons: `POST /runs/ID/rerun` (optionally `from=STAGE`) and `POST /runs/ID/cancel`,
/// each with the page's CSRF token. Re-runs are recorded with trigger `web` and link to
/// the run they re-ran; the answer is a redirect to the new run's page. What may be done
/// to which run is ``RunActions``'s, shared with the API's POSTs.
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
        let actions = RunActions(state: state)
        switch s[2] {
        case "rerun":
            let from = form["from"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                return HTTPAnswer.redirect("/runs/\(try await actions.rerun(id, from: from))")
            } catch {
                switch error {
                case .refused(let answer): throw answer
                // A form's stage comes from the page's list: one that is not there is a bad form.
                case .engine(let engine): throw HTTPAnswer(status: .badRequest, message: engine.message)
                }
            }
        case "cancel":
            _ = try await actions.cancel(id)
            return HTTPAnswer.redirect("/runs/\(id)")
        default:
            throw HTTPAnswer.notFound("no action '\(s[2])'; the actions are rerun and cancel")
        }
    }
}
