/// A smoke test that cannot start: a requests file with bad lines, a schedule or thresholds
/// that make no sense. A test that runs and fails is not an error: it is a ``SmokeReport``
/// whose `passed` is false.
///
/// No case carries the bearer token: a message names it only as "the token".
public enum SmokeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The requests file could not be read.
    case unreadable(path: String, reason: String)
    /// Lines of the requests file that are not requests, each at FILE:LINE:COL.
    case badRequests([SmokeDiagnostic])
    /// A requests file without one request line.
    case noRequests(path: String)
    /// A schedule value out of range: which one, the value, what it must be.
    case invalidSchedule(String)
    /// A threshold out of range: which one, the value, what it must be.
    case invalidThresholds(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read the smoke-test requests file \(path): \(reason); check the `requests` path"
        case .badRequests(let diagnostics):
            diagnostics.map(\.description).joined(separator: "\n")
        case .noRequests(let path):
            "\(path) has no request lines; write one JSON object per line, e.g. "
                + #"{"body": {"inputs": [...]}, "status": 200}"#
        case .invalidSchedule(let problem):
            "smoke-test schedule: \(problem)"
        case .invalidThresholds(let problem):
            "smoke-test thresholds: \(problem)"
        }
    }
}

/// One bad line of a requests file, rendered as compilers do:
/// `smoke/requests.jsonl:3:22: error: "status" must be an integer from 100 to 599, not "200"`.
public struct SmokeDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file as the caller named it.
    public let file: String
    /// 1-based line.
    public let line: Int
    /// 1-based column, in characters.
    public let column: Int
    /// What is wrong and how to write it.
    public let message: String

    /// A diagnostic at `line`:`column` of `file`.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}
