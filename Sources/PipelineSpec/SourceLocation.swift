/// A place in a pipeline file: the file as the user names it, and a 1-based line and column.
///
/// Every diagnostic and every expression error carries one, so that an editor or a CI log
/// can jump to the offending node. Columns count Unicode scalars, as libyaml does, so a line
/// with non-ASCII text before the node still points at the right character.
///
/// Invariant: `line >= 1` and `column >= 1`. A problem that belongs to no node (an empty or
/// unreadable file) is reported at `1:1`.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file as shown to the user, e.g. `pipelines/iris.yaml`.
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int

    /// Creates a location; values below 1 are raised to 1 so that the invariant always holds.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = max(1, line)
        self.column = max(1, column)
    }

    /// `FILE:LINE:COL`, the prefix of every rendered diagnostic.
    public var description: String { "\(file):\(line):\(column)" }

    /// The same position moved `count` columns to the right (for a token inside a scalar).
    func advanced(by count: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + count)
    }

    /// The location of the first character of a file, used where no node applies.
    static func start(of file: String) -> SourceLocation {
        SourceLocation(file: file, line: 1, column: 1)
    }
}

extension SourceLocation: Comparable {
    /// Orders by line, then column, then file: the order in which diagnostics are printed.
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column, lhs.file) < (rhs.line, rhs.column, rhs.file)
    }
}
