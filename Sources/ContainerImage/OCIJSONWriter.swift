import Canonical

/// Writes the OCI documents (config, manifest, index, docker manifest.json) in the same
/// canonical form as `CanonicalJSONWriter`: object keys in byte order, no whitespace,
/// strings through `JSONString`, the one escaper.
///
/// It exists beside `CanonicalJSONWriter` only because that writer has no arrays of
/// objects, no booleans and no empty objects, which OCI documents need
/// (`"layers":[{…}]`, `"empty_layer":true`, `"ExposedPorts":{"8080/tcp":{}}`); its text
/// cannot be appended to from outside its module. TODO(#7): move `beginArray`,
/// `endArray`, `bool` and `emptyObject` into `CanonicalJSONWriter` and drop this type.
struct OCIJSONWriter {
    private(set) var text = ""
    /// Per open object or array: whether it has a member yet, and the last key.
    private var hasMember: [Bool] = []
    private var lastKey: [String] = []

    init() {
        text.reserveCapacity(1024)
    }

    /// The text as bytes.
    var bytes: [UInt8] { Array(text.utf8) }

    mutating func beginObject() {
        separate()
        text.append("{")
        hasMember.append(false)
        lastKey.append("")
    }

    /// Starts a field; fields must come in byte order (checked in debug builds).
    mutating func key(_ name: String) {
        assert(!hasMember.last! || lastKey.last!.utf8.lexicographicallyPrecedes(name.utf8),
               "fields must be written in sorted order")
        if hasMember.last! { text.append(",") }
        lastKey[lastKey.count - 1] = name
        JSONString.append(name, to: &text)
        text.append(":")
        // The value that follows is this member; it must not add a comma of its own.
        pendingValue = true
    }

    mutating func endObject() {
        text.append("}")
        hasMember.removeLast()
        lastKey.removeLast()
        finished()
    }

    mutating func beginArray() {
        separate()
        text.append("[")
        hasMember.append(false)
        lastKey.append("")
    }

    mutating func endArray() {
        text.append("]")
        hasMember.removeLast()
        lastKey.removeLast()
        finished()
    }

    mutating func string(_ value: String) {
        separate()
        JSONString.append(value, to: &text)
        finished()
    }

    mutating func integer(_ value: Int64) {
        separate()
        text.append(String(value))
        finished()
    }

    mutating func bool(_ value: Bool) {
        separate()
        text.append(value ? "true" : "false")
        finished()
    }

    /// `["a","b"]`.
    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    /// `{"a":"1","b":"2"}`, keys sorted here.
    mutating func stringMap(_ values: [String: String]) {
        beginObject()
        for name in values.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            key(name)
            string(values[name]!)
        }
        endObject()
    }

    /// `{"a":{},"b":{}}`, keys sorted here: the JSON of a set (ports, volumes).
    mutating func emptyObjects(_ keys: some Collection<String>) {
        beginObject()
        for name in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            key(name)
            beginObject()
            endObject()
        }
        endObject()
    }

    /// True right after `key`: the next value is the member itself.
    private var pendingValue = false

    /// Writes the comma before a value in an array (an object's comma comes with `key`).
    private mutating func separate() {
        if pendingValue {
            pendingValue = false
            return
        }
        if let last = hasMember.last, last { text.append(",") }
    }

    /// Marks the enclosing object or array as having a member.
    private mutating func finished() {
        if !hasMember.isEmpty { hasMember[hasMember.count - 1] = true }
    }
}
