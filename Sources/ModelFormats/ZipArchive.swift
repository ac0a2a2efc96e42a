/// One member of a zip archive, as its central directory describes it.
struct ZipEntry {
    /// The name in the central directory: the one PyTorch's loader (miniz) and
    /// Python's `zipfile` look members up by.
    let name: String
    let flags: UInt16
    let method: UInt16
    let crc: UInt32
    let compressedSize: Int64
    let uncompressedSize: Int64
    let localHeaderOffset: Int64
    /// Where the member's bytes start: after the local header's own name and extra
    /// field, whose lengths may differ from the central directory's.
    let dataOffset: Int64

    var isDirectory: Bool { name.hasSuffix("/") && uncompressedSize == 0 }
}

/// A zip archive read from its central directory, as PyTorch's loader reads it,
/// with every oddity a scanner-evasion trick relies on reported as a finding.
///
/// Reported (`invalid` unless said): a local header whose name differs from the
/// central directory's (Python's `zipfile` refuses such members, miniz reads them);
/// flag bits other than the deflate options, the data descriptor and UTF-8 names
/// (encryption, masked headers, reserved bits), and local flags that differ from the
/// central ones; compression methods other than stored and deflate; sizes that
/// disagree between headers or that a stored member cannot have; absolute paths and
/// `..` segments (`unsafe`: extraction writes outside the target folder); duplicate
/// names; member data that overlaps another member's or runs past the archive; more
/// members than `ScanLimits.maxArchiveMembers`. CRCs are checked by the scanner as it
/// reads members, not here.
struct ZipArchive {
    private(set) var entries: [ZipEntry] = []
    private(set) var findings: [Finding] = []
    /// Set when the archive cannot be read at all; `entries` is then empty.
    private(set) var fatal = false

    /// Flag bits that well-formed writers set: 1–2 deflate options, 3 data
    /// descriptor, 11 UTF-8 names.
    static let ordinaryFlags: UInt16 = 0b0000_1000_0000_1110

    /// Reads the central directory and every local header of `bytes`.
    ///
    /// `release` is handed each local header once it has been compared with its central
    /// entry, so that a memory-mapped archive can unmap it again (`MappedFile.release`):
    /// the headers of 2,000 tensors lie 2,000 pages apart.
    init(_ bytes: UnsafeRawBufferPointer, member prefix: String?, limits: ScanLimits,
         release: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        let reader = ByteReader(bytes)
        guard let directory = Self.findDirectory(reader) else {
            fail("zip-structure", "no end of central directory record: the archive is truncated or not a zip",
                 offset: Int64(bytes.count), prefix: prefix)
            return
        }
        if let problem = directory.problem {
            fail("zip-structure", problem, offset: directory.recordOffset, prefix: prefix)
            return
        }
        guard directory.entryCount <= Int64(limits.maxArchiveMembers) else {
            fail("limit-exceeded", "the archive declares \(directory.entryCount) members, more than \(limits.maxArchiveMembers)",
                 offset: directory.recordOffset, prefix: prefix)
            return
        }
        var cursor = directory.offset
        var seen: Set<String> = []
        for _ in 0..<directory.entryCount {
            if fatal { return }
            guard let entry = readEntry(reader, at: &cursor, prefix: prefix) else { continue }
            if entry.localHeaderOffset < entry.dataOffset, entry.dataOffset <= Int64(bytes.count) {
                release(UnsafeRawBufferPointer(rebasing: bytes[Int(entry.localHeaderOffset)..<Int(entry.dataOffset)]))
            }
            if !seen.insert(entry.name).inserted {
                add("zip-duplicate", .invalid,
                    "the archive holds two members named \(entry.name); loaders disagree on which one they read",
                    entry, prefix)
            }
            entries.append(entry)
        }
        checkOverlaps(directoryOffset: directory.offset, prefix: prefix)
    }

    // MARK: - End of central directory

    private struct Directory {
        var offset: Int64 = 0
        var size: Int64 = 0
        var entryCount: Int64 = 0
        var recordOffset: Int64 = 0
        var problem: String?
    }

