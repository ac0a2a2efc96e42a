import PipelineSpec

/// An error of the engine, with the category that decides mlpipe's exit status.
///
/// The message says what went wrong and how to fix it. Secrets appear in it by name
/// only: every message that may quote a stage's output passes through the run's
/// `SecretMasker` before it is built.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public enum Category: Sendable {
        /// The pipeline file or the command line is wrong (exit 2).
        case definition
        /// The machine is not as needed: no git repository, unwritable workspace,
        /// missing tool or secret (exit 3).
        case environment
        /// A bug in mlpipe (exit 3, with the message).
        case `internal`
    }

    public var category: Category
    public var message: String
    /// Pipeline-file diagnostics, each rendered as FILE:LINE:COL: error: …
    public var diagnostics: [Diagnostic]
    /// The error this one wraps.
    public var cause: (any Error & Sendable)?

    public init(_ category: Category, _ message: String, diagnostics: [Diagnostic] = [], cause: (any Error & Sendable)? = nil) {
        self.category = category
        self.message = message
        self.diagnostics = diagnostics
        self.cause = cause
    }

    /// Wraps a pipeline file's diagnostics.
    public static func spec(_ errors: SpecErrors) -> EngineError {
        EngineError(.definition, "the pipeline file has \(errors.diagnostics.count) error(s)", diagnostics: errors.diagnostics)
    }

    public var description: String {
        if !diagnostics.isEmpty { return diagnostics.map(\.rendered).joined(separator: "\n") }
        return message
    }
}
