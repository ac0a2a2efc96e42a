/// The one JSON string escaper of mlpipe: what cache keys, tree manifests and every
/// canonical JSON value are written with.
///
/// RFC 8259's minimum and nothing more: `"` and `\` are escaped, `\n`, `\r` and `\t`
/// take their short forms, every other control character below U+0020 is `\u00XX`
/// (lowercase hex; U+0008 and U+000C too, never `\b` or `\f`), and everything else —
/// `/`, non-ASCII — is written as it is. Equal strings therefore always give equal
/// bytes, which is what a digest of the text needs.
public enum JSONString {
    /// Appends `text`, quoted and escaped, to `out`.
    public static func append(_ text: String, to out: inout String) {
        out.append("\"")
        let scalars = text.unicodeScalars
        var plainStart = scalars.startIndex
        var index = plainStart
        while index != scalars.endIndex {
            let scalar = scalars[index]
            if scalar.value < 0x20 || scalar == "\"" || scalar == "\\" {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out.append(escape(UInt8(scalar.value)))
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        out.append("\"")
    }

    /// Appends `text`, quoted and escaped, as UTF-8 bytes.
    public static func append(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: escape(byte).utf8)
            } else {
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` quoted and escaped.
    public static func quoted(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }

    /// The escape of one character that needs one (a control character, `"` or `\`).
    static func escape(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): return "\\\""
        case UInt8(ascii: "\\"): return "\\\\"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        default:
            let digits = Array("0123456789abcdef".utf8)
            return "\\u00" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }
    }
}
