import Foundation

// Decoders for the text arguments of protocol 0 opcodes, written to give exactly
// what CPython's pickle gives: a STRING escaped as `'\x6fs'` is the module name
// `os`, and a UNICODE `\u006fs` is too. A scanner that compares the raw text would
// miss both.

enum PickleText {
    /// The value of a STRING argument (`'...'` or `"..."`, Python bytes escapes),
    /// or nil when Python would reject it.
    static func decodeQuotedString(_ line: [UInt8]) -> [UInt8]? {
        guard line.count >= 2, let quote = line.first, quote == line.last,
              quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else { return nil }
        return decodeEscapes(line[1..<(line.count - 1)])
    }

    /// `codecs.escape_decode`: backslash escapes of a bytes literal.
    static func decodeEscapes(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard index < text.endIndex else { return nil }  // trailing backslash
            let code = text[index]
            index += 1
            switch code {
            case UInt8(ascii: "\n"): break
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "'"): out.append(UInt8(ascii: "'"))
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(code - UInt8(ascii: "0"))
                for _ in 0..<2 {
                    guard index < text.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(text[index])
                    else { break }
                    value = value * 8 + Int(text[index] - UInt8(ascii: "0"))
                    index += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                guard index + 1 < text.endIndex, let high = hexValue(text[index]),
                      let low = hexValue(text[index + 1]) else { return nil }
                out.append(UInt8(high * 16 + low))
                index += 2
            default:
                // Unknown escapes stay as they are, backslash included.
                out.append(UInt8(ascii: "\\"))
                out.append(code)
            }
        }
        return out
    }

    /// `raw-unicode-escape` decoding (the UNICODE opcode): `\uXXXX` and
    /// `\UXXXXXXXX` after an odd number of backslashes; every other byte is Latin-1.
    static func decodeRawUnicodeEscape(_ bytes: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            var run = 0
            while index < bytes.count, bytes[index] == UInt8(ascii: "\\") {
                run += 1
                index += 1
            }
            let escape = index < bytes.count ? bytes[index] : 0
            guard run % 2 == 1, escape == UInt8(ascii: "u") || escape == UInt8(ascii: "U") else {
                for _ in 0..<run { scalars.append("\\") }
                continue
            }
            for _ in 0..<(run - 1) { scalars.append("\\") }
            let width = escape == UInt8(ascii: "u") ? 4 : 8
            index += 1
            guard index + width <= bytes.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<width {
                guard let digit = hexValue(bytes[index + offset]) else { return nil }
                value = value * 16 + UInt32(digit)
            }
            index += width
            // Python keeps lone surrogates; they cannot be a module name anyway.
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Python's `int(text)` for a decimal argument (PUT, GET, LONG), or nil when
    /// Python would raise. Values beyond 64 bits are reported as `.big`.
    static func parseDecimal(_ line: ArraySlice<UInt8>, base0: Bool = false) -> ParsedInt? {
        var text = line
        while let first = text.first, isSpace(first) { text = text.dropFirst() }
        while let last = text.last, isSpace(last) { text = text.dropLast() }
        var negative = false
        if let sign = text.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            text = text.dropFirst()
        }
        var radix = 10
        if base0, text.count >= 2, text.first == UInt8(ascii: "0") {
            switch text[text.startIndex + 1] | 0x20 {
            case UInt8(ascii: "x"): radix = 16
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "b"): radix = 2
            default: break
            }
            if radix != 10 {
                text = text.dropFirst(2)
                if text.first == UInt8(ascii: "_") { text = text.dropFirst() }
            }
        }
        guard !text.isEmpty, text.first != UInt8(ascii: "_"), text.last != UInt8(ascii: "_") else { return nil }
        var value: Int64 = 0
        var overflow = false
        var previousUnderscore = false
        var sawNonZero = false
        for byte in text {
            if byte == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard let digit = hexValue(byte), digit < radix else { return nil }
            if digit != 0 { sawNonZero = true }
            if !overflow {
                let (times, o1) = value.multipliedReportingOverflow(by: Int64(radix))
                let (plus, o2) = times.addingReportingOverflow(Int64(digit))
                if o1 || o2 { overflow = true } else { value = plus }
            }
        }
        // int("012", 0) is an error in Python 3; int("00", 0) is not.
        if base0, radix == 10, text.count > 1, text.first == UInt8(ascii: "0"), sawNonZero { return nil }
        if overflow { return .big(negative: negative) }
        return .small(negative ? -value : value)
    }

    enum ParsedInt: Equatable {
        case small(Int64)
        case big(negative: Bool)
    }

    /// Whether Python's `float()` accepts the text.
    static func isFloat(_ line: ArraySlice<UInt8>) -> Bool {
        var text = String(decoding: line, as: UTF8.self)
        text = text.trimmingCharacters(in: .whitespaces)
        if text.contains("_") {
            // Underscores are allowed only between digits.
            let chars = Array(text)
            for (index, char) in chars.enumerated() where char == "_" {
                guard index > 0, index + 1 < chars.count, chars[index - 1].isNumber,
                      chars[index + 1].isNumber else { return false }
            }
            text.removeAll { $0 == "_" }
        }
        let lowered = text.lowercased()
        if lowered.contains("x") || lowered.contains("p") { return false }  // no hex floats
        return Double(text) != nil
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || (9...13).contains(byte)
    }

    /// Latin-1 text of bytes (every byte is one scalar), as BINSTRING gives with
    /// the encodings loaders use.
    static func latin1(_ bytes: UnsafeRawBufferPointer) -> String {
        if !bytes.contains(where: { $0 >= 0x80 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}
