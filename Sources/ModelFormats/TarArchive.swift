/// One member of a tar archive.
struct TarEntry {
    let name: String
    /// The ustar type flag: `0` (or NUL) a file, `5` a folder, `1`/`2` links, …
    let type: UInt8
    let size: Int64
    let headerOffset: Int64
    let dataOffset: Int64

    var isFile: Bool { type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7") }
}

/// A tar archive (ustar, GNU and PAX), as PyTorch's legacy loader wrote and read it
/// through Python's `tarfile`.
///
/// Reported: a header whose checksum is wrong or that is cut short (`invalid`);
/// absolute paths and `..` segments (`unsafe`); symbolic and hard links (`unsafe`:
/// PyTorch's legacy loader extracts `storages` and `tensors` into a folder and
/// opens them, so a link there reads any file on the machine); device and FIFO
/// members and duplicate names (`invalid`).
struct TarArchive {
    private(set) var entries: [TarEntry] = []
    private(set) var findings: [Finding] = []

    init(_ bytes: UnsafeRawBufferPointer, member prefix: String?, limits: ScanLimits) {
        let reader = ByteReader(bytes)
        var position = 0
        var longName: String?
        var paxName: String?
        var paxSize: Int64?
        var seen: Set<String> = []
        while position + 512 <= bytes.count {
            let header = reader.slice(position, 512)
            if header.allSatisfy({ $0 == 0 }) { return }
            guard Self.checksumMatches(header) else {
                fail("tar-structure", "the tar header at offset \(position) has a wrong checksum", position, prefix)
                return
            }
            guard let declared = Self.number(reader.slice(position + 124, 12)) else {
                fail("tar-structure", "the tar header at offset \(position) has an unreadable size", position, prefix)
                return
            }
            let size = paxSize ?? declared
            let type = header[156]
            let dataOffset = position + 512
            guard size >= 0, Int64(dataOffset) + size <= Int64(bytes.count) else {
                fail("truncated", "a tar member at offset \(position) runs past the end of the archive", position, prefix)
                return
            }
            let data = reader.slice(dataOffset, Int(size))
            let next = dataOffset + Int((size + 511) / 512 * 512)
            switch type {
            case UInt8(ascii: "L"):
                longName = Self.text(data)
            case UInt8(ascii: "x"):
                let records = Self.paxRecords(data)
                paxName = records["path"]
                paxSize = records["size"].flatMap { Int64($0) }
            case UInt8(ascii: "g"), UInt8(ascii: "K"):
                break
            default:
                var name = Self.text(reader.slice(position, 100))
                let magic = reader.slice(position + 257, 6)
                if magic.starts(with: Array("ustar".utf8)) {
                    let namePrefix = Self.text(reader.slice(position + 345, 155))
                    if !namePrefix.isEmpty { name = namePrefix + "/" + name }
                }
                name = paxName ?? longName ?? name
                let entry = TarEntry(name: name, type: type, size: size, headerOffset: Int64(position),
                                     dataOffset: Int64(dataOffset))
                check(entry, prefix: prefix, seen: &seen)
                entries.append(entry)
                guard entries.count <= limits.maxArchiveMembers else {
                    fail("limit-exceeded", "the archive has more than \(limits.maxArchiveMembers) members", position, prefix)
                    return
                }
                longName = nil
                paxName = nil
                paxSize = nil
            }
            position = next
        }
        if position < bytes.count {
            fail("truncated", "the tar archive ends inside a header", position, prefix)
        }
    }

    private mutating func check(_ entry: TarEntry, prefix: String?, seen: inout Set<String>) {
        let member = ZipArchive.join(prefix, entry.name)
        func add(_ kind: String, _ verdict: Verdict, _ message: String) {
            findings.append(Finding(kind: kind, verdict: verdict, message: message,
                                    offset: entry.headerOffset, member: member))
        }
        if let reason = ZipArchive.unsafePathReason(entry.name) {
            add("path-traversal", .unsafe, "member \(entry.name.debugDescription) \(reason)")
        }
        switch entry.type {
        case UInt8(ascii: "1"), UInt8(ascii: "2"):
            add("tar-link", .unsafe, "member \(entry.name) is a link; extracting it lets a loader read another file")
        case UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6"):
            add("tar-special", .invalid, "member \(entry.name) is a device or FIFO")
        default:
            break
        }
        let normalized = entry.name.hasPrefix("./") ? String(entry.name.dropFirst(2)) : entry.name
        if !seen.insert(normalized).inserted {
            add("tar-duplicate", .invalid, "the archive holds two members named \(entry.name); tarfile extracts the last")
        }
    }

    private mutating func fail(_ kind: String, _ message: String, _ offset: Int, _ prefix: String?) {
        findings.append(Finding(kind: kind, verdict: .invalid, message: message, offset: Int64(offset),
                                member: prefix))
    }

    /// The header checksum: the sum of its bytes with the checksum field as spaces;
    /// `tarfile` accepts the unsigned and the signed sum.
    static func checksumMatches(_ header: UnsafeRawBufferPointer) -> Bool {
        guard let stored = number(UnsafeRawBufferPointer(rebasing: header[148..<156])) else { return false }
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? 32 : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    /// An octal number field, or GNU's base-256 form (high bit set).
    static func number(_ field: UnsafeRawBufferPointer) -> Int64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3F)
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { return nil }
                value = value << 8 | Int64(byte)
            }
            return first & 0x40 != 0 ? -value : value
        }
        var value: Int64 = 0
        var sawDigit = false
        for byte in field {
            if byte == 0 || byte == 32 {
                if sawDigit { break } else { continue }
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value < Int64.max >> 3 else { return nil }
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
            sawDigit = true
        }
        return value
    }

    static func text(_ field: UnsafeRawBufferPointer) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// PAX records: `<length> <key>=<value>\n`.
    static func paxRecords(_ data: UnsafeRawBufferPointer) -> [String: String] {
        var records: [String: String] = [:]
        var position = 0
        while position < data.count {
            guard let space = data[position...].firstIndex(of: 32),
                  let length = Int(String(decoding: data[position..<space], as: UTF8.self)),
                  length > 0, position + length <= data.count else { break }
            let record = data[(space + 1)..<(position + length)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
                var value = record[(equals + 1)...]
                if value.last == 10 { value = value.dropLast() }
                records[key] = String(decoding: value, as: UTF8.self)
            }
            position += length
        }
        return records
    }
}
