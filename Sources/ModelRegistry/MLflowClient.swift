import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The calls of MLflow's REST API 2.0 that the registry makes, with MLflow's errors
/// turned into `RegistryError`s that say what, where and how to fix it.
///
/// The token goes in an `Authorization: Bearer` header and nowhere else: not in an error,
/// a log line or the database. An error about it names the secret it came from.
struct MLflowClient: Sendable {
    /// The tracking server, without a trailing slash: `http://127.0.0.1:5000`.
    let trackingURI: String
    /// The bearer token, if any.
    let token: String?
    /// Where the token came from, for messages (`secret MLFLOW_TOKEN`).
    let tokenSource: String?
    /// Seconds one request may take.
    let timeout: Int64
    let http: HTTPClient

    /// The process's one HTTP client for MLflow: a `static let`, so it lives as long as the
    /// process and is never shut down. Unlike `HTTPClient.shared`, it does not retry a
    /// refused connection until the request's deadline: a tracking server that is down is
    /// reported at once, not after `timeout` seconds.
    static let sharedHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// MLflow's error body: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "…"}`.
    struct ErrorBody: Decodable {
        var error_code: String?
        var message: String?
    }

    /// A failed call: the HTTP status and MLflow's error code and message.
    struct Failure: Error {
        var status: Int
        var errorCode: String
        var message: String
    }

    /// `GET /api/2.0/mlflow/<path>?<query>`.
    func get<Response: Decodable>(_ path: String, _ query: [(String, String)] = [],
                                  as type: Response.Type = Response.self) async throws(RegistryError) -> Response {
        try decode(try await call(.GET, path, query: query, body: nil), path: path)
    }

    /// `POST /api/2.0/mlflow/<path>` with a JSON body.
    func post<Response: Decodable>(_ path: String, _ body: some Encodable,
                                   as type: Response.Type = Response.self) async throws(RegistryError) -> Response {
        try decode(try await call(.POST, path, query: [], body: try encode(body)), path: path)
    }

    /// `DELETE /api/2.0/mlflow/<path>` with a JSON body.
    func delete(_ path: String, _ body: some Encodable) async throws(RegistryError) {
        _ = try await call(.DELETE, path, query: [], body: try encode(body))
    }

    /// Like `get`, but MLflow's "does not exist" answers (404, or 400 with
    /// `RESOURCE_DOES_NOT_EXIST` / `INVALID_PARAMETER_VALUE … not found`) are nil.
    func getIfExists<Response: Decodable>(_ path: String, _ query: [(String, String)],
                                          as type: Response.Type = Response.self) async throws(RegistryError) -> Response? {
        do {
            return try await get(path, query, as: type)
        } catch {
            if let failure = error.cause as? Failure,
               failure.status == 404 || failure.errorCode == "RESOURCE_DOES_NOT_EXIST"
                || (failure.errorCode == "INVALID_PARAMETER_VALUE" && failure.message.contains("not found")) {
                return nil
            }
            throw error
        }
    }

    /// Sends one request and returns the body of a 2xx answer.
    private func call(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: Data?) async throws(RegistryError) -> Data {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` is a space in a query to many servers (MLflow's among them) but not to URLComponents.
        let encodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let url = trackingURI + "/api/2.0/mlflow/" + path + (encodedQuery.map { "?" + $0 } ?? "")
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let data: Data
        do {
            let response = try await http.execute(request, timeout: .seconds(timeout))
            status = Int(response.status.code)
            var buffer = try await response.body.collect(upTo: 32 << 20)
            data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw RegistryError(
                .unreachable, "cannot reach the MLflow tracking server at \(trackingURI) (\(method.rawValue) \(path)): \(error)",
                remedy: "check that the server runs and that tracking_uri is right (scheme, host and port)",
                cause: error)
        }
        guard (200..<300).contains(status) else { throw failure(status: status, body: data, method: method, path: path) }
        return data
    }

    /// The error for a non-2xx answer.
    private func failure(status: Int, body: Data, method: HTTPMethod, path: String) -> RegistryError {
        let parsed = try? JSONDecoder().decode(ErrorBody.self, from: body)
        let code = parsed?.error_code ?? ""
        let message = parsed?.message ?? String(decoding: body.prefix(200), as: UTF8.self)
        let cause = Failure(status: status, errorCode: code, message: message)
        let call = "\(method.rawValue) /api/2.0/mlflow/\(path)"
        switch status {
        case 401, 403:
            let credential = tokenSource.map { "the token from \($0)" } ?? "no token"
            return RegistryError(
                .unauthorized, "the MLflow tracking server at \(trackingURI) refused \(credential) (HTTP \(status) on \(call))",
                remedy: tokenSource == nil ? "name a secret that holds an access token with `token:`"
                    : "check that \(tokenSource!) holds a valid access token with rights on the model registry",
                cause: cause)
        case 404 where parsed?.error_code == nil:
            return RegistryError(
                .server, "\(trackingURI) answered HTTP 404 to \(call): it does not look like an MLflow tracking server",
                remedy: "check tracking_uri: it is the server's base URL, without /api/2.0", cause: cause)
        default:
            return RegistryError(
                .server, "the MLflow tracking server at \(trackingURI) answered HTTP \(status) to \(call): "
                    + (code.isEmpty ? "" : code + ": ") + message,
                remedy: status >= 500 ? "look at the server's log, then try again" : "check the request's values", cause: cause)
        }
    }

    private func encode(_ body: some Encodable) throws(RegistryError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(body)
        } catch {
            throw RegistryError(.invalidName, "cannot encode a request to \(trackingURI): \(error)",
                                remedy: "this is a bug in mlpipe; please report it", cause: error)
        }
    }

    private func decode<Response: Decodable>(_ data: Data, path: String) throws(RegistryError) -> Response {
        do {
            return try JSONDecoder().decode(Response.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw RegistryError(.server, "the MLflow tracking server at \(trackingURI) answered \(path) with a body "
                                + "mlpipe cannot read: \(error)",
                                remedy: "check that tracking_uri names an MLflow 2 or 3 tracking server", cause: error)
        }
    }
}
