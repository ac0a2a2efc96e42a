#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input pattern or pathspec, matched against repository-relative paths.
///
/// A pattern is a path (a file or a folder) or a glob: `*` matches any run of
/// characters within one path segment, `?` one byte, `[a-z]` / `[!a-z]` a byte
/// from (or not from) a set, `\` escapes the next byte, and `**` as a whole
/// segment matches zero or more folders. Paths are compared as bytes, without
/// case folding, like git on Linux.
///
/// A path is *covered* when the pattern matches it or one of its ancestor folders:
/// `data/*` covers `data/train/a.csv` because it matches `data/train`. That is how
/// a folder input stands for everything below it.
struct PathPattern: Sendable, Hashable {
    /// The pattern as the user wrote it.
    let text: String
    /// The normalised pattern: no leading `./`, no trailing or doubled `/`.
    let normalized: [UInt8]
    /// Whether the pattern holds glob syntax; a literal pattern is a plain path.
    let isGlob: Bool
    /// The longest leading run of whole literal segments: the folder (or file) that
    /// holds every match. Empty for the whole repository.
    let literalPrefix: [UInt8]
    /// False when the pattern can match nothing inside the repository (an absolute
    /// path, or one with `..`).
    let isValid: Bool

    private let segments: [[UInt8]]

    init(_ text: String) {
        self.text = text
        var parts: [[UInt8]] = []
        var valid = !text.hasPrefix("/")
        for part in text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual(".".utf8) { continue }
            if part.elementsEqual("..".utf8) { valid = false }
            parts.append(Array(part))
        }
        segments = parts
        normalized = Array(parts.joined(separator: [UInt8(ascii: "/")]))
        isValid = valid
        let globIndex = parts.firstIndex(where: { $0.contains(where: PathPattern.isSpecial) })
        isGlob = globIndex != nil
        literalPrefix = Array(parts[..<(globIndex ?? parts.count)].joined(separator: [UInt8(ascii: "/")]))
    }

    /// The normalised pattern as a string.
    var normalizedString: String { String(decoding: normalized, as: UTF8.self) }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "[")
            || byte == UInt8(ascii: "\\")
    }

    /// Whether the pattern matches exactly `path`.
    func matches(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard isValid else { return false }
        if !isGlob { return path.elementsEqual(normalized) }
        return normalized.withUnsafeBufferPointer { pattern in
            PathPattern.glob(pattern, 0, path, 0)
        }
    }

    /// Whether the pattern matches `path` or one of its ancestor folders.
    func covers(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard isValid else { return false }
        if !isGlob {
            let count = normalized.count
            if count == 0 { return true }
            guard path.count >= count else { return false }
            guard path.count == count || path[count] == UInt8(ascii: "/") else { return false }
            return normalized.withUnsafeBufferPointer { prefix in
                memcmp(prefix.baseAddress!, path.baseAddress!, count) == 0
            }
        }
        // Only paths inside the literal prefix can match.
        guard PathPattern.isInside(path, literalPrefix) else { return false }
        var end = literalPrefix.count
        while end <= path.count {
            if end == path.count || path[end] == UInt8(ascii: "/") {
                if end > 0, matches(UnsafeBufferPointer(rebasing: path[0..<end])) { return true }
            }
            end += 1
        }
        return false
    }

    /// Whether some path below the folder `directory` may be covered, so a walk
    /// must descend into it. Conservative: true when unsure (after `**`).
    func mayCoverBelow(_ directory: UnsafeBufferPointer<UInt8>) -> Bool {
        guard isValid else { return false }
        if covers(directory) { return true }
        let parts = directory.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            guard index < segments.count else { return true }
            let segment = segments[index]
            if segment.elementsEqual("**".utf8) { return true }
            let matched = segment.withUnsafeBufferPointer { pattern in
                PathPattern.glob(pattern, 0, UnsafeBufferPointer(rebasing: part), 0)
            }
            if !matched { return false }
        }
        return true
    }

    /// Whether `path` equals `folder` or lies below it (`folder` empty = root).
    static func isInside(_ path: UnsafeBufferPointer<UInt8>, _ folder: [UInt8]) -> Bool {
        let count = folder.count
        if count == 0 { return true }
        guard path.count >= count, path.count == count || path[count] == UInt8(ascii: "/") else {
            return false
        }
        return folder.withUnsafeBufferPointer { prefix in
            memcmp(prefix.baseAddress!, path.baseAddress!, count) == 0
        }
    }

    /// Backtracking glob match of `pattern[p...]` against `path[s...]`.
    private static func glob(_ pattern: UnsafeBufferPointer<UInt8>, _ p: Int,
                             _ path: UnsafeBufferPointer<UInt8>, _ s: Int) -> Bool {
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        var p = p, s = s
        while p < pattern.count {
            let c = pattern[p]
            switch c {
            case star:
                let isDouble = p + 1 < pattern.count && pattern[p + 1] == star
                let startsSegment = p == 0 || pattern[p - 1] == slash
                let endsSegment = p + 2 == pattern.count || (p + 2 < pattern.count && pattern[p + 2] == slash)
                if isDouble && startsSegment && endsSegment {
                    if p + 2 == pattern.count { return true }   // trailing `/**`: everything below
                    let rest = p + 3
                    if glob(pattern, rest, path, s) { return true }   // zero folders
                    var k = s
                    while k < path.count {
                        if path[k] == slash, glob(pattern, rest, path, k + 1) { return true }
                        k += 1
                    }
                    return false
                }
                while p < pattern.count && pattern[p] == star { p += 1 }
                var k = s
                while true {
                    if glob(pattern, p, path, k) { return true }
                    if k == path.count || path[k] == slash { return false }
                    k += 1
                }
            case UInt8(ascii: "?"):
                guard s < path.count, path[s] != slash else { return false }
                p += 1; s += 1
            case UInt8(ascii: "["):
                guard s < path.count, path[s] != slash else { return false }
                guard let (matched, next) = matchClass(pattern, p, path[s]) else {
                    // An unclosed `[` is a literal bracket.
                    guard path[s] == c else { return false }
                    p += 1; s += 1
                    continue
                }
                guard matched else { return false }
                p = next; s += 1
            case UInt8(ascii: "\\") where p + 1 < pattern.count:
                guard s < path.count, path[s] == pattern[p + 1] else { return false }
                p += 2; s += 1
            default:
                guard s < path.count, path[s] == c else { return false }
                p += 1; s += 1
            }
        }
        return s == path.count
    }

    /// Matches `byte` against the bracket expression at `pattern[start]`; returns
    /// whether it matched and the index after `]`, or nil if there is no `]`.
    private static func matchClass(_ pattern: UnsafeBufferPointer<UInt8>, _ start: Int,
                                   _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.count, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
            negate = true; i += 1
        }
        var matched = false
        var first = true
        while i < pattern.count {
            var low = pattern[i]
            if low == UInt8(ascii: "]") && !first { return (matched != negate, i + 1) }
            first = false
            if low == UInt8(ascii: "\\"), i + 1 < pattern.count { i += 1; low = pattern[i] }
            var high = low
            if i + 2 < pattern.count, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                high = pattern[i + 2]; i += 2
            }
            if low <= byte && byte <= high { matched = true }
            i += 1
        }
        return nil
    }
}
