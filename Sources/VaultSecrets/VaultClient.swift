import AsyncHTTPClient
import Foundation
import HTTPTransport
import NIOCore
import NIOHTTP1

/// The HTTP API of one OpenBao / HashiCorp Vault server: logins (`VaultClient+Login`) and
/// KV v2 reads (`VaultClient+KV`), each request with a deadline and retries.
///
/// A request that gets no answer (refused, reset, timed out), a 429 or a 5xx other than
/// 503 "sealed" is sent again after 0.2, 0.4, 0.8 s (`VaultSettings.maxAttempts` in
/// all): a server that restarts or fails over is waited for, briefly. A sealed server
/// will not unseal itself within a run, so 503 "sealed" is final at once.
///
/// Nothing is written to disk. Text quoted from the server's answers has the client's
/// credentials (token, secret id, JWT) replaced by `***` before it reaches a message.
public struct VaultClient: Sendable {
    public let settings: VaultSettings

    /// One HTTP client for the process, as `S3Client`'s: never shut down while a request
    /// runs, and nothing to clean up at exit.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        // Retried per request instead, with the back-off the type's comment describes.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A client for the server `settings` name.
    public init(settings: VaultSettings) {
        self.settings = settings
    }

    /// An answer with its body read (small: JSON documents of a few KiB).
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]

        /// The body as a JSON object, if it is one.
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }

        /// The server's `errors` array (`{"errors":["permission denied"]}`), trimmed.
        var errors: [String] {
            ((json?["errors"] as? [Any]) ?? []).compactMap { $0 as? String }
                .map { $0.replacingOccurrences(of: "\n\t* ", with: " ").trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
        }

        /// HTTP 503 saying "Vault is sealed".
        var isSealed: Bool { status == 503 && errors.contains { $0.lowercased().contains("sealed") } }
    }

    /// `ADDRESS/v1/PATH`: how a request is named in messages (no query, no credentials).
    func url(_ path: String) -> String { settings.address + "/v1/" + path }

    /// Sends `METHOD /v1/PATH` until an answer not worth retrying comes and returns it,
    /// whatever its status; throws `unreachable` when no answer came. `path` is already
    /// percent-encoded; `what` says in messages what the request was for.
    func send(_ method: HTTPMethod, _ path: String, query: String? = nil, token: String?,
              body: [String: String]? = nil, what: String) async throws(VaultError) -> Answer {
        var attempt = 1
        while true {
            if Task.isCancelled {
                throw VaultError(.unreachable, "cancelled during \(what) at \(settings.address)")
            }
            do {
                let answer = try await exchange(method, path, query: query, token: token, body: body)
                let retry = answer.status == 429 || ((500...599).contains(answer.status) && !answer.isSealed)
                guard retry, attempt < settings.maxAttempts else { return answer }
            } catch {
                guard attempt < settings.maxAttempts else {
                    throw VaultError(.unreachable, "cannot reach OpenBao/Vault at \(settings.address) "
                        + "(\(settings.addressSource)) for \(what): \(ConnectionFailure.classify(error).reason) (after \(attempt) attempts); "
                        + "start the server, or set \(settings.addressSource) to its address")
                }
            }
            do {
                try await Task.sleep(for: .milliseconds(200 << (attempt - 1)))
            } catch {
                throw VaultError(.unreachable, "cancelled while waiting to retry \(what) at \(settings.address)")
            }
            attempt += 1
        }
    }

    /// One exchange; throws whatever the HTTP client throws.
    private func exchange(_ method: HTTPMethod, _ path: String, query: String?, token: String?,
                          body: [String: String]?) async throws -> Answer {
        var request = HTTPClientRequest(url: url(path) + (query.map { "?" + $0 } ?? ""))
        request.method = method
        if let token { request.headers.add(name: "X-Vault-Token", value: token) }
        if let namespace = settings.namespace { request.headers.add(name: "X-Vault-Namespace", value: namespace) }
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let (seconds, attoseconds) = settings.timeout.components
        let deadline = NIODeadline.now() + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await Self.http.execute(request, deadline: deadline)
        let collected = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), body: Array(collected.readableBytesView))
    }

    /// The server's errors for a message: joined, at most 300 characters, with every
    /// credential the client holds (and `hiding`) replaced by `***`.
    func quoted(_ answer: Answer, hiding: [String] = []) -> String {
        let text = answer.errors.joined(separator: "; ")
        var shown = text.count > 300 ? String(text.prefix(300)) + "…" : text
        for secret in (credentials + hiding).filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            shown = shown.replacingOccurrences(of: secret, with: "***")
        }
        return shown.isEmpty ? "HTTP \(answer.status)" : "HTTP \(answer.status): \(shown)"
    }

    /// The credentials in the settings, which no message may show.
    var credentials: [String] {
        switch settings.auth {
        case .token(let token, _): [token]
        case .appRole(let roleID, let secretID, _): [roleID, secretID]
        case .kubernetes: []
        }
    }

    /// `segment/segment` with each segment percent-encoded (unreserved characters stay).
    static func encoded(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }
            .joined(separator: "/")
    }
}
