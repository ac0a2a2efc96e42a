/// Why a deployment could not be made, found, stopped or rolled back: what went wrong,
/// where, and how to fix it.
///
/// `description` is one line, `message; remedy`, then (for a service that never became
/// ready) the last lines of its log, indented, so that the reason is on the screen. A
/// secret (the service's token) is named, never shown.
public struct DeploymentError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that act on it.
    public enum Code: String, Sendable, Hashable {
        /// A setting or a name that cannot work (a port taken, an unknown deployment).
        case usage
        /// No deployment of that name or id.
        case notFound
        /// The runtime's venv could not be built (pip failed).
        case runtime
        /// The service's process could not be started.
        case spawn
        /// The service started but never answered ready, or exited.
        case notReady
        /// The deployments' table failed (open, busy, disk full).
        case database
        /// A file of the deployment could not be copied or written.
        case files
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and where.
    public var message: String
    /// What the user can do about it.
    public var remedy: String
    /// The service log's last lines, when they tell why it failed.
    public var logTail: [String]
    /// The error this one wraps, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, remedy: String, logTail: [String] = [],
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.remedy = remedy
        self.logTail = logTail
        self.cause = cause
    }

    /// `message; remedy`, then the log's tail.
    public var description: String {
        var text = remedy.isEmpty ? message : "\(message); \(remedy)"
        if !logTail.isEmpty {
            text += "\n" + logTail.map { "    | " + $0 }.joined(separator: "\n")
        }
        return text
    }
}
