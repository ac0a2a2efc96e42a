/// A strict JSON (RFC 8259) parser that keeps where each value and key starts, so that a
/// bad request line is reported at its column, and the byte range of each value, so that a
/// request body is sent exactly as the file wrote it.
///
/// Foundation's `JSONSerialization` gives neither. Offsets are into the parsed bytes; a
/// caller turns them into columns (``column(of:in:)``). Nesting is limited to
/// ``maximumDepth`` so that a hostile line cannot exhaust the stack.
struct SmokeJSONParser {
    /// A parsed value with its place in the input.
    struct Node {
        enum Kind {
            case null
            case bool(Bool)
            case number(Double)
            case string(String)
            case array([Node])
            case object([Member])
        }

        var kind: Kind
        /// Offsets of the value's first byte and one past its last.
        var range: Range<Int>

        /// The value without positions.
        var value: SmokeValue {
            switch kind {
            case .null: .null
            case .bool(let value): .bool(value)
            case .number(let value): .number(value)
            case .string(let value): .string(value)
            case .array(let nodes): .array(nodes.map(\.value))
            case .object(let members):
                .object(Dictionary(members.map { ($0.key, $0.value.value) }, uniquingKeysWith: { first, _ in first }))
            }
        }
    }

    /// One `"key": value` of an object.
    struct Member {
        var key: String
        var keyOffset: Int
        var value: Node
    }

    /// Malformed JSON: what was expected, at which byte.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    static let maximumDepth = 256

    private let bytes: [UInt8]
    private var offset = 0
    private var depth = 0

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> Node {
        var parser = SmokeJSONParser(bytes: bytes)
        parser.skipWhitespace()
        let node = try parser.value()
        parser.skipWhitespace()
        guard parser.offset == bytes.count else {
            throw SyntaxError(offset: parser.offset, message: "unexpected \(parser.describeCurrent()) after the JSON value; "
                              + "a line holds exactly one JSON object")
        }
        return node
    }

    /// The 1-based column (in characters) of byte `offset` of `bytes`.
    static func column(of offset: Int, in bytes: [UInt8]) -> Int {
        String(decoding: bytes[..<min(offset, bytes.count)], as: UTF8.self).count + 1
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func value() throws(SyntaxError) -> Node {
        guard offset < bytes.count else { throw SyntaxError(offset: offset, message: "expected a value, found the end of the line") }
        let start = offset
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return Node(kind: .string(try string()), range: start..<offset)
        case UInt8(ascii: "t"): try literal("true"); return Node(kind: .bool(true), range: start..<offset)
        case UInt8(ascii: "f"): try literal("false"); return Node(kind: .bool(false), range: start..<offset)
        case UInt8(ascii: "n"): try literal("null"); return Node(kind: .null, range: start..<offset)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            throw SyntaxError(offset: offset, message: "expected a value (object, array, string, number, true, false "
                              + "or null), found \(describeCurrent())")
        }
    }

