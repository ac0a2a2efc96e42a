import AsyncHTTPClient
import Foundation
import HTTPTransport
import NIOCore
import NIOHTTP1

/// One request to a registry, kept re-creatable so that it can be sent again after a 401
/// challenge or a failure: the body is a factory, which re-opens a blob file at its offset.
struct RegistryRequest: Sendable {
    var method: HTTPMethod
    /// Absolute URL.
    var url: String
    var headers: [(String, String)] = []
    var body: (@Sendable () throws -> (HTTPClientRequest.Body, Int64))?
    /// Token scopes this request needs under a Bearer challenge: `repository:R:pull,push`.
    var scopes: [String]

    /// `METHOD /path` without scheme, host or query, for errors: an upload session's query
    /// carries opaque registry state, and a redirect's may carry a signature.
    var label: String {
        var path = Substring(url)
        if let scheme = path.range(of: "://") {
            path = path[scheme.upperBound...]
            path = path.firstIndex(of: "/").map { path[$0...] } ?? "/"
        }
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        return "\(method.rawValue) \(path)"
    }
}

/// A registry's answer with its body read (bounded: manifests and error documents are small).
struct RegistryResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer

    /// The registry's error document (`{"errors":[{"code":..,"message":..}]}`) as
    /// ": CODE message", or "" when there is none. Bounded, so a large HTML page from a
    /// proxy does not flood the error.
    var detail: String {
        struct Document: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        guard body.readableBytes > 0,
              let document = try? JSONDecoder().decode(Document.self, from: Data(body.readableBytesView)),
              let entries = document.errors, !entries.isEmpty
        else { return "" }
        let parts: [String] = entries.map { entry in
            [entry.code ?? "", entry.message ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
        }
        let text = parts.joined(separator: "; ")
        return ": " + String(text.prefix(300))
    }
}

/// Sends requests to one registry: authentication (anonymous, Basic, Bearer token from the
/// `WWW-Authenticate` challenge), and bounded retries with exponential back-off.
///
/// Holds the one `HTTPClient` of a ``RegistryClient``; its owner shuts it down.
final class RegistryTransport: Sendable {
    let http: HTTPClient
    /// `host:port` as the user wrote it, for messages.
    let registry: String
    /// `http://host:port` or `https://host:port`.
    let baseURL: String
    let credentials: RegistryCredentials
    let options: RegistryOptions
    let auth: RegistryAuthenticator

