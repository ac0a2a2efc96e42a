/// A `with:` value that its settings type refuses: thrown from a settings type's
/// `init(from:)` (see `KindSettings`).
///
/// The message says what is wrong with the value and how to fix it, without the key:
/// "'onx' is not a model format; use one of auto, onnx, …". `SettingsDecoder` adds the key
/// path ("with.format: ") and reports it at the value's FILE:LINE:COL; by default the value
/// is the one whose `init(from:)` threw. A type that checks one of its members after
/// reading it names that member with `at:` (`container.codingPath + [CodingKeys.name]`).
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public var message: String
    /// The value it is about, from the root of `with:`; nil for the value being decoded.
    var path: SettingsPath?

    /// Creates the error about the value being decoded, or about the value at `codingPath`
    /// (a full path, as `Decoder.codingPath` and `container.codingPath` give).
    public init(_ message: String, at codingPath: [any CodingKey]? = nil) {
        self.message = message
        self.path = codingPath.map(SettingsPath.init(codingPath:))
    }

    /// The message.
    public var description: String { message }
}

/// Every problem of a stage's `with:` found when the stage starts, each at the place in
/// the pipeline file where the value (or the expression it came from) is written.
///
/// Thrown by `SettingsDecoder.decode(_:from:of:)`, and so by the engine's `bind`; the
/// stage fails with `description`.
public struct SettingsFailure: Error, Sendable, CustomStringConvertible {
    /// The problems, in the order found; never empty when thrown.
    public var diagnostics: [Diagnostic]

    /// Creates the failure.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// `FILE:LINE:COL: message` for each problem, joined by "; ": a stage's error is one line.
    public var description: String {
        diagnostics.map { "\($0.location): \($0.message)" }.joined(separator: "; ")
    }
}
