/// Replaces secret values with `***` in every text mlpipe writes.
///
/// Every path that could show a secret — console lines, log files, error messages, the
/// database — goes through one masker, so a secret that reaches a stage's environment
/// never comes back out. Longer values are replaced first, so that a secret that
/// contains another is masked whole. A run refuses secret values shorter than
/// `ResolvedSecrets.shortestMaskable` (4) characters before anything runs: masking `a`
/// would replace every `a` in every log.
public struct SecretMasker: Sendable {
    /// The values to hide, longest first.
    let values: [String]

    /// The longest value's length in bytes: a streaming writer keeps this many bytes
    /// back so that a secret split across two writes is still found.
    public var longestValueLength: Int { values.first?.utf8.count ?? 0 }

    public init(values: some Sequence<String>) {
        self.values = Array(Set(values.filter { !$0.isEmpty }))
            .sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0 < $1 }
    }

    /// A masker that hides nothing.
    public static let none = SecretMasker(values: [])

    public var isEmpty: Bool { values.isEmpty }

    /// `text` with every secret value replaced by `***`.
    public func mask(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var result = text
        for value in values where result.contains(value) {
            result = result.replacingOccurrences(of: value, with: "***")
        }
        return result
    }

    /// Byte-level masking for log streams, where a chunk may not be valid UTF-8.
    public func mask(bytes: [UInt8]) -> [UInt8] {
        guard !values.isEmpty else { return bytes }
        var data = bytes
        for value in values {
            let needle = Array(value.utf8)
            data = Self.replace(needle, in: data)
        }
        return data
    }

    private static let stars: [UInt8] = Array("***".utf8)

    private static func replace(_ needle: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard needle.count <= haystack.count, let first = needle.first else { return haystack }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var i = 0
        let n = needle.count
        while i < haystack.count {
            if haystack[i] == first, i + n <= haystack.count, haystack[i..<(i + n)].elementsEqual(needle) {
                out.append(contentsOf: stars)
                i += n
            } else {
                out.append(haystack[i])
                i += 1
            }
        }
        return out
    }
}
