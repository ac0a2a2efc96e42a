import Foundation

extension Value {
    /// The value as words of a POSIX shell command line: a list gives its items,
    /// space-separated, each in its `interpolated` form and single-quoted unless it holds
    /// only characters no shell treats specially (`model.pkl` stays as is,
    /// `runs/3/train[lr=0.1]/model.pkl` is quoted); any other value is one word, quoted
    /// the same way. An empty list gives the empty string (no word).
    public var shellWords: String {
        if case .array(let items) = self { return items.map(\.shellWords).joined(separator: " ") }
        return Value.shellQuoted(interpolated)
    }

    /// `text` as one shell word: as is when it is non-empty and holds only
    /// `A-Z a-z 0-9 _ - . / : @ % + , =`; otherwise in single quotes, each `'` written `'\''`.
    static func shellQuoted(_ text: String) -> String {
        let safe = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "_-./:@%+,=".unicodeScalars.contains(scalar)
        }
        return safe ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
