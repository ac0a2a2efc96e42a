extension SettingsDecoder {
    /// A mapping of `with:`. Every key asked for is noted, so that after a whole decode
    /// the keys nobody asked for are reported as unknown.
    struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let reader: Reader
        let members: [String: SettingsNode]

        var codingPath: [any CodingKey] { reader.codingPath }

        var allKeys: [Key] {
            reader.attempt.keys.listed.insert(reader.path)
            return members.keys.sorted().compactMap { Key(stringValue: $0) }
        }

        private func note(_ key: Key) {
            reader.attempt.ask(key.stringValue, at: reader.path)
        }

        private func child(_ key: Key) -> Reader {
            reader.child(.key(key.stringValue), node: members[key.stringValue])
        }

        /// The member's reader; a key that is absent (and not set aside) is missing.
        private func required(_ key: Key) throws -> Reader {
            note(key)
            let member = child(key)
            if member.node == nil && !member.unknown { throw missing(key) }
            return member
        }

        func contains(_ key: Key) -> Bool {
            note(key)
            return members[key.stringValue] != nil
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            try required(key).isNull
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(type, key) }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optionalMember(type, key) }

        private func member<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
            try required(key).decode(type)
        }

        /// nil when the key is absent or null, and for a value not known yet.
        private func optionalMember<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
            note(key)
            let member = child(key)
            guard member.node != nil, !member.unknown, !member.isNull else { return nil }
            return try member.decode(type)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                                   forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try required(key).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try required(key).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { reader }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            note(key)
            return child(key)
        }

        private func missing(_ key: Key) -> DecodingError {
            .keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing key '\(key.stringValue)'"))
        }

        // The scalar requirements, each through the generic one.
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(type, key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(type, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(type, key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(type, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(type, key) }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optionalMember(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optionalMember(type, key) }
    }

    /// A list of `with:`, read item by item.
    struct UnkeyedContainer: UnkeyedDecodingContainer {
        let reader: Reader
        let items: [SettingsNode]
        private(set) var currentIndex = 0

        init(reader: Reader, items: [SettingsNode]) {
            self.reader = reader
            self.items = items
        }

        var codingPath: [any CodingKey] { reader.codingPath }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        private func item(_ type: Any.Type) throws -> Reader {
            guard !isAtEnd else {
                let item = reader.path.appending(.index(currentIndex)).codingKeys
                throw DecodingError.valueNotFound(type, DecodingError.Context(
                    codingPath: item, debugDescription: "expected another item, found the end of the list"))
            }
            return reader.child(.index(currentIndex), node: items[currentIndex])
        }

        mutating func decodeNil() throws -> Bool {
            guard try item(Never.self).isNull else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) }

        private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
            let value = try item(type).decode(type)
            currentIndex += 1
            return value
        }

        // The scalar requirements, each through the generic one.
        mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) }
        mutating func decode(_ type: String.Type) throws -> String { try next(type) }
        mutating func decode(_ type: Double.Type) throws -> Double { try next(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { try next(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { try next(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let container = try item(type).container(keyedBy: type)
            currentIndex += 1
            return container
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let container = try item([Value].self).unkeyedContainer()
            currentIndex += 1
            return container
        }

        mutating func superDecoder() throws -> any Decoder {
            let decoder = try item(Value.self)
            currentIndex += 1
            return decoder
        }
    }

    /// One value of `with:`.
    struct SingleValueContainer: SingleValueDecodingContainer {
        let reader: Reader

        var codingPath: [any CodingKey] { reader.codingPath }

        func decodeNil() -> Bool { reader.isNull }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try reader.decode(type) }

        // The scalar requirements, all through `Reader.decode`.
        func decode(_ type: Bool.Type) throws -> Bool { try reader.decode(type) }
        func decode(_ type: String.Type) throws -> String { try reader.decode(type) }
        func decode(_ type: Double.Type) throws -> Double { try reader.decode(type) }
        func decode(_ type: Float.Type) throws -> Float { try reader.decode(type) }
        func decode(_ type: Int.Type) throws -> Int { try reader.decode(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try reader.decode(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try reader.decode(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try reader.decode(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try reader.decode(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try reader.decode(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.decode(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.decode(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.decode(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.decode(type) }
    }
}
