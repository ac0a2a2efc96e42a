/// A small, strict JSON parser for the headers and configs that model files carry.
///
/// Why not Foundation's `JSONSerialization`: a scanner must see exactly what the loader
/// will see. Python's `json` and serde keep the *last* of two equal keys, so a config with
/// `"class_name": "Dense", "class_name": "Lambda"` reads as a Lambda layer to Keras while
/// a parser that keeps the first key sees a Dense one. This parser rejects duplicate keys
/// outright, keeps every value's byte offset for findings, keeps integers exact up to
/// 64 bits (safetensors offsets), and bounds nesting so that a hostile file cannot exhaust
/// the stack.
///
/// `NaN`, `Infinity` and `-Infinity` are accepted as numbers because Python's `json.dumps`
/// writes them by default; everything else follows RFC 8259. Strings must be valid UTF-8
/// and `\u` escapes must not leave a lone surrogate.
enum StrictJSON {
    /// Why a text is not JSON, and where.
    struct Error: Swift.Error, Sendable, Equatable {
        /// Byte offset of the problem in the parsed text.
        var offset: Int
        var reason: String
    }

    /// A number as written, with its exact integer value where it has one.
    struct Number: Sendable, Equatable {
        var text: String
        /// Set when the number is written as an integer (no fraction, no exponent) that fits.
        var int64: Int64?
        var uint64: UInt64?
        var double: Double? { Double(text) }
    }

    /// A parsed value and the byte offset of its first character.
    struct Node: Sendable {
        enum Value: Sendable {
            case null
            case bool(Bool)
            case number(Number)
            case string(String)
            case array([Node])
            /// Members in file order; keys are unique.
            case object([(key: String, value: Node)])
        }

        var offset: Int
        var value: Value

        /// The member named `key` when this is an object.
        subscript(key: String) -> Node? {
            guard case .object(let members) = value else { return nil }
            return members.first(where: { $0.key == key })?.value
        }

        var string: String? {
            if case .string(let s) = value { return s }
            return nil
        }

        var isNull: Bool {
            if case .null = value { return true }
            return false
        }
    }

    /// Deepest nesting of arrays and objects accepted.
    static let defaultDepthLimit = 256

    /// Parses one JSON value; only whitespace may follow it.
    static func parse(_ bytes: UnsafeRawBufferPointer,
                      depthLimit: Int = defaultDepthLimit) throws(Error) -> Node {
        var parser = Parser(bytes: bytes, position: 0, depthLimit: depthLimit)
        parser.skipWhitespace()
        let node = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw Error(offset: parser.position, reason: "unexpected data after the JSON value")
        }
        return node
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position: Int
        let depthLimit: Int

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        func fail(_ reason: String, at offset: Int? = nil) -> Error {
            Error(offset: offset ?? position, reason: reason)
        }

