import Foundation
import Hummingbird
import PipelineSpec

/// The responses the server sends: JSON, HTML, plain text, SVG, redirects and errors.
///
/// An error is JSON for `/api/…` paths and `/hooks/…` (`{"error": "…"}`) and an HTML page
/// elsewhere, with the message escaped; both say what went wrong and how to fix it.
struct HTTPAnswer: Error {
    var status: HTTPResponse.Status
    var message: String
    /// The `Allow` header of a 405, when it is not what the path's kind takes (`GET, HEAD`
    /// for the API, `POST` for the hooks).
    var allow: String? = nil

    /// 400: a parameter the server cannot use.
    static func badRequest(_ message: String) -> HTTPAnswer { HTTPAnswer(status: .badRequest, message: message) }
    /// 404: nothing at that path.
    static func notFound(_ message: String) -> HTTPAnswer { HTTPAnswer(status: .notFound, message: message) }
    /// 401: no or a wrong token.
    static func unauthorized(_ message: String) -> HTTPAnswer { HTTPAnswer(status: .unauthorized, message: message) }
    /// 403: a form posted without its CSRF token.
    static func forbidden(_ message: String) -> HTTPAnswer { HTTPAnswer(status: .forbidden, message: message) }

    /// A JSON body (canonical: sorted keys, no spaces, as the CLI prints it).
    static func json(_ value: Value, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        body(value.canonicalJSON() + "\n", type: "application/json", status: status, headers: headers)
    }

    /// An HTML page.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        body(text, type: "text/html; charset=utf-8", status: status, headers: headers)
    }

    /// A text body of `type`, with headers that keep browsers from guessing another type.
    static func body(_ text: String, type: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = type
        fields[.init("X-Content-Type-Options")!] = "nosniff"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 to `location` (after a POST, or a login).
    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.location] = location
        return Response(status: .seeOther, headers: fields)
    }

    /// The error as the client of `path` reads it.
    func response(forPath path: String) -> Response {
        if path.hasPrefix("/api/") || path.hasPrefix("/hooks/") {
            var headers: HTTPFields = [:]
            if status == .unauthorized && path.hasPrefix("/api/") { headers[.wwwAuthenticate] = "Bearer realm=\"mlpipe\"" }
            if status == .methodNotAllowed { headers[.allow] = allow ?? (path.hasPrefix("/hooks/") ? "POST" : "GET, HEAD") }
            return HTTPAnswer.json(.object(["error": .string(message)]), status: status, headers: headers)
        }
        let page = HTML.page(title: "\(status.code) \(status.reasonPhrase)", body: """
            <h1>\(status.code) \(HTML.escape(status.reasonPhrase))</h1>
            <p class="error">\(HTML.escape(message))</p>
            <p><a href="/">All runs</a></p>
            """)
        var headers: HTTPFields = [:]
        if status == .methodNotAllowed { headers[.allow] = "GET, HEAD, POST" }
        return HTTPAnswer.html(page, status: status, headers: headers)
    }
}
