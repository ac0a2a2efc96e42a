extension SettingsDecoder {
    /// A mapping key as a coding key.
    struct NameKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A list position as a coding key; `SettingsPath` shows it as `[index]`.
    struct IndexKey: CodingKey {
        var index: Int
        var stringValue: String { "Index \(index)" }
        var intValue: Int? { index }
        init(_ index: Int) { self.index = index }
        init?(stringValue: String) { nil }
        init(intValue: Int) { index = intValue }
    }

    /// What the attempts at decoding one `with:` learn about the keys of its mappings.
    ///
    /// A key is unknown when no keyed container opened on its mapping accepts it (a
    /// `CodingKeys` enum has no case for it), or when a whole decode got through without
    /// asking for it. A class shared by the attempts of one decode, on one thread.
    final class KeyRecord {
        /// The keys of each known mapping opened as a keyed container.
        var members: [SettingsPath: [String]] = [:]
        /// Keys that some container's key type accepts, per mapping.
        var accepted: [SettingsPath: Set<String>] = [:]
        /// Keys asked for in any attempt, and every case of a `CaseIterable` key type: the
        /// names a did-you-mean chooses from.
        var named: [SettingsPath: Set<String>] = [:]
        /// Mappings whose keys the type listed (`allKeys`), so that it judged each itself.
        var listed: Set<SettingsPath> = []
        /// Mappings opened with a `CaseIterable` key type, whose `named` keys are all there are.
        var enumerated: Set<SettingsPath> = []
    }

    /// One attempt at decoding: which values it sets aside, and what it asked for.
    ///
    /// A class, because the containers are values that a settings type copies freely; one
    /// attempt runs on one thread from start to end.
    final class Attempt {
        /// Values that decode as placeholders, as a deferred value does, and whose errors
        /// are not reported: values already reported as wrong, so that the rest is checked.
        let setAside: Set<SettingsPath>
        let keys: KeyRecord
        /// Known mappings opened as keyed containers in this attempt.
        var opened: Set<SettingsPath> = []
        /// Keys asked for (`contains`, `decode`, `decodeIfPresent`, …) per mapping.
        var requested: [SettingsPath: Set<String>] = [:]

        init(setAside: Set<SettingsPath>, keys: KeyRecord) {
            self.setAside = setAside
            self.keys = keys
        }

        /// Notes a keyed container of type `Key` opened on the mapping at `path`.
        func open<Key: CodingKey>(_ path: SettingsPath, members: [String], as type: Key.Type) {
            opened.insert(path)
            keys.members[path] = members
            keys.accepted[path, default: []].formUnion(members.filter { Key(stringValue: $0) != nil })
            if let cases = type as? any CaseIterable.Type {
                keys.named[path, default: []].formUnion(Self.names(of: cases))
                keys.enumerated.insert(path)
            }
        }

        /// Notes a key asked for in the mapping at `path`.
        func ask(_ key: String, at path: SettingsPath) {
            requested[path, default: []].insert(key)
            keys.named[path, default: []].insert(key)
        }

        private static func names<Cases: CaseIterable>(of type: Cases.Type) -> [String] {
            Cases.allCases.compactMap { ($0 as? any CodingKey)?.stringValue }
        }
    }

    /// The `Decoder` over one node of `with:`.
    ///
    /// `node` is nil for a key that is absent. `unknown` is true for a deferred value
    /// (`${{ }}` at lint time), a value or absent key set aside, and anything inside
    /// them: such a
    /// value decodes as a placeholder of the type asked for, never fails by itself, and
    /// an optional one (`decodeIfPresent`) is nil.
    struct Reader: Decoder {
        let node: SettingsNode?
        let unknown: Bool
        let path: SettingsPath
        let attempt: Attempt

        var codingPath: [any CodingKey] { path.codingKeys }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        /// The reader of a member or item of this node.
        func child(_ component: SettingsPath.Component, node child: SettingsNode?) -> Reader {
            let childPath = path.appending(component)
            var unknownChild = unknown || attempt.setAside.contains(childPath)
            if case .deferred? = child { unknownChild = true }
            return Reader(node: child, unknown: unknownChild, path: childPath, attempt: attempt)
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            if unknown { return KeyedDecodingContainer(KeyedContainer<Key>(reader: self, members: [:])) }
            guard case .mapping(let members)? = node else { throw mismatch([String: Value].self, expected: "a mapping") }
            attempt.open(path, members: Array(members.keys), as: type)
            return KeyedDecodingContainer(KeyedContainer<Key>(reader: self, members: members))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            if unknown { return UnkeyedContainer(reader: self, items: []) }
            guard case .list(let items)? = node else { throw mismatch([Value].self, expected: "a list") }
            return UnkeyedContainer(reader: self, items: items)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            SingleValueContainer(reader: self)
        }

        /// Whether the value is a known null.
        var isNull: Bool { !unknown && node?.isNull == true }

        /// Decodes the node as `T`: scalars and `Value` directly, anything else through
        /// `T.init(from:)`. A `SettingsError` that names no value is about this one.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if let value = try scalar(type) { return value }
            do {
                return try T(from: self)
            } catch var error as SettingsError where error.path == nil {
                error.path = path
                throw error
            }
        }

        /// `T` when it is `Value`, a string, a boolean or a number; nil for other types.
        private func scalar<T>(_ type: T.Type) throws -> T? {
            if type == Value.self {
                if unknown { return Value.string(placeholderText) as? T }
                return node?.value as? T
            }
            if type == String.self {
                if unknown { return placeholderText as? T }
                guard case .scalar(.string(let text))? = node else {
                    var hint = ""
                    if case .scalar(let value)? = node, value != .null { hint = "; put it in quotes if you mean text" }
                    throw mismatch(type, expected: "a string", hint: hint)
                }
                return text as? T
            }
            if type == Bool.self {
                if unknown { return false as? T }
                guard case .scalar(.bool(let flag))? = node else { throw mismatch(type, expected: "true or false") }
                return flag as? T
            }
            if type == Double.self || type == Float.self {
                if unknown { return (type == Double.self ? Double(0) as Any : Float(0) as Any) as? T }
                let number: Double
                switch node {
                case .scalar(.int(let value))?: number = Double(value)
                case .scalar(.double(let value))?: number = value
                default: throw mismatch(type, expected: "a number")
                }
                return (type == Double.self ? number as Any : Float(number) as Any) as? T
            }
            if let integer = type as? any FixedWidthInteger.Type {
                return try whole(integer) as? T
            }
            return nil
        }

        private func whole<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            if unknown { return 0 }
            guard case .scalar(.int(let value))? = node else { throw mismatch(type, expected: "a whole number") }
            guard let exact = I(exactly: value) else {
                throw mismatch(type, expected: "a whole number from \(I.min) to \(I.max)")
            }
            return exact
        }

        /// What a deferred string decodes as: its text; for a value set aside, nothing.
        private var placeholderText: String {
            if case .deferred(let raw)? = node { return raw }
            return ""
        }

        /// "expected a string, found a list" as the error a `Decoder` throws: a null is a
        /// missing value, anything else a type mismatch.
        func mismatch(_ type: Any.Type, expected: String, hint: String = "") -> DecodingError {
            let found = node?.found ?? "nothing"
            let context = DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(expected), found \(found)\(hint)")
            return node?.isNull == true ? .valueNotFound(type, context) : .typeMismatch(type, context)
        }
    }
}