    init(registry: String, credentials: RegistryCredentials, options: RegistryOptions) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(options.connectTimeout),
                                      read: .seconds(options.readTimeout))
        // A refused connection fails at once, not after connect attempts until the timeout:
        // a registry that is not running is a mistake to report, and resets and timeouts
        // are retried below, per request, with back-off.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.registry = registry
        self.baseURL = (RegistryTransport.usesPlainHTTP(registry, insecure: options.insecure) ? "http://" : "https://")
            + registry
        self.credentials = credentials
        self.options = options
        self.auth = RegistryAuthenticator(credentials: credentials)
    }

    /// Loopback registries (127.0.0.1, localhost, ::1, with any port) are spoken to over
    /// http://, as docker and skopeo do; every other host over https:// unless `insecure`.
    static func usesPlainHTTP(_ registry: String, insecure: Bool) -> Bool {
        if insecure { return true }
        var host = Substring(registry)
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        return host == "127.0.0.1" || host == "localhost" || host == "::1"
    }

    /// `path` (starting with /v2/) or a `Location` header made absolute.
    func url(_ pathOrLocation: String) -> String {
        if pathOrLocation.contains("://") { return pathOrLocation }
        return baseURL + (pathOrLocation.hasPrefix("/") ? "" : "/") + pathOrLocation
    }

    /// Sends `request` until it gets an answer that is not worth retrying, at most
    /// `options.maxAttempts` times: 5xx, 429 and connection resets and timeouts are retried
    /// after a back-off. Only for requests that may be repeated safely.
    ///
    /// Returns the last answer, whatever its status; throws on 401 and 403 (from ``send``),
    /// on a connection that never worked, and with the last status when retries ran out.
    func sendRetrying(_ request: RegistryRequest, repository: String) async throws -> RegistryResponse {
        try await retrying(request, repository: repository) { request in
            try await self.send(request, repository: repository)
        }
    }

    /// The retry loop of ``sendRetrying``, around any one-try `operation`.
    func retrying(_ request: RegistryRequest, repository: String,
                  _ operation: (RegistryRequest) async throws -> RegistryResponse) async throws -> RegistryResponse {
        var attempt = 1
        while true {
            try Task.checkCancellation()
            let retryAfter: Duration?
            do {
                let response = try await operation(request)
                guard ConnectionFailure.isRetryable(status: response.status) else { return response }
                guard attempt < options.maxAttempts else {
                    throw RegistryError.unexpected(registry: registry, repository: repository, request: request.label,
                                                   status: response.status, detail: response.detail, attempts: attempt)
                }
                retryAfter = RegistryTransport.retryAfter(response.headers)
            } catch let failure as ConnectionFailure {
                guard failure.retryable, attempt < options.maxAttempts else {
                    throw failure.error(registry: registry, request: request.label, attempts: attempt)
                }
                retryAfter = nil
            }
            try await Task.sleep(for: options.backoff(afterAttempt: attempt, retryAfter: retryAfter))
            attempt += 1
        }
    }

    /// Sends `request` once, answering a 401 challenge once with the credentials (Basic,
    /// or a Bearer token fetched for the request's scopes).
    ///
    /// Throws ``RegistryError`` for 401 after that and for 403, and
    /// ``ConnectionFailure`` when no answer came; any other status is returned.
    func send(_ request: RegistryRequest, repository: String) async throws -> RegistryResponse {
        var answeredChallenge = false
        while true {
            let authorization = await auth.authorization(scopes: request.scopes)
            let response = try await execute(request, authorization: authorization)
            switch response.status {
            case 401 where !answeredChallenge:
                answeredChallenge = true
                let challenge = response.headers.first(name: "WWW-Authenticate").flatMap(RegistryChallenge.init)
                guard let challenge, !credentials.isAnonymous || challenge.isBearer else {
                    throw RegistryError.unauthorized(registry: registry, repository: repository, credentials: credentials)
                }
                try await auth.answer(challenge, scopes: request.scopes, stale: authorization, transport: self,
                                      repository: repository)
            case 401:
                throw RegistryError.unauthorized(registry: registry, repository: repository, credentials: credentials)
            case 403:
                throw RegistryError.denied(registry: registry, repository: repository, request: request.label,
                                           credentials: credentials, detail: response.detail)
            default:
                return response
            }
        }
    }

    /// One HTTP exchange, its response body read up to 16 MiB (the spec caps manifests at 4).
    func execute(_ request: RegistryRequest, authorization: String?) async throws -> RegistryResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let authorization { outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization) }
        if let makeBody = request.body {
            let (body, length) = try makeBody()
            outgoing.body = body
            outgoing.headers.replaceOrAdd(name: "Content-Length", value: String(length))
        } else if request.method == .PUT || request.method == .POST || request.method == .PATCH {
            outgoing.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        do {
            let response = try await http.execute(outgoing, deadline: .now() + .hours(6))
            let body = try await response.body.collect(upTo: 16 << 20)
            return RegistryResponse(status: Int(response.status.code), headers: response.headers, body: body)
        } catch let error as FileReadError {
            throw RegistryError.blob(error)  // the body could not read the blob file
        } catch {
            // async-http-client reports a cancelled task as its own error; it is no fault of the registry.
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw ConnectionFailure(error, peer: "the registry")
        }
    }

    /// `Retry-After: <seconds>`, when the registry sent one.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds(max(0, $0)) }
    }
}

extension ConnectionFailure {
    /// The registry error for this failure after `attempts` tries of `request`.
    func error(registry: String, request: String, attempts: Int) -> RegistryError {
        RegistryError.connection(registry: registry, request: request, reason: reason, attempts: attempts,
                                 cause: underlying)
    }
}

extension RegistryError {
    /// A blob file that could not be read for its upload.
    static func blob(_ failure: FileReadError) -> RegistryError {
        switch failure.kind {
        case .open(let code): layout(failure.path, "cannot open the blob: \(String(cString: strerror(code)))")
        case .read(let code):
            layout(failure.path, "cannot read the blob at byte \(failure.offset): \(String(cString: strerror(code)))")
        case .shorter:
            layout(failure.path, "cannot read the blob at byte \(failure.offset): the file is shorter than its descriptor says")
        }
    }
}
