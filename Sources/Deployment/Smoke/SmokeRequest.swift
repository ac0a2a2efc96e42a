/// One request of a smoke test, from one line of its requests file (see ``SmokeRequests``):
/// what to send and what the answer must be.
///
/// The body is kept as the bytes the line wrote, so the service receives exactly what the
/// file says (number formatting included). A request without a body is a GET unless the
/// line names a method.
public struct SmokeRequest: Sendable, Hashable {
    /// The requests file as the caller named it, for messages.
    public var file: String
    /// The 1-based line of the file this request came from.
    public var line: Int
    /// `GET`, `POST`, ...
    public var method: String
    /// The path (and query) on the endpoint, starting with `/`.
    public var path: String
    /// Extra headers, by name; never `Authorization` (the token is the tester's).
    public var headers: [String: String]
    /// The JSON body as written, or nil for none.
    public var body: [UInt8]?
    /// The HTTP status the answer must have.
    public var expectedStatus: Int
    /// Fields the answer's JSON body must have, each with its value.
    public var expectations: [SmokeExpectation]

    /// A request from its parts (the loader's; tests and callers may build one directly).
    public init(file: String, line: Int, method: String, path: String, headers: [String: String] = [:],
                body: [UInt8]?, expectedStatus: Int = 200, expectations: [SmokeExpectation] = []) {
        self.file = file
        self.line = line
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.expectedStatus = expectedStatus
        self.expectations = expectations
    }

    /// `FILE:LINE`, how a report names the request.
    public var location: String { "\(file):\(line)" }
}
