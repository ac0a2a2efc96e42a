import AsyncHTTPClient
import Foundation
import HTTPTransport
import NIOCore
import NIOHTTP1

/// One request, kept re-creatable so that a retry sends it again: its body is a factory,
/// which re-opens a file at its offset.
struct S3Request: Sendable {
    var method: HTTPMethod
    /// The object key under the prefix, or nil for the bucket itself.
    var key: String?
    var query: [(String, String)] = []
    var headers: [(String, String)] = []
    /// The hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    var payloadHash = SigV4Signer.emptyPayloadHash
    var body: (@Sendable () throws(S3Error) -> (HTTPClientRequest.Body, Int64))?
}

/// A signed S3 client for one bucket and prefix: GET, HEAD, PUT (conditional too) and
/// multipart uploads, with retries.
///
/// Requests that get 5xx or 429, or lose their connection (reset, closed, timed out),
/// are sent again after a back-off that doubles (``S3Options/maxAttempts`` in all); a
/// refused connection is not retried, so a remote that is down is found out at once.
/// Bodies stream from and to disk in bounded buffers. Without credentials, requests go
/// unsigned (a public bucket).
public struct S3Client: Sendable {
    /// Where requests go.
    public let bucket: S3Bucket
    let signer: SigV4Signer?
    let options: S3Options

    /// One HTTP client for the process: it lives as long as the process (so it is never
    /// shut down while a request runs), and pools connections across stages.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        // A refused connection fails at once; resets and timeouts are retried per request.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A client; nil credentials send unsigned requests.
    public init(bucket: S3Bucket, credentials: S3Credentials?, options: S3Options = S3Options()) {
        self.bucket = bucket
        self.signer = credentials.map { SigV4Signer(credentials: $0, region: bucket.region) }
        self.options = options
    }

    /// An answer with its body read (bounded: entries and error documents are small).
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer

        var text: String { String(buffer: body) }
    }

    /// Sends `request` until an answer not worth retrying comes, and returns it whatever
    /// its status; throws ``S3Error/Code/unreachable`` when no answer came.
    func send(_ request: S3Request, bodyLimit: Int = 16 << 20) async throws(S3Error) -> Answer {
        try await retrying(request) { () throws(S3Error) -> Answer in
            let response = try await execute(request)
            do {
                let body = try await response.body.collect(upTo: bodyLimit)
                return Answer(status: Int(response.status.code), headers: response.headers, body: body)
            } catch {
                throw Self.connectionFailure(error, request: label(request), attempts: 1)
            }
        }
    }

    /// The retry loop around one exchange: 5xx and 429 answers, resets and timeouts are
    /// tried again; the last answer is returned whatever its status.
    func retrying<T: S3Status>(_ request: S3Request,
                               _ operation: () async throws(S3Error) -> T) async throws(S3Error) -> T {
        var attempt = 1
        while true {
            if Task.isCancelled { throw S3Error(.unexpected, "cancelled: \(label(request))", cause: CancellationError()) }
            do {
                let answer = try await operation()
                let status = answer.statusCode
                guard status == 429 || (500...599).contains(status), attempt < options.maxAttempts else { return answer }
            } catch let error where error.code == .unreachable && (error.cause as? ConnectionFailure)?.retryable == true {
                guard attempt < options.maxAttempts else {
                    var final = error
                    final.message += " (after \(attempt) attempts)"
                    throw final
                }
            }
            do {
                try await Task.sleep(for: options.backoff(afterAttempt: attempt))
            } catch {
                throw S3Error(.unexpected, "cancelled: \(label(request))", cause: CancellationError())
            }
            attempt += 1
        }
    }

    /// One signed exchange; the body is left for the caller to read.
    func execute(_ request: S3Request) async throws(S3Error) -> HTTPClientResponse {
        let path = bucket.path(ofKey: request.key.map(bucket.key))
        let encodedPath = SigV4Signer.encode(path, keepSlash: true)
        let query = SigV4Signer.canonicalQuery(request.query)
        var outgoing = HTTPClientRequest(url: bucket.origin + encodedPath + (query.isEmpty ? "" : "?" + query))
        outgoing.method = request.method
        var headers = request.headers
        headers.append(("host", bucket.host))
        var length: Int64 = 0
        if let makeBody = request.body {
            let (body, bodyLength) = try makeBody()
            outgoing.body = body
            length = bodyLength
        }
        if request.body != nil || [.PUT, .POST].contains(request.method) {
            headers.append(("content-length", String(length)))
        }
        if let signer {
            headers = signer.sign(method: request.method.rawValue, path: path, query: request.query, headers: headers,
                                  payloadHash: request.payloadHash, date: Date())
        }
        for (name, value) in headers { outgoing.headers.add(name: name, value: value) }
        do {
            return try await Self.http.execute(outgoing, deadline: .now() + .hours(6))
        } catch {
            throw Self.connectionFailure(error, request: label(request), attempts: 1)
        }
    }

    /// `PUT s3://bucket/prefix/key`.
    func label(_ request: S3Request) -> String {
        "\(request.method.rawValue) " + (request.key.map(bucket.display) ?? "s3://\(bucket.bucket)")
    }

    /// The error for an answer that is not the one expected: status, S3 code and message,
    /// and what to do.
    func failure(_ answer: Answer, request: S3Request) -> S3Error {
        let (code, message) = Self.errorDocument(answer.text)
        var text = "\(label(request)) at \(bucket.endpoint) answered HTTP \(answer.status)"
        if let code { text += " \(code)" }
        if let message { text += ": \(message.prefix(300))" }
        switch answer.status {
        case 401, 403:
            let who = signer.map { "\($0.credentials)" } ?? "no credentials"
            text += " (with \(who)); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the remote's secrets) and the key's permissions on bucket '\(bucket.bucket)'"
            return S3Error(.denied, text, status: answer.status, s3Code: code)
        case 404 where code == "NoSuchBucket" || request.key == nil:
            text += "; create bucket '\(bucket.bucket)' or fix the remote URL"
            return S3Error(.noSuchBucket, text, status: answer.status, s3Code: code)
        default:
            if answer.status >= 500 { text += " (after \(options.maxAttempts) attempts); the server is failing, try again later" }
            return S3Error(.unexpected, text, status: answer.status, s3Code: code)
        }
    }

    /// `<Code>` and `<Message>` of an S3 error document.
    static func errorDocument(_ xml: String) -> (String?, String?) {
        (element("Code", in: xml), element("Message", in: xml))
    }

    /// The text of the first `<name>…</name>` in `xml`, unescaped; nil when absent.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
              let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// A failure with no answer, classified as worth retrying or not.
    static func connectionFailure(_ error: any Error, request: String, attempts: Int) -> S3Error {
        if let error = error as? S3Error { return error }
        if let error = error as? FileReadError { return S3Error(.local, "\(request): cannot upload: \(error)", cause: error) }
        let failure = ConnectionFailure(error)
        return S3Error(.unreachable, "\(request): no answer (\(failure.reason))", cause: failure)
    }
}

/// Anything with an HTTP status, for the retry loop.
protocol S3Status {
    var statusCode: Int { get }
}

extension S3Client.Answer: S3Status {
    var statusCode: Int { status }
}
