/// Collects diagnostics while a file is decoded and checked.
///
/// A class so that the many small decoding helpers can share one list without threading
/// `inout` through every call. It never leaves the thread that created it.
final class DiagnosticSink {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    /// Diagnostics kept; a file of junk could otherwise produce millions. Past the limit
    /// one more diagnostic says how many were left out.
    static let limit = 1_000
    private var omitted = 0
    /// Every diagnostic kept, as `line:column:message`: the instances of a stage with
    /// `matrix:` are decoded one by one, and a problem they share is reported once.
    private var seen = Set<String>()

    /// Records a problem. The message is an autoclosure, so that past the limit no time is
    /// spent building messages (with their did-you-mean searches) that nobody will see.
    func error(_ message: @autoclosure () -> String, at location: SourceLocation) {
        guard diagnostics.count < Self.limit else {
            omitted += 1
            if omitted == 1 {
                diagnostics.append(Diagnostic(location: location, message: "too many problems; only the first \(Self.limit) are shown, "
                                              + "fix them and run again to see the rest"))
            }
            return
        }
        let text = message()
        guard seen.insert("\(location):\(text)").inserted else { return }
        diagnostics.append(Diagnostic(location: location, message: text))
    }

    func error(_ message: @autoclosure () -> String, line: Int, column: Int) {
        error(message(), at: SourceLocation(file: file, line: line, column: column))
    }

    var isEmpty: Bool { diagnostics.isEmpty }

    /// Did-you-mean searches are made for the first problems only: past these, the file is
    /// far from valid, and each search costs up to `Suggestions.candidateLimit` comparisons.
    static let suggestionLimit = 30

    /// `Suggestions.hint`, with the search only while few problems are known.
    func hint(for word: String, in candidates: [String], listing what: String) -> String {
        Suggestions.hint(for: word, in: candidates, listing: what, suggest: diagnostics.count < Self.suggestionLimit)
    }
}