        mutating func value(depth: Int) throws(Error) -> Node {
            guard position < bytes.count else { throw fail("unexpected end of JSON") }
            let start = position
            switch bytes[position] {
            case UInt8(ascii: "{"):
                return Node(offset: start, value: try object(depth: depth + 1))
            case UInt8(ascii: "["):
                return Node(offset: start, value: try array(depth: depth + 1))
            case UInt8(ascii: "\""):
                return Node(offset: start, value: .string(try string()))
            case UInt8(ascii: "t"):
                try literal("true")
                return Node(offset: start, value: .bool(true))
            case UInt8(ascii: "f"):
                try literal("false")
                return Node(offset: start, value: .bool(false))
            case UInt8(ascii: "n"):
                try literal("null")
                return Node(offset: start, value: .null)
            case UInt8(ascii: "N"):
                try literal("NaN")
                return Node(offset: start, value: .number(Number(text: "nan")))
            case UInt8(ascii: "I"):
                try literal("Infinity")
                return Node(offset: start, value: .number(Number(text: "inf")))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return Node(offset: start, value: .number(try number()))
            default:
                throw fail("unexpected character '\(Self.printable(bytes[position]))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(Error) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("unexpected end of JSON") }
            let matches = word.withUTF8Buffer { expected in
                (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
            }
            guard matches else { throw fail("invalid literal") }
            position += count
        }

        mutating func object(depth: Int) throws(Error) -> Node.Value {
            guard depth <= depthLimit else { throw fail("JSON nests deeper than \(depthLimit) levels") }
            position += 1
            var members: [(key: String, value: Node)] = []
            var seen = Set<String>()
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key")
                }
                let keyOffset = position
                let key = try string()
                guard seen.insert(key).inserted else {
                    throw fail("duplicate key \"\(key)\" (loaders disagree on which one wins)",
                               at: keyOffset)
                }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                    throw fail("expected ':' after a key")
                }
                position += 1
                skipWhitespace()
                members.append((key, try value(depth: depth)))
                skipWhitespace()
                guard position < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw fail("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(Error) -> Node.Value {
            guard depth <= depthLimit else { throw fail("JSON nests deeper than \(depthLimit) levels") }
            position += 1
            var elements: [Node] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                guard position < bytes.count else { throw fail("unexpected end of JSON") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
                throw fail("expected ',' or ']' in an array")
            }
        }

        mutating func number() throws(Error) -> Number {
            let start = position
            if bytes[position] == UInt8(ascii: "-") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "I") {
                    try literal("Infinity")
                    return Number(text: "-inf")
                }
            }
            let digitsStart = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
            let intDigits = position - digitsStart
            guard intDigits > 0 else { throw fail("a number needs digits") }
            if intDigits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
                throw fail("a number must not start with 0", at: digitsStart)
            }
            var isInteger = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                let fractionStart = position
                while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
                guard position > fractionStart else { throw fail("a fraction needs digits") }
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                isInteger = false
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    position += 1
                }
                let exponentStart = position
                while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
                guard position > exponentStart else { throw fail("an exponent needs digits") }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]),
                              as: UTF8.self)
            var number = Number(text: text)
            if isInteger {
                number.int64 = Int64(text)
                number.uint64 = UInt64(text)
            }
            return number
        }

        mutating func string() throws(Error) -> String {
            let start = position
            position += 1
            var scalars = String.UnicodeScalarView()
            var runStart = position
            // Copies runs of plain bytes at once; only escapes go scalar by scalar.
            func flush(_ end: Int) throws(Error) {
                guard end > runStart else { return }
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])
                guard let text = String(validating: run, as: UTF8.self) else {
                    throw Error(offset: runStart, reason: "string is not valid UTF-8")
                }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    try flush(position)
                    position += 1
                    return String(scalars)
                }
                if byte < 0x20 {
                    throw fail("control character in a string")
                }
                if byte != UInt8(ascii: "\\") {
                    position += 1
                    continue
                }
                try flush(position)
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    scalars.append(try unicodeEscape())
                default:
                    throw fail("invalid escape '\\\(Self.printable(escape))'", at: position - 2)
                }
                runStart = position
            }
            throw fail("unterminated string", at: start)
        }

        /// Reads the hex digits after `\u` (and a second escape for a surrogate pair).
        mutating func unicodeEscape() throws(Error) -> Unicode.Scalar {
            let escapeStart = position - 2
            let high = try hex4()
            if (0xD800...0xDBFF).contains(high) {
                guard position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                      bytes[position + 1] == UInt8(ascii: "u") else {
                    throw fail("lone surrogate in a \\u escape", at: escapeStart)
                }
                position += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw fail("lone surrogate in a \\u escape", at: escapeStart)
                }
                let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                guard let scalar = Unicode.Scalar(value) else {
                    throw fail("invalid \\u escape", at: escapeStart)
                }
                return scalar
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw fail("lone surrogate in a \\u escape", at: escapeStart)
            }
            return scalar
        }

        mutating func hex4() throws(Error) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("unexpected end of JSON") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: throw fail("invalid hex digit in a \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        static func printable(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
        }
    }
}
