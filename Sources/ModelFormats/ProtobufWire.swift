/// Walks the fields of one protocol buffer message in place, without decoding or copying.
///
/// SwiftProtobuf decodes a whole message into Swift values, which for an ONNX model means
/// copying every initializer's bytes: gigabytes for a large model. This reader yields each
/// field's number and either its integer value or the byte range of its payload, so that
/// the ONNX reader can descend into the messages it needs and step over tensor payloads
/// at no cost. Every length and varint is checked against the bounds of the enclosing
/// message; groups (wire types 3 and 4, which ONNX never uses) are rejected.
struct ProtobufWire {
    /// Why the bytes are not a well-formed message, and where.
    struct Error: Swift.Error, Sendable, Equatable {
        /// Absolute byte offset in the buffer the reader walks.
        var offset: Int
        var reason: String
    }

    /// A field's payload.
    enum Value: Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        /// Absolute byte range of a length-delimited payload (string, bytes, message, packed).
        case bytes(Range<Int>)
    }

    /// One field: its number, its payload, and the offset of its tag.
    struct Field {
        var number: Int
        var value: Value
        var offset: Int
    }

    let buffer: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int

    /// A reader over `range` of `buffer`; offsets it reports are absolute in `buffer`.
    init(_ buffer: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.buffer = buffer
        let range = range ?? 0..<buffer.count
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count)
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(Error) -> Field? {
        guard position < end else { return nil }
        let tagOffset = position
        let tag = try varint()
        let number = tag >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else {
            throw Error(offset: tagOffset, reason: "field number \(number) is out of range")
        }
        let value: Value
        switch tag & 7 {
        case 0:
            value = .varint(try varint())
        case 1:
            guard end - position >= 8 else { throw truncated(tagOffset) }
            var word: UInt64 = 0
            for index in (0..<8).reversed() { word = word << 8 | UInt64(buffer[position + index]) }
            position += 8
            value = .fixed64(word)
        case 2:
            let lengthOffset = position
            let length = try varint()
            guard length <= UInt64(end - position) else {
                throw Error(offset: lengthOffset,
                            reason: "field \(number) claims \(length) bytes, only \(end - position) remain")
            }
            let start = position
            position += Int(length)
            value = .bytes(start..<position)
        case 5:
            guard end - position >= 4 else { throw truncated(tagOffset) }
            var word: UInt32 = 0
            for index in (0..<4).reversed() { word = word << 8 | UInt32(buffer[position + index]) }
            position += 4
            value = .fixed32(word)
        default:
            throw Error(offset: tagOffset, reason: "field \(number) uses wire type \(tag & 7), "
                        + "which ONNX does not use")
        }
        return Field(number: Int(number), value: value, offset: tagOffset)
    }

    /// Reads a base-128 varint of at most ten bytes.
    private mutating func varint() throws(Error) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw truncated(start) }
            let byte = buffer[position]
            position += 1
            if shift == 63, byte > 1 {
                throw Error(offset: start, reason: "varint is longer than 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private func truncated(_ offset: Int) -> Error {
        Error(offset: offset, reason: "message ends in the middle of a field")
    }

    /// The UTF-8 text of a length-delimited field.
    func string(_ field: Field) throws(Error) -> String {
        guard case .bytes(let range) = field.value else {
            throw Error(offset: field.offset, reason: "field \(field.number) should be a string")
        }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[range])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw Error(offset: field.offset, reason: "field \(field.number) is not valid UTF-8")
        }
        return text
    }

    /// The payload range of a length-delimited field (a nested message).
    func message(_ field: Field) throws(Error) -> Range<Int> {
        guard case .bytes(let range) = field.value else {
            throw Error(offset: field.offset, reason: "field \(field.number) should be a message")
        }
        return range
    }

    /// The value of a varint field, as protobuf's int64/int32/enum read it.
    func int64(_ field: Field) throws(Error) -> Int64 {
        guard case .varint(let value) = field.value else {
            throw Error(offset: field.offset, reason: "field \(field.number) should be a varint")
        }
        return Int64(bitPattern: value)
    }

    /// A copy of a (small) length-delimited payload, for SwiftProtobuf to decode.
    func copy(_ range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: buffer[range]))
    }
}
