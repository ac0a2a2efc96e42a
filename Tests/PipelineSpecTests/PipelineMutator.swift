import Foundation

/// Makes many broken variants of a valid pipeline file, deterministically, to show that
/// the loader answers every one with a pipeline or with well-formed diagnostics.
///
/// Written to be copied: it needs nothing but the standard library, and the same
/// `(document, count, seed)` always gives the same variants, so a failure names a variant
/// that can be reproduced by its index. Each variant applies one to three mutations:
/// delete, duplicate or swap lines, re-indent a line, replace a token, truncate, insert
/// `${{`, rename a stage, add a `needs:` that closes a cycle, insert random characters
/// (control characters, quotes, non-ASCII), and the YAML features that stress a parser
/// (anchors, aliases, flow collections, tags).
enum PipelineMutator {
    /// `count` variants of `document`, reproducible from `seed`.
    static func variants(of document: String, count: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            var text = document
            for _ in 0..<(1 + generator.next(below: 3)) {
                text = mutate(text, using: &generator)
            }
            return text
        }
    }

    /// Tokens that are meaningful to YAML or to expressions, or plausible typos.
    static let tokens = [
        ":", "-", "- ", "[", "]", "{", "}", ",", "?", "&a", "*a", "*missing", "&a [1, 2]", "<<: *a",
        "\"", "'", "|", ">-", "!!str", "!!int", "!custom", "#", "%YAML 1.2", "---", "...",
        "null", "~", "true", "\"false\"", "0", "-1", "3.5", "1e999", ".nan", "0x1F", "99999999999999999999",
        "..", "../..", "/abs/path", "a/../../b", "${{", "}}", "${{ }}", "${{ params.nope }}",
        "${{ stages.nope.outputs.x }}", "${{ secrets.X }}", "${{ ((((( }}", "${{ 'unterminated }}",
        "${{ a == }}", "${{ !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! true }}", "$VAR", "${VAR}",
        "kind", "kidn", "run", "needs", "inputs", "outputs", "with", "env", "timeout", "retries",
        "cache", "metrics", "version", "name", "params", "stages", "secrets", "command", "validate",
        "10m", "1h30m", "90x", "é", "日本", "🙂", "\u{FEFF}", "\t", "\u{0}", "\u{7}", "\u{1B}[31m",
    ]

    private static func mutate(_ text: String, using generator: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.isEmpty { lines = [""] }
        let line = generator.next(below: lines.count)
        switch generator.next(below: 12) {
        case 0:  // delete a line
            lines.remove(at: line)
        case 1:  // duplicate a line
            lines.insert(lines[line], at: line)
        case 2:  // swap two lines
            lines.swapAt(line, generator.next(below: lines.count))
        case 3:  // re-indent a line
            let stripped = String(lines[line].drop { $0 == " " })
            let indent = ["", " ", "   ", "      ", "\t", "        "][generator.next(below: 6)]
            lines[line] = indent + stripped
        case 4:  // replace a word with a token
            lines[line] = replaceWord(in: lines[line], with: tokens[generator.next(below: tokens.count)],
                                      using: &generator)
        case 5:  // truncate
            let scalars = Array(text.unicodeScalars)
            return String(String.UnicodeScalarView(scalars.prefix(generator.next(below: scalars.count + 1))))
        case 6:  // insert `${{` somewhere
            return insert("${{", into: text, using: &generator)
        case 7:  // rename a stage everywhere, or only where it is declared
            let names = stageNames(lines)
            guard !names.isEmpty else { return text }
            let name = names[generator.next(below: names.count)]
            let replacement = ["trian", name + "x", "a b", "9lives", "", name.uppercased()][generator.next(below: 6)]
            if generator.next(below: 2) == 0 {
                return text.replacingOccurrences(of: name, with: replacement)
            }
            lines = lines.map { $0 == "  \(name):" ? "  \(replacement):" : $0 }
        case 8:  // close a cycle: make an early stage need a later one
            let names = stageNames(lines)
            guard names.count >= 2, let header = lines.firstIndex(of: "  \(names[0]):") else {
                return insert("needs: [\(names.first ?? "x")]", into: text, using: &generator)
            }
            lines.insert("    needs: [\(names[1 + generator.next(below: names.count - 1)])]", at: header + 1)
        case 9:  // insert random characters
            var junk = ""
            for _ in 0..<(1 + generator.next(below: 8)) {
                let value = UInt32(generator.next(below: 0x2FF))
                junk.unicodeScalars.append(Unicode.Scalar(value) ?? "?")
            }
            return insert(junk, into: text, using: &generator)
        case 10:  // insert a token on its own line
            lines.insert(String(repeating: " ", count: generator.next(below: 6)) + tokens[generator.next(below: tokens.count)],
                         at: line)
        default:  // deepen: wrap a value in flow brackets
            lines[line] = lines[line].replacingOccurrences(of: ": ", with: ": [") + "]"
        }
        return lines.joined(separator: "\n")
    }

    private static func replaceWord(in line: String, with token: String, using generator: inout SplitMix64) -> String {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard !words.isEmpty else { return line + token }
        var result = words.map(String.init)
        result[generator.next(below: result.count)] = token
        let indent = String(line.prefix { $0 == " " })
        return indent + result.joined(separator: " ")
    }

    private static func insert(_ piece: String, into text: String, using generator: inout SplitMix64) -> String {
        var scalars = Array(text.unicodeScalars)
        scalars.insert(contentsOf: piece.unicodeScalars, at: generator.next(below: scalars.count + 1))
        return String(String.UnicodeScalarView(scalars))
    }

    /// Names declared as `  NAME:` lines (two spaces: stage headers in block style).
    private static func stageNames(_ lines: [String]) -> [String] {
        lines.compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") else { return nil }
            return String(line.dropFirst(2).dropLast())
        }
    }
}

/// A tiny deterministic generator (SplitMix64), so variants are the same on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (0 when `bound` is 0).
    mutating func next(below bound: Int) -> Int {
        bound <= 0 ? 0 : Int(next() % UInt64(bound))
    }
}
