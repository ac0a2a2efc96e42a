/// Writes JSON in one canonical form: object keys sorted by their UTF-8 bytes, no
/// whitespace, and strings escaped only where RFC 8259 requires it (`"`, `\\` and
/// control characters), so that equal values always give equal bytes.
///
/// The writer of the engine's cache keys (`KeyComponents.canonicalJSON`); strings go
/// through ``JSONString``, the one escaper. Callers write an object's fields in
/// sorted order themselves (``key(_:)`` checks it in debug builds); dictionaries are
/// sorted here.
public struct CanonicalJSONWriter {
    public private(set) var text = ""

    public init() {
        text.reserveCapacity(512)
    }

    /// Whether the object being written already has a field, one flag per open object.
    private var hasField: [Bool] = []
    /// The last key of each open object, to check the order in debug builds.
    private var lastKey: [String] = []

    public mutating func beginObject() {
        text.append("{")
        hasField.append(false)
        lastKey.append("")
    }

    /// Starts a field; fields must come in sorted order.
    public mutating func key(_ name: String) {
        assert(!hasField.last! || lastKey.last!.utf8.lexicographicallyPrecedes(name.utf8),
               "fields must be written in sorted order")
        if hasField.last! { text.append(",") }
        hasField[hasField.count - 1] = true
        lastKey[lastKey.count - 1] = name
        string(name)
        text.append(":")
    }

    public mutating func endObject() {
        text.append("}")
        hasField.removeLast()
        lastKey.removeLast()
    }

    public mutating func integer(_ value: Int) {
        text.append(String(value))
    }

    public mutating func array(_ values: [String]) {
        text.append("[")
        for (index, value) in values.enumerated() {
            if index > 0 { text.append(",") }
            string(value)
        }
        text.append("]")
    }

    public mutating func dictionary(_ values: [String: String]) {
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

    public mutating func string(_ value: String) {
        JSONString.append(value, to: &text)
    }
}
