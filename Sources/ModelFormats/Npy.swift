/// The header of a numpy `.npy` file.
///
/// `np.save` writes `\x93NUMPY`, a version, a header length and a Python dict
/// literal (`{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`), then the
/// array. A plain dtype's data is raw bytes and safe without reading them. An object
/// dtype (`'O'`, or a structured dtype with an object field) means the data is a
/// pickle, which `np.load(allow_pickle=True)` runs: the scanner scans it.
struct NpyHeader: Equatable {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// Headers longer than this are refused (numpy itself refuses 10,000 bytes
    /// without allow_pickle).
    static let maxHeaderLength = 1 << 16

    /// Offset of the array data from the start of the file.
    var dataOffset: Int
    var hasObject: Bool
    /// Bytes per element, when the dtype has a fixed size.
    var itemSize: Int?
    var shape: [Int64]

    /// Bytes of array data a plain dtype needs, when known.
    var dataLength: Int64? {
        guard !hasObject, let itemSize else { return nil }
        var total = Int64(itemSize)
        for dimension in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The prefix that holds magic, version and header length.
    static func headerLength(_ prefix: UnsafeRawBufferPointer) -> Result<(start: Int, length: Int), NpyError> {
        guard prefix.count >= 10, prefix.prefix(6).elementsEqual(magic) else {
            return .failure(NpyError("the file is too short for a .npy header"))
        }
        switch prefix[6] {
        case 1:
            return .success((10, Int(prefix[8]) | Int(prefix[9]) << 8))
        case 2, 3:
            guard prefix.count >= 12 else { return .failure(NpyError("the .npy header is cut short")) }
            let length = Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24
            return .success((12, length))
        default:
            return .failure(NpyError("unknown .npy format version \(prefix[6]).\(prefix[7])"))
        }
    }

    /// Parses the dict literal of a header whose text starts at `start`.
    static func parse(text: UnsafeRawBufferPointer, start: Int) -> Result<NpyHeader, NpyError> {
        var parser = PythonLiteral.Parser(text)
        guard case .dict(let entries)? = parser.parseValue(), parser.atEnd else {
            return .failure(NpyError("the .npy header is not a Python dict literal"))
        }
        var values: [String: PythonLiteral] = [:]
        for (key, value) in entries {
            guard case .string(let name) = key else { return .failure(NpyError("a .npy header key is not a string")) }
            values[name] = value
        }
        guard Set(values.keys) == ["descr", "fortran_order", "shape"] else {
            return .failure(NpyError("the .npy header must have exactly descr, fortran_order and shape"))
        }
        guard case .bool? = values["fortran_order"] else {
            return .failure(NpyError("the .npy header's fortran_order is not a bool"))
        }
        guard case .tuple(let dimensions)? = values["shape"] else {
            return .failure(NpyError("the .npy header's shape is not a tuple"))
        }
        var shape: [Int64] = []
        for dimension in dimensions {
            guard case .int(let size) = dimension, size >= 0 else {
                return .failure(NpyError("the .npy shape has a dimension that is not a size"))
            }
            shape.append(size)
        }
        guard let descr = values["descr"], let dtype = describe(descr) else {
            return .failure(NpyError("the .npy header's descr is not a dtype"))
        }
        return .success(NpyHeader(dataOffset: start + text.count, hasObject: dtype.hasObject,
                                  itemSize: dtype.itemSize, shape: shape))
    }

    /// Object-ness and item size of a `descr`: a type string or a list of fields
    /// `(name, descr[, shape])`.
    private static func describe(_ descr: PythonLiteral) -> (hasObject: Bool, itemSize: Int?)? {
        switch descr {
        case .string(let text):
            guard let dtype = NumpyDType(typeString: text) else { return nil }
            return (dtype.hasObject, dtype.itemSize)
        case .list(let fields):
            var hasObject = false
            var size: Int? = 0
            for field in fields {
                guard case .tuple(let parts) = field, parts.count >= 2, let inner = describe(parts[1]) else {
                    return nil
                }
                hasObject = hasObject || inner.hasObject
                var count: Int64 = 1
                if parts.count >= 3 {
                    switch parts[2] {
                    case .int(let n): count = n
                    case .tuple(let dims):
                        for case .int(let n) in dims { count *= n }
                    default: return nil
                    }
                }
                if let current = size, let item = inner.itemSize, count >= 0, count < 1 << 32 {
                    size = current + item * Int(count)
                } else {
                    size = nil
                }
            }
            return (hasObject, size)
        default:
            return nil
        }
    }
}

/// Why a `.npy` header cannot be read.
struct NpyError: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}

