/// One problem in a pipeline file, at the node that causes it.
///
/// The message says what is wrong and how to fix it, e.g.
/// `unknown stage 'trian' in needs; did you mean 'train'?`. `rendered` is the single line
/// the command line prints:
/// `pipelines/iris.yaml:14:12: error: unknown stage 'trian' in needs; did you mean 'train'?`.
/// Secrets appear in messages by name only: the loader never sees their values.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong, and how to fix it; no location, no `error:` prefix, no trailing newline.
    public var message: String

    /// Creates a diagnostic. Newlines in `message` become spaces, so that a diagnostic is
    /// always one line, and other control characters (which a quoted YAML key can hold)
    /// are written as escapes, so that printing a diagnostic cannot drive a terminal.
    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = Diagnostic.printable(message)
    }

    /// `FILE:LINE:COL: error: MESSAGE`, one line.
    public var rendered: String { "\(location): error: \(message)" }

    /// Same as `rendered`.
    public var description: String { rendered }

    private static func printable(_ text: String) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool {
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
        }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}" {
                result.append(" ")
            } else if isControl(scalar) {
                result.append(contentsOf: scalar.escaped(asASCII: true).unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }
}
