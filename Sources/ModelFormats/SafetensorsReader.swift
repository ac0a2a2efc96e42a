/// Checks the structure of a safetensors file: header, dtypes, shapes and byte ranges.
///
/// A safetensors file is an 8-byte little-endian header length `N`, `N` bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`),
/// then the data section. Nothing in it is code, so the only findings are `invalid` ones:
/// a file that safetensors' own loader would reject, or that hides bytes no tensor
/// accounts for (a gap, an overlap, data after the last tensor), which is where a
/// polyglot file would keep a second payload. The checks follow `safetensors` 0.8
/// (`Metadata::validate`), stricter where the loader is lenient: duplicate keys and
/// unknown fields in a tensor entry are invalid here.
///
/// Only the header is read; the data section is never touched, so the cost does not grow
/// with the tensors' size.
enum SafetensorsReader {
    /// The header length safetensors itself accepts at most (100 MB).
    static let maxHeaderLength: UInt64 = 100_000_000

    /// Element sizes in bits, as `safetensors::Dtype::bitsize` gives them.
    static let dtypeBits: [String: UInt64] = [
        "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8,
        "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "C64": 64, "F64": 64, "I64": 64, "U64": 64,
    ]

    /// The most findings one file gets; a broken header can otherwise yield one per tensor.
    static let findingLimit = 64

    /// Whether `bytes` starts like a safetensors file: a length, then a JSON object.
    ///
    /// The length itself is not checked here, so that a file with a wrong or huge
    /// length is still recognised and reported as invalid safetensors rather than as
    /// an unknown format.
    static func looksLike(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 10, bytes[8] == UInt8(ascii: "{") else { return false }
        switch bytes[9] {
        case UInt8(ascii: "\""), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09: return true
        default: return false
        }
    }