    /// Finds the end-of-central-directory record (searching back over a comment of
    /// up to 64 KiB) and, for zip64 archives, the zip64 record it points to.
    private static func findDirectory(_ reader: ByteReader) -> Directory? {
        let size = reader.count
        guard size >= 22 else { return nil }
        let lowest = max(0, size - 22 - 0xFFFF)
        var position = size - 22
        while position >= lowest {
            if reader.u32(position) == 0x0605_4B50 { break }
            position -= 1
        }
        guard position >= lowest else { return nil }
        var directory = Directory()
        directory.recordOffset = Int64(position)
        let disk = reader.u16(position + 4), directoryDisk = reader.u16(position + 6)
        var count = Int64(reader.u16(position + 10))
        var directorySize = Int64(reader.u32(position + 12))
        var directoryOffset = Int64(reader.u32(position + 16))
        if disk != 0 || directoryDisk != 0 || reader.u16(position + 8) != reader.u16(position + 10) {
            directory.problem = "the archive spans several disks"
            return directory
        }
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator sits right before the record and points to the real one.
            let locator = position - 20
            guard locator >= 0, reader.u32(locator) == 0x0706_4B50 else {
                directory.problem = "the zip64 end of central directory locator is missing"
                return directory
            }
            let record = Int64(bitPattern: reader.u64(locator + 8))
            guard record >= 0, record <= Int64(size - 56), reader.u32(Int(record)) == 0x0606_4B50 else {
                directory.problem = "the zip64 end of central directory record is missing"
                return directory
            }
            count = Int64(bitPattern: reader.u64(Int(record) + 32))
            directorySize = Int64(bitPattern: reader.u64(Int(record) + 40))
            directoryOffset = Int64(bitPattern: reader.u64(Int(record) + 48))
        }
        guard directoryOffset >= 0, directorySize >= 0, count >= 0,
              directoryOffset + directorySize <= Int64(position) else {
            directory.problem = "the central directory lies outside the archive"
            return directory
        }
        directory.offset = directoryOffset
        directory.size = directorySize
        directory.entryCount = count
        return directory
    }

    // MARK: - Entries

    private mutating func readEntry(_ reader: ByteReader, at cursor: inout Int64, prefix: String?) -> ZipEntry? {
        let at = Int(cursor)
        guard cursor + 46 <= Int64(reader.count), reader.u32(at) == 0x0201_4B50 else {
            fail("zip-structure", "the central directory is cut short or corrupt", offset: cursor, prefix: prefix)
            return nil
        }
        let flags = reader.u16(at + 8), method = reader.u16(at + 10)
        let crc = reader.u32(at + 16)
        var compressed = Int64(reader.u32(at + 20)), uncompressed = Int64(reader.u32(at + 24))
        let nameLength = Int(reader.u16(at + 28)), extraLength = Int(reader.u16(at + 30))
        let commentLength = Int(reader.u16(at + 32))
        var localOffset = Int64(reader.u32(at + 42))
        let end = at + 46 + nameLength + extraLength + commentLength
        guard end <= reader.count else {
            fail("zip-structure", "the central directory is cut short", offset: cursor, prefix: prefix)
            return nil
        }
        let nameBytes = reader.slice(at + 46, nameLength)
        let name = String(decoding: nameBytes, as: UTF8.self)
        // Zip64 extra field: the 64-bit values of whichever 32-bit fields are saturated.
        var extra = at + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = reader.u16(extra), size = Int(reader.u16(extra + 2))
            var field = extra + 4
            if id == 0x0001 {
                if uncompressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    uncompressed = Int64(bitPattern: reader.u64(field)); field += 8
                }
                if compressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    compressed = Int64(bitPattern: reader.u64(field)); field += 8
                }
                if localOffset == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    localOffset = Int64(bitPattern: reader.u64(field))
                }
            }
            extra += 4 + size
        }
        cursor = Int64(end)
        let member = Self.join(prefix, name)
        guard localOffset >= 0, compressed >= 0, uncompressed >= 0,
              localOffset + 30 <= Int64(reader.count), reader.u32(Int(localOffset)) == 0x0403_4B50 else {
            findings.append(Finding(kind: "zip-structure", verdict: .invalid,
                                    message: "member \(name) has no local header where the central directory says",
                                    offset: localOffset, member: member))
            return nil
        }
        let local = Int(localOffset)
        let localFlags = reader.u16(local + 6)
        let localNameLength = Int(reader.u16(local + 26)), localExtraLength = Int(reader.u16(local + 28))
        let dataOffset = localOffset + 30 + Int64(localNameLength + localExtraLength)
        let entry = ZipEntry(name: name, flags: flags, method: method, crc: crc, compressedSize: compressed,
                             uncompressedSize: uncompressed, localHeaderOffset: localOffset,
                             dataOffset: dataOffset)
        if nameBytes.contains(0) {
            add("zip-name", .invalid, "member name \(name.debugDescription) contains a NUL byte", entry, prefix)
        }
        if local + 30 + localNameLength <= reader.count {
            let localName = reader.slice(local + 30, localNameLength)
            if !localName.elementsEqual(nameBytes) {
                add("zip-name-mismatch", .invalid,
                    "member \(name) is named \(String(decoding: localName, as: UTF8.self).debugDescription) in its local header; PyTorch reads it by the central name, Python's zipfile refuses it",
                    entry, prefix)
            }
        }
        let odd = (flags | localFlags) & ~Self.ordinaryFlags
        if odd != 0 {
            add("zip-flags", .invalid,
                "member \(name) has unusual flag bits 0x\(String(odd, radix: 16))\(odd & 0x41 != 0 ? " (encrypted)" : "")",
                entry, prefix)
        } else if flags != localFlags {
            add("zip-flags", .invalid,
                "member \(name) has flags 0x\(String(localFlags, radix: 16)) in its local header and 0x\(String(flags, radix: 16)) in the central directory",
                entry, prefix)
        }
        if method != 0 && method != 8 {
            add("zip-method", .invalid,
                "member \(name) uses compression method \(method); only stored (0) and deflate (8) are read",
                entry, prefix)
        }
        if method == 0 && compressed != uncompressed {
            add("zip-size-mismatch", .invalid,
                "stored member \(name) declares \(compressed) bytes stored and \(uncompressed) uncompressed",
                entry, prefix)
        }
        if flags & 0x8 == 0 {
            let localCRC = reader.u32(local + 14)
            let localCompressed = reader.u32(local + 18), localUncompressed = reader.u32(local + 22)
            let saturated = localCompressed == 0xFFFF_FFFF || localUncompressed == 0xFFFF_FFFF
            if localCRC != crc || (!saturated && (Int64(localCompressed) != compressed
                                                  || Int64(localUncompressed) != uncompressed)) {
                add("zip-header-mismatch", .invalid,
                    "member \(name) has a CRC or sizes in its local header that differ from the central directory",
                    entry, prefix)
            }
        }
        if let reason = Self.unsafePathReason(name) {
            add("path-traversal", .unsafe, "member \(name.debugDescription) \(reason)", entry, prefix)
        }
        if dataOffset + compressed > Int64(reader.count) {
            add("truncated", .invalid, "member \(name) runs past the end of the archive", entry, prefix)
        }
        return entry
    }

    /// Why a member name would be extracted outside its folder, or nil.
    static func unsafePathReason(_ name: String) -> String? {
        if name.hasPrefix("/") || name.hasPrefix("\\") { return "is an absolute path" }
        let bytes = Array(name.utf8)
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"), (bytes[0] | 0x20) >= UInt8(ascii: "a"),
           (bytes[0] | 0x20) <= UInt8(ascii: "z") {
            return "is an absolute Windows path"
        }
        let segments = name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if segments.contains("..") { return "has a .. segment that leaves the archive's folder" }
        return nil
    }

    /// Members whose bytes overlap let one compressed stream count many times: the
    /// "overlapping files" zip bomb, and a way to hide one member inside another.
    private mutating func checkOverlaps(directoryOffset: Int64, prefix: String?) {
        let sorted = entries.filter { $0.compressedSize > 0 }.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        var previousEnd: Int64 = 0
        var previousName = ""
        for entry in sorted {
            if entry.localHeaderOffset < previousEnd {
                add("zip-overlap", .invalid,
                    "member \(entry.name) overlaps the bytes of member \(previousName)", entry, prefix)
            }
            let end = entry.dataOffset + entry.compressedSize
            if end > directoryOffset {
                add("zip-overlap", .invalid,
                    "member \(entry.name) runs into the central directory", entry, prefix)
            }
            if end > previousEnd {
                previousEnd = end
                previousName = entry.name
            }
        }
    }

    // MARK: - Findings

    private mutating func add(_ kind: String, _ verdict: Verdict, _ message: String, _ entry: ZipEntry,
                              _ prefix: String?) {
        findings.append(Finding(kind: kind, verdict: verdict, message: message,
                                offset: entry.localHeaderOffset, member: Self.join(prefix, entry.name)))
    }

    private mutating func fail(_ kind: String, _ message: String, offset: Int64, prefix: String?) {
        findings.append(Finding(kind: kind, verdict: .invalid, message: message, offset: offset, member: prefix))
        entries = []
        fatal = true
    }

    /// `outer/inner` member paths for nested archives.
    static func join(_ prefix: String?, _ name: String) -> String {
        guard let prefix, !prefix.isEmpty else { return name }
        return prefix + "/" + name
    }
}

/// Little-endian reads from a buffer; out-of-range reads give zero (callers check
/// ranges before trusting what they read).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var count: Int { bytes.count }

    func u8(_ at: Int) -> UInt8 {
        guard at >= 0, at < bytes.count else { return 0 }
        return bytes[at]
    }

    func u16(_ at: Int) -> UInt16 {
        guard at >= 0, at + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    func u32(_ at: Int) -> UInt32 {
        guard at >= 0, at + 4 <= bytes.count else { return 0 }
        return UInt32(u16(at)) | UInt32(u16(at + 2)) << 16
    }

    func u64(_ at: Int) -> UInt64 {
        guard at >= 0, at + 8 <= bytes.count else { return 0 }
        return UInt64(u32(at)) | UInt64(u32(at + 4)) << 32
    }

    func slice(_ at: Int, _ length: Int) -> UnsafeRawBufferPointer {
        let start = max(0, min(at, bytes.count))
        let end = max(start, min(at + length, bytes.count))
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}