/// The Python literals a `.npy` header holds, as `ast.literal_eval` reads them.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(PythonLiteral, PythonLiteral)])

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.bool(a), .bool(b)): a == b
        case (.none, .none): true
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): a == b
        case let (.dict(a), .dict(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A recursive-descent parser over header text, bounded in depth.
    struct Parser {
        let text: UnsafeRawBufferPointer
        var position = 0
        var depth = 0

        init(_ text: UnsafeRawBufferPointer) {
            self.text = text
        }

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return position == text.count
            }
        }

        mutating func skipSpace() {
            while position < text.count, PickleText.isSpace(text[position]) { position += 1 }
        }

        mutating func parseValue() -> PythonLiteral? {
            skipSpace()
            guard position < text.count, depth < 32 else { return nil }
            let byte = text[position]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return parseString(quote: byte)
            case UInt8(ascii: "("):
                return parseSequence(close: UInt8(ascii: ")")).map { .tuple($0) }
            case UInt8(ascii: "["):
                return parseSequence(close: UInt8(ascii: "]")).map { .list($0) }
            case UInt8(ascii: "{"):
                return parseDict()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return parseInt()
            default:
                for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
                where text.count - position >= word.utf8.count
                    && text[position..<(position + word.utf8.count)].elementsEqual(word.utf8) {
                    position += word.utf8.count
                    return value
                }
                return nil
            }
        }

        private mutating func parseString(quote: UInt8) -> PythonLiteral? {
            position += 1
            var bytes: [UInt8] = []
            while position < text.count {
                let byte = text[position]
                position += 1
                if byte == quote { return .string(String(decoding: bytes, as: UTF8.self)) }
                if byte == UInt8(ascii: "\\") {
                    guard position < text.count else { return nil }
                    bytes.append(text[position])
                    position += 1
                } else {
                    bytes.append(byte)
                }
            }
            return nil
        }

        private mutating func parseInt() -> PythonLiteral? {
            let start = position
            if text[position] == UInt8(ascii: "-") { position += 1 }
            while position < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[position]) {
                position += 1
            }
            // numpy 1.x wrote long dimensions as `3L`.
            let digits = text[start..<position]
            if position < text.count, text[position] == UInt8(ascii: "L") { position += 1 }
            guard case .small(let value)? = PickleText.parseDecimal(Array(digits)[...]) else { return nil }
            return .int(value)
        }

        private mutating func parseSequence(close: UInt8) -> [PythonLiteral]? {
            position += 1
            depth += 1
            defer { depth -= 1 }
            var items: [PythonLiteral] = []
            while true {
                skipSpace()
                guard position < text.count else { return nil }
                if text[position] == close {
                    position += 1
                    return items
                }
                guard let item = parseValue() else { return nil }
                items.append(item)
                skipSpace()
                guard position < text.count else { return nil }
                if text[position] == UInt8(ascii: ",") { position += 1 } else if text[position] != close { return nil }
            }
        }

        private mutating func parseDict() -> PythonLiteral? {
            position += 1
            depth += 1
            defer { depth -= 1 }
            var entries: [(PythonLiteral, PythonLiteral)] = []
            while true {
                skipSpace()
                guard position < text.count else { return nil }
                if text[position] == UInt8(ascii: "}") {
                    position += 1
                    return .dict(entries)
                }
                guard let key = parseValue() else { return nil }
                skipSpace()
                guard position < text.count, text[position] == UInt8(ascii: ":") else { return nil }
                position += 1
                guard let value = parseValue() else { return nil }
                entries.append((key, value))
                skipSpace()
                guard position < text.count else { return nil }
                if text[position] == UInt8(ascii: ",") {
                    position += 1
                } else if text[position] != UInt8(ascii: "}") {
                    return nil
                }
            }
        }
    }
}
