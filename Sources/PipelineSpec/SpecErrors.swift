/// Every problem found in a pipeline file, sorted by line and column.
///
/// The loader never stops at the first problem: it reports everything it can check at
/// once, so a user fixes a file in one round. Only a YAML syntax error stops it early,
/// because nothing after it can be read reliably.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, sorted by location (line, column), then by message; never empty when thrown.
    public var diagnostics: [Diagnostic]

    /// Creates the error, sorting `diagnostics` and dropping exact duplicates.
    public init(diagnostics: [Diagnostic]) {
        var seen = Set<Diagnostic>()
        self.diagnostics = diagnostics
            .filter { seen.insert($0).inserted }
            .sorted { ($0.location, $0.message) < ($1.location, $1.message) }
    }

    /// Every diagnostic rendered, one per line.
    public var description: String { diagnostics.map(\.rendered).joined(separator: "\n") }
}
