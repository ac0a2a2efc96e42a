/// "Did you mean …?" for misspelt names: the one suggester, for the pipeline file's
/// diagnostics and the command line's (stage names, pipelines, runs' stages).
public enum Suggestions {
    /// Candidates compared per question; beyond this, a file with thousands of names
    /// would make every unknown name cost thousands of distance computations.
    static let candidateLimit = 500
    /// Names listed when no candidate is close.
    static let listLimit = 20

    /// The candidate closest to `word` by edit distance (a swap of two neighbouring
    /// characters counts as one edit), if it is close enough to be a likely typo: at most
    /// one edit for short words, a third of the length for longer ones. A candidate that
    /// differs only in case always qualifies. Ties go to the alphabetically first.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = Array(word.lowercased().unicodeScalars.prefix(64))
        var best: (distance: Int, name: String)?
        for candidate in candidates.prefix(candidateLimit) where candidate != word {
            let other = Array(candidate.lowercased().unicodeScalars.prefix(64))
            let limit = max(1, min(lowered.count, other.count) / 3)
            guard abs(other.count - lowered.count) <= limit else { continue }
            let distance = other == lowered ? 0 : editDistance(lowered, other, limit: limit)
            guard distance <= limit else { continue }
            if let current = best, (current.distance, current.name) <= (distance, candidate) { continue }
            best = (distance, candidate)
        }
        return best?.name
    }

    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits of a
    /// substring), or a number above `limit` as soon as the distance must exceed it.
    static func editDistance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar], limit: Int = .max) -> Int {
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
                rowMinimum = min(rowMinimum, current[j])
            }
            // A row's minimum never decreases further down (a transposition reaches back
            // two rows, so allow one extra edit before giving up).
            if rowMinimum > limit + 1 { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }

    /// `; did you mean 'x'?`, or `; WHAT are: a, b, c` (the first `listLimit` names in the
    /// order given: callers sort once, not once per message), or nothing when there are
    /// no candidates. With `suggest` false, only the list.
    public static func hint(for word: String, in candidates: [String], listing what: String, suggest: Bool = true) -> String {
        if suggest, let suggestion = closest(to: word, in: candidates) {
            return "; did you mean '\(suggestion)'?"
        }
        guard !candidates.isEmpty else { return "" }
        var list = candidates.prefix(listLimit).joined(separator: ", ")
        if candidates.count > listLimit { list += " and \(candidates.count - listLimit) more" }
        return "; \(what) are: \(list)"
    }
}
