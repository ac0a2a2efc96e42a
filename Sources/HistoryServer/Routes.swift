import Foundation
import Hummingbird
import PipelineEngine

/// Every request: decode the path strictly, check access, then hand it to the API, a
/// page, or an action. Each failure becomes one answer (``HTTPAnswer``), JSON for the API
/// and HTML for the pages.
struct Routes: Sendable {
    let state: ServerState

    /// The answer, with a `Server-Timing` header giving the time spent building it
    /// (what `bench/serve.sh` reads: server time, without the client's).
    func respond(_ request: Request) async -> Response {
        let start = ContinuousClock.now
        var response = await answer(request)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[.init("Server-Timing")!] = String(format: "app;dur=%.3f", milliseconds)
        return response
    }

    func answer(_ request: Request) async -> Response {
        let path = request.uri.path
        do {
            let parts = try RequestParts(path: path, query: request.uri.query)
            // A hook proves itself with its signature: GitHub and GitLab cannot send the token.
            if parts.segments.first == "hooks" {
                return try await WebhookRoutes(state: state).respond(request, parts)
            }
            guard state.access.allows(request, path: path) else {
                if path.hasPrefix("/api/") {
                    throw HTTPAnswer.unauthorized("this server needs a token: send `Authorization: Bearer TOKEN` (the content of --token-file)")
                }
                return HTTPAnswer.redirect("/login" + HTML.query([("next", path)]))
            }
            let segments = parts.segments
            if segments.count >= 2, segments[0] == "api", segments[1] == "v1" {
                var strict = parts
                strict.emptyIsGiven = true
                if APIActions.isAction(segments) {
                    guard request.method == .post else {
                        throw HTTPAnswer(status: .methodNotAllowed, message: "\(segments[4]) is an action: POST it", allow: "POST")
                    }
                    return try await APIActions(state: state).respond(request, strict)
                }
                guard request.method == .get || request.method == .head else {
                    throw HTTPAnswer(status: .methodNotAllowed, message: "this part of the API only reads: use GET; the "
                        + "API's POSTs are /api/v1/runs/{id}/rerun and /api/v1/runs/{id}/cancel")
                }
                return try await APIRoutes(state: state).respond(request, strict)
            }
            let pages = Pages(state: state)
            switch (request.method, segments.first) {
            case (.post, "login"):
                return try await login(request)
            case (.post, "runs"):
                return try await Actions(state: state).respond(request, parts)
            case (.get, _), (.head, _):
                return try await pages.respond(request, parts)
            default:
                throw HTTPAnswer(status: .methodNotAllowed, message: "\(request.method) is not served at \(path)")
            }
        } catch let answer as HTTPAnswer {
            return answer.response(forPath: path)
        } catch let error as EngineError {
            return HTTPAnswer(error).response(forPath: path)
        } catch {
            return HTTPAnswer(status: .internalServerError, message: "\(error)").response(forPath: path)
        }
    }

    /// `POST /login` with the token: sets the login cookie and goes where the user was going.
    func login(_ request: Request) async throws -> Response {
        let form = try await FormBody.read(request)
        guard let token = state.access.token, let given = form["token"], Access.same(given, token),
              let cookie = state.access.loginCookie else {
            return HTTPAnswer.html(Pages.loginPage(next: form["next"] ?? "/", failed: true), status: .unauthorized)
        }
        // Only a path on this server: never an open redirect.
        var next = form["next"] ?? "/"
        if !next.hasPrefix("/") || next.hasPrefix("//") { next = "/" }
        var headers: HTTPFields = [:]
        headers[.setCookie] = cookie
        return HTTPAnswer.redirect(next, headers: headers)
    }
}
