/// A problem with an expression: malformed text found while loading, or a value missing
/// when it is rendered.
public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the expression (or its bad token) is.
    public var location: SourceLocation
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates an error.
    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// The same problem as a diagnostic line.
    public var diagnostic: Diagnostic { Diagnostic(location: location, message: message) }

    /// `FILE:LINE:COL: error: MESSAGE`.
    public var description: String { diagnostic.rendered }
}
