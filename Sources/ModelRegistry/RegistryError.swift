/// Why a registry call failed: what went wrong, where, and how to fix it.
///
/// `description` is one line, `message; remedy`. An unknown model, version or alias
/// carries the word that was not found (`subject`) and the ones that exist (`known`), so
/// that the command line can add a did-you-mean. A token is never part of an error: a
/// refused one is named by the secret it came from.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that act on it.
    public enum Code: String, Sendable, Hashable {
        /// No model of that name.
        case unknownModel
        /// The model has no version of that number.
        case unknownVersion
        /// The model has no alias of that name.
        case unknownAlias
        /// A model name, alias or reference that breaks `ModelNames`' rules.
        case invalidName
        /// The tracking server cannot be reached (refused, no route, timed out).
        case unreachable
        /// The server refused the credentials (HTTP 401 or 403).
        case unauthorized
        /// The server answered with an error, or with something that is not MLflow's API.
        case server
        /// A version did not become ready (MLflow's `FAILED_REGISTRATION`, or a deadline).
        case registrationFailed
        /// The local database failed (open, busy, disk full).
        case database
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and where.
    public var message: String
    /// What the user can do about it.
    public var remedy: String
    /// The model name, version or alias that was not found.
    public var subject: String?
    /// The names that exist where `subject` was looked for, sorted.
    public var known: [String]
    /// The error this one wraps, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, remedy: String, subject: String? = nil, known: [String] = [],
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.remedy = remedy
        self.subject = subject
        self.known = known
        self.cause = cause
    }

    /// True for errors in what the user asked for (exit 2), false for errors of the
    /// environment (exit 3).
    public var isUsage: Bool {
        switch code {
        case .unknownModel, .unknownVersion, .unknownAlias, .invalidName: true
        default: false
        }
    }

    /// `message; remedy`.
    public var description: String { "\(message); \(remedy)" }

    /// No model `name` in the registry at `location`.
    static func unknownModel(_ name: String, at location: String, known: [String]) -> RegistryError {
        RegistryError(.unknownModel, "no model '\(name)' in the \(registryName(location))",
                      remedy: "`mlpipe models list` lists the registered models", subject: name, known: known.sorted())
    }

    /// Model `name` has no version `number`.
    static func unknownVersion(_ number: Int, of name: String, at location: String, known: [String]) -> RegistryError {
        let have = known.isEmpty ? "it has no versions" : "its versions are \(known.joined(separator: ", "))"
        return RegistryError(.unknownVersion, "model '\(name)' has no version \(number) in the \(registryName(location))",
                             remedy: have, subject: String(number), known: known)
    }

    /// Model `name` has no alias `alias`.
    static func unknownAlias(_ alias: String, of name: String, at location: String, known: [String]) -> RegistryError {
        RegistryError(.unknownAlias, "model '\(name)' has no alias '\(alias)' in the \(registryName(location))",
                      remedy: "set it with `mlpipe models alias \(name) VERSION \(alias)`", subject: alias, known: known.sorted())
    }

    /// "local registry (FILE)" or "MLflow registry at URI", for messages.
    static func registryName(_ location: String) -> String {
        location.hasPrefix("mlflow:") ? "MLflow registry at \(location.dropFirst(7))" : "local registry"
    }
}