    /// Every structural problem in a safetensors file, as `invalid` findings.
    ///
    /// An empty result means the file loads with safetensors and every byte after the
    /// header belongs to exactly one tensor.
    static func inspect(_ bytes: UnsafeRawBufferPointer) -> [Finding] {
        guard bytes.count >= 8 else {
            return [invalid("file is \(bytes.count) bytes, shorter than the 8-byte header length",
                            offset: 0)]
        }
        var length: UInt64 = 0
        for index in (0..<8).reversed() { length = length << 8 | UInt64(bytes[index]) }
        guard length <= maxHeaderLength else {
            return [invalid("header length \(length) is over the \(maxHeaderLength)-byte limit",
                            offset: 0)]
        }
        let dataStart = 8 + Int(length)
        guard dataStart <= bytes.count else {
            return [invalid("header length \(length) runs past the end of the \(bytes.count)-byte file",
                            offset: 0)]
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let root: StrictJSON.Node
        do {
            root = try StrictJSON.parse(header, depthLimit: 8)
        } catch {
            return [invalid("header is not valid JSON: \(error.reason)",
                            offset: Int64(8 + error.offset))]
        }
        guard case .object(let members) = root.value else {
            return [invalid("header is not a JSON object", offset: 8)]
        }
        var findings: [Finding] = []
        var tensors: [Entry] = []
        for (name, node) in members {
            if findings.count >= findingLimit { break }
            let offset = Int64(8 + node.offset)
            if name == "__metadata__" {
                findings += checkMetadata(node, offset: offset)
                continue
            }
            switch entry(name: name, node: node) {
            case .success(let tensor): tensors.append(tensor)
            case .failure(let reason): findings.append(invalid("tensor '\(name)': \(reason.text)", offset: offset))
            }
        }
        findings += checkLayout(tensors, dataLength: UInt64(bytes.count - dataStart),
                                dataStart: Int64(dataStart))
        return Array(findings.prefix(findingLimit))
    }

    /// One tensor entry of the header.
    struct Entry {
        var name: String
        var begin: UInt64
        var end: UInt64
        /// Header offset of the entry, for findings.
        var offset: Int64
    }

    struct Reason: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private static func entry(name: String, node: StrictJSON.Node) -> Result<Entry, Reason> {
        guard case .object(let fields) = node.value else {
            return .failure(Reason("entry is not an object"))
        }
        for (key, _) in fields where !["dtype", "shape", "data_offsets"].contains(key) {
            return .failure(Reason("unknown field '\(key)'"))
        }
        guard let dtype = node["dtype"]?.string else {
            return .failure(Reason("missing or non-string dtype"))
        }
        guard let bits = dtypeBits[dtype] else {
            return .failure(Reason("unknown dtype '\(dtype)'"))
        }
        guard case .array(let dims)? = node["shape"]?.value else {
            return .failure(Reason("missing or non-array shape"))
        }
        var elements: UInt64 = 1
        for dim in dims {
            guard case .number(let number) = dim.value, let value = number.uint64 else {
                return .failure(Reason("shape holds something other than a non-negative integer"))
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: value)
            guard !overflow else { return .failure(Reason("shape \(shapeText(dims)) overflows 64 bits")) }
            elements = product
        }
        guard case .array(let offsets)? = node["data_offsets"]?.value, offsets.count == 2,
              case .number(let first) = offsets[0].value, let begin = first.uint64,
              case .number(let second) = offsets[1].value, let end = second.uint64 else {
            return .failure(Reason("data_offsets must be two non-negative integers"))
        }
        guard begin <= end else {
            return .failure(Reason("data_offsets [\(begin), \(end)] end before they begin"))
        }
        let (totalBits, overflow) = elements.multipliedReportingOverflow(by: bits)
        guard !overflow else { return .failure(Reason("shape \(shapeText(dims)) overflows 64 bits")) }
        guard totalBits % 8 == 0 else {
            return .failure(Reason("\(elements) elements of \(dtype) do not fill whole bytes"))
        }
        guard end - begin == totalBits / 8 else {
            return .failure(Reason("\(dtype) \(shapeText(dims)) needs \(totalBits / 8) bytes, "
                                   + "data_offsets [\(begin), \(end)] give \(end - begin)"))
        }
        return .success(Entry(name: name, begin: begin, end: end, offset: Int64(8 + node.offset)))
    }

    /// Tensors must tile the data section exactly: no gap, no overlap, nothing after.
    private static func checkLayout(_ tensors: [Entry], dataLength: UInt64,
                                    dataStart: Int64) -> [Finding] {
        var findings: [Finding] = []
        // Sorting by (begin, end) puts empty tensors before the tensor that starts at the
        // same offset, as safetensors does, so they never count as overlaps.
        let sorted = tensors.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered: UInt64 = 0
        var previous: String?
        for tensor in sorted {
            if tensor.begin < covered, let previous {
                findings.append(invalid("tensor '\(tensor.name)' [\(tensor.begin), \(tensor.end)] "
                                        + "overlaps tensor '\(previous)', which ends at \(covered)",
                                        offset: tensor.offset))
            } else if tensor.begin > covered {
                findings.append(invalid("bytes [\(covered), \(tensor.begin)) of the data section "
                                        + "belong to no tensor (gap before '\(tensor.name)')",
                                        offset: dataStart + Int64(clamping: covered)))
            }
            if tensor.end > dataLength {
                findings.append(invalid("tensor '\(tensor.name)' ends at \(tensor.end), past the "
                                        + "\(dataLength)-byte data section", offset: tensor.offset))
            }
            if tensor.end >= covered {
                covered = tensor.end
                previous = tensor.name
            }
        }
        if covered < dataLength {
            findings.append(invalid("\(dataLength - covered) bytes after the last tensor belong to "
                                    + "no tensor (trailing data)",
                                    offset: dataStart + Int64(clamping: covered)))
        }
        return findings
    }

    private static func checkMetadata(_ node: StrictJSON.Node, offset: Int64) -> [Finding] {
        guard case .object(let entries) = node.value else {
            return [invalid("__metadata__ is not an object of strings", offset: offset)]
        }
        for (key, value) in entries where value.string == nil {
            return [invalid("__metadata__ entry '\(key)' is not a string", offset: Int64(8 + value.offset))]
        }
        return []
    }

    private static func shapeText(_ dims: [StrictJSON.Node]) -> String {
        let parts = dims.map { node -> String in
            if case .number(let number) = node.value { return number.text }
            return "?"
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    private static func invalid(_ message: String, offset: Int64) -> Finding {
        Finding(kind: "invalid-safetensors", verdict: .invalid, message: message, offset: offset)
    }
}