    private mutating func object() throws(SyntaxError) -> Node {
        let start = offset
        try enter()
        offset += 1
        var members: [Member] = []
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            offset += 1
            depth -= 1
            return Node(kind: .object(members), range: start..<offset)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else {
                throw SyntaxError(offset: offset, message: "expected a key in double quotes, found \(describeCurrent())")
            }
            let keyOffset = offset
            let key = try string()
            if members.contains(where: { $0.key == key }) {
                throw SyntaxError(offset: keyOffset, message: "the key \(quoted(key)) appears twice in this object")
            }
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else {
                throw SyntaxError(offset: offset, message: "expected ':' after the key \(quoted(key)), found \(describeCurrent())")
            }
            offset += 1
            skipWhitespace()
            members.append(Member(key: key, keyOffset: keyOffset, value: try value()))
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { offset += 1; continue }
            if peek(UInt8(ascii: "}")) { offset += 1; break }
            throw SyntaxError(offset: offset, message: "expected ',' or '}' after the value of \(quoted(key)), "
                              + "found \(describeCurrent())")
        }
        depth -= 1
        return Node(kind: .object(members), range: start..<offset)
    }

    private mutating func array() throws(SyntaxError) -> Node {
        let start = offset
        try enter()
        offset += 1
        var nodes: [Node] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            offset += 1
            depth -= 1
            return Node(kind: .array(nodes), range: start..<offset)
        }
        while true {
            skipWhitespace()
            nodes.append(try value())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { offset += 1; continue }
            if peek(UInt8(ascii: "]")) { offset += 1; break }
            throw SyntaxError(offset: offset, message: "expected ',' or ']' in the array, found \(describeCurrent())")
        }
        depth -= 1
        return Node(kind: .array(nodes), range: start..<offset)
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw SyntaxError(offset: offset, message: "values are nested more than \(Self.maximumDepth) deep")
        }
    }

    private mutating func string() throws(SyntaxError) -> String {
        let start = offset
        offset += 1
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        while true {
            guard offset < bytes.count else {
                throw SyntaxError(offset: start, message: "the string that starts here has no closing '\"'")
            }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                scalars.append(contentsOf: String(decoding: bytes[runStart..<offset], as: UTF8.self).unicodeScalars)
                offset += 1
                return String(scalars)
            }
            if byte < 0x20 {
                throw SyntaxError(offset: offset, message: "a control character inside a string must be escaped (\\n, \\t, \\u00XX)")
            }
            guard byte == UInt8(ascii: "\\") else { offset += 1; continue }
            scalars.append(contentsOf: String(decoding: bytes[runStart..<offset], as: UTF8.self).unicodeScalars)
            scalars.append(try escape())
            runStart = offset
        }
    }

    private mutating func escape() throws(SyntaxError) -> Unicode.Scalar {
        let at = offset
        guard offset + 1 < bytes.count else { throw SyntaxError(offset: at, message: "an escape at the end of the line") }
        let letter = bytes[offset + 1]
        offset += 2
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try hex4(at: at)
            if (0xD800..<0xDC00).contains(high), offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
               bytes[offset + 1] == UInt8(ascii: "u") {
                offset += 2
                let low = try hex4(at: at)
                if (0xDC00..<0xE000).contains(low),
                   let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                    return scalar
                }
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw SyntaxError(offset: at, message: "\\u escape of a lone surrogate; pair it or write the character itself")
            }
            return scalar
        default:
            throw SyntaxError(offset: at, message: "unknown escape '\\\(Character(Unicode.Scalar(letter)))'; "
                              + "JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
        }
    }

    private mutating func hex4(at escapeOffset: Int) throws(SyntaxError) -> UInt32 {
        guard offset + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16) else {
            throw SyntaxError(offset: escapeOffset, message: "\\u must be followed by four hex digits")
        }
        offset += 4
        return value
    }

    private mutating func number() throws(SyntaxError) -> Node {
        let start = offset
        if peek(UInt8(ascii: "-")) { offset += 1 }
        if peek(UInt8(ascii: "0")) {
            offset += 1
            guard digits() == 0 else { throw SyntaxError(offset: start, message: "a number cannot start with 0 followed by digits") }
        } else {
            guard digits() > 0 else { throw SyntaxError(offset: start, message: "a number needs a digit after '-'") }
        }
        if peek(UInt8(ascii: ".")) {
            offset += 1
            guard digits() > 0 else { throw SyntaxError(offset: offset, message: "a number needs digits after '.'") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            offset += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { offset += 1 }
            guard digits() > 0 else { throw SyntaxError(offset: offset, message: "a number needs digits in its exponent") }
        }
        guard let value = Double(String(decoding: bytes[start..<offset], as: UTF8.self)), value.isFinite else {
            throw SyntaxError(offset: start, message: "the number is out of range")
        }
        return Node(kind: .number(value), range: start..<offset)
    }

    private mutating func digits() -> Int {
        let start = offset
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
        return offset - start
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let expected = word.withUTF8Buffer { Array($0) }
        guard bytes.count - offset >= expected.count, Array(bytes[offset..<offset + expected.count]) == expected else {
            throw SyntaxError(offset: offset, message: "expected a value, found \(describeCurrent()) "
                              + "(strings need double quotes)")
        }
        offset += expected.count
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool { offset < bytes.count && bytes[offset] == byte }

    private func describeCurrent() -> String {
        guard offset < bytes.count else { return "the end of the line" }
        let scalar = Unicode.Scalar(bytes[offset])
        return bytes[offset] < 0x80 && bytes[offset] >= 0x20 ? "'\(Character(scalar))'" : "byte 0x\(String(bytes[offset], radix: 16))"
    }

    private func quoted(_ key: String) -> String { "\"\(key)\"" }
}
