import Foundation
import Hummingbird
import PipelineEngine
import PipelineSpec
import RunStore

/// The API's twins of the run page's buttons: `POST /api/v1/runs/{id}/rerun` (a JSON body
/// `{"from": "STAGE"}`, or none) and `POST /api/v1/runs/{id}/cancel`.
///
/// What may be done to which run is ``RunActions``'s, as for the buttons. Instead of the
/// forms' CSRF token, which an API client does not have, a POST either carries the bearer
/// token or shows that no page of another site sent it (``Access/refusesForeignPost(_:)``).
/// Answers: 202 with the run object of `GET /api/v1/runs` (the new run for a re-run, with
/// a `Location` header to it; the cancelled run, still `running` until its stages stop);
/// 404 for no such run (or stage); 409 for a run the action does not apply to; 403 for a
/// foreign post; 401 without the server's token.
struct APIActions: Sendable {
    let state: ServerState

    /// The actions, by the last segment of their path.
    static let names = ["rerun", "cancel"]

    /// Whether `segments` (the whole path, `api/v1/…`) name an action.
    static func isAction(_ segments: [String]) -> Bool {
        segments.count == 5 && segments[2] == "runs" && names.contains(segments[4])
    }

    /// The largest body a re-run takes: `{"from": …}` with a stage name.
    static let maximumBody = 64 * 1024

    func respond(_ request: Request, _ parts: RequestParts) async throws -> Response {
        let segments = parts.segments
        if let refusal = state.access.refusesForeignPost(request) { throw HTTPAnswer.forbidden(refusal) }
        let id = try APIRoutes(state: state).runID(segments[3])
        let actions = RunActions(state: state)
        if segments[4] == "cancel" {
            return HTTPAnswer.json(.object(HistoryJSON.run(try await actions.cancel(id))), status: .accepted)
        }
        let from = try await stage(request)
        let newRun: Int64
        do {
            newRun = try await actions.rerun(id, from: from)
        } catch {
            switch error {
            case .refused(let answer): throw answer
            // A stage the run's pipeline does not have is a 404, as for its log.
            case .engine(let engine): throw HTTPAnswer(engine)
            }
        }
        let run: RunRecord
        do { run = try await state.history.resolve(String(newRun)) } catch { throw HTTPAnswer(error) }
        var headers: HTTPFields = [:]
        headers[.location] = "/api/v1/runs/\(newRun)"
        return HTTPAnswer.json(.object(HistoryJSON.run(run)), status: .accepted, headers: headers)
    }

    /// The stage a re-run starts from: `from` in a JSON object body; nil for no body, an
    /// empty one, or no `from`.
    func stage(_ request: Request) async throws(HTTPAnswer) -> String? {
        var request = request
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: Self.maximumBody).readableBytesView)
        } catch {
            throw HTTPAnswer(status: .contentTooLarge, message: "the body could not be read whole; a re-run takes at most "
                + "\(Self.maximumBody / 1024) KB: {\"from\": \"STAGE\"}")
        }
        if body.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return nil }
        let usage = "give {\"from\": \"STAGE\"} to re-run from a stage, or no body to re-run what did not succeed"
        let value: Value
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(body))
        } catch {
            throw .badRequest("the body is not JSON; \(usage)")
        }
        guard case .object(let fields) = value else { throw .badRequest("the body is not a JSON object; \(usage)") }
        if let unknown = fields.keys.sorted().first(where: { $0 != "from" }) {
            throw .badRequest("the body has a key '\(unknown)' that a re-run does not take; \(usage)")
        }
        switch fields["from"] {
        case nil: return nil
        case .string(let name) where !name.isEmpty: return name
        default: throw .badRequest("\"from\" is not a stage name; \(usage)")
        }
    }
}
