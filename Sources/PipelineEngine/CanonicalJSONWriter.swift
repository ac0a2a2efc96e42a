/// Writes JSON in one canonical form: object keys sorted by their UTF-8 bytes, no
/// whitespace, and strings escaped only where RFC 8259 requires it (`"`, `\\` and
/// control characters), so that equal values always give equal bytes.
///
/// The writer of ``KeyComponents/canonicalJSON``. Callers write an object's fields in
/// sorted order themselves (``key(_:)`` checks it in debug builds); dictionaries are
/// sorted here.
struct CanonicalJSONWriter {
    private(set) var text = ""

    init() {
        text.reserveCapacity(512)
    }

    /// Whether the object being written already has a field, one flag per open object.
    private var hasField: [Bool] = []
    /// The last key of each open object, to check the order in debug builds.
    private var lastKey: [String] = []

    mutating func beginObject() {
        text.append("{")
        hasField.append(false)
        lastKey.append("")
    }

    /// Starts a field; fields must come in sorted order.
    mutating func key(_ name: String) {
        assert(!hasField.last! || lastKey.last!.utf8.lexicographicallyPrecedes(name.utf8),
               "fields must be written in sorted order")
        if hasField.last! { text.append(",") }
        hasField[hasField.count - 1] = true
        lastKey[lastKey.count - 1] = name
        string(name)
        text.append(":")
    }

    mutating func endObject() {
        text.append("}")
        hasField.removeLast()
        lastKey.removeLast()
    }

    mutating func integer(_ value: Int) {
        text.append(String(value))
    }

    mutating func array(_ values: [String]) {
        text.append("[")
        for (index, value) in values.enumerated() {
            if index > 0 { text.append(",") }
            string(value)
        }
        text.append("]")
    }

    mutating func dictionary(_ values: [String: String]) {
        text.append("{")
        let keys = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { text.append(",") }
            string(key)
            text.append(":")
            string(values[key]!)
        }
        text.append("}")
    }

    mutating func string(_ value: String) {
        text.append("\"")
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                text.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                text.append(escape)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        text.append("\"")
    }
}
