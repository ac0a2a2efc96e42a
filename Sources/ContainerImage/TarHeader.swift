/// The header blocks of one tar entry, in the POSIX ustar format, with a pax extended
/// header in front where ustar cannot hold a value (a path longer than its 100+155
/// bytes, a non-ASCII path or link target, a file of 8 GiB or more).
///
/// Only what a reproducible layer needs: owner and group 0 with empty names, one fixed
/// mtime, the mode given, no device numbers. Equal arguments give equal bytes; the pax
/// header's own name is fixed (`././@PaxHeader`, as git and GNU tar write it) and holds
/// no time or process id, unlike GNU tar's default `%d/PaxHeaders.%p/%f`.
struct TarHeader {
    /// The entry types a layer has.
    enum Kind: UInt8 {
        case file = 48        // '0'
        case symlink = 50     // '2'
        case directory = 53   // '5'
        case paxHeader = 120  // 'x'
    }

    /// The entry's path in the archive, relative, without a trailing slash (one is added
    /// for a directory).
    var path: String
    var kind: Kind
    /// Permission bits (0644, 0755, 0777 for a symlink).
    var mode: UInt32
    /// The content's size; 0 for a directory or symlink.
    var size: Int64 = 0
    /// Seconds since 1970, not negative.
    var mtime: Int64
    /// A symlink's target.
    var linkTarget: String = ""

    /// The largest size or time an 11-digit octal field holds.
    static let octalLimit: Int64 = 0o77777777777

    /// The bytes of the header: 512, or a pax header and its records first.
    func encoded() -> [UInt8] {
        let name = kind == .directory ? path + "/" : path
        var records: [(String, String)] = []
        let split = Self.split(name)
        if split == nil { records.append(("path", name)) }
        let linkFits = linkTarget.utf8.count <= 100 && Self.isASCII(linkTarget)
        if !linkFits { records.append(("linkpath", linkTarget)) }
        if size > Self.octalLimit { records.append(("size", String(size))) }
        if mtime > Self.octalLimit { records.append(("mtime", String(mtime))) }

        var bytes: [UInt8] = []
        if !records.isEmpty {
            var body: [UInt8] = []
            // pax keywords in a fixed order, each record "LEN key=value\n".
            for (key, value) in records.sorted(by: { $0.0 < $1.0 }) { body += Self.paxRecord(key, value) }
            bytes += Self.block(name: ("", "././@PaxHeader"), kind: .paxHeader, mode: 0o644,
                                size: Int64(body.count), mtime: min(mtime, Self.octalLimit), link: "")
            bytes += body
            bytes += [UInt8](repeating: 0, count: Self.padding(Int64(body.count)))
        }
        let (prefix, last) = split ?? ("", Self.truncated(name, to: 100))
        bytes += Self.block(name: (prefix, last), kind: kind, mode: mode, size: min(size, Self.octalLimit),
                            mtime: min(mtime, Self.octalLimit),
                            link: linkFits ? linkTarget : Self.truncated(linkTarget, to: 100))
        return bytes
    }

    /// Zero bytes that bring `size` to a multiple of 512.
    static func padding(_ size: Int64) -> Int {
        Int((512 - size % 512) % 512)
    }

    /// `name` as ustar's (prefix, name) fields, or nil when it does not fit: name at most
    /// 100 bytes, prefix at most 155, split at a slash, ASCII only.
    static func split(_ name: String) -> (String, String)? {
        guard isASCII(name) else { return nil }
        let bytes = Array(name.utf8)
        if bytes.count <= 100 { return ("", name) }
        // The rightmost slash that leaves a prefix of at most 155 bytes and a non-empty
        // name of at most 100 (a directory's trailing slash is not a split point).
        var index = min(bytes.count - 2, 155)
        while index >= 0 {
            if bytes[index] == UInt8(ascii: "/") {
                let nameCount = bytes.count - index - 1
                if nameCount <= 100 && nameCount > 0 {
                    return (String(decoding: bytes[..<index], as: UTF8.self),
                            String(decoding: bytes[(index + 1)...], as: UTF8.self))
                }
                return nil
            }
            index -= 1
        }
        return nil
    }

    static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// The first bytes of `text` that fit a field (readers take the pax value instead).
    static func truncated(_ text: String, to count: Int) -> String {
        let ascii = text.utf8.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "_") }
        return String(decoding: ascii.prefix(count), as: UTF8.self)
    }

    /// One pax record: "LEN key=value\n", where LEN counts the whole record, itself too.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let rest = " \(key)=\(value)\n".utf8.count
        var length = rest + 1
        while String(length).utf8.count + rest != length { length += 1 }
        return Array("\(length) \(key)=\(value)\n".utf8)
    }

    /// A 512-byte ustar header block.
    static func block(name: (prefix: String, name: String), kind: Kind, mode: UInt32, size: Int64,
                      mtime: Int64, link: String) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            // width-1 zero-padded octal digits and a NUL, as POSIX writes numeric fields.
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.utf8.count)) + digits, at: offset)
        }
        put(name.name, at: 0)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)          // uid
        octal(0, at: 116, width: 8)          // gid
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        block[156] = kind.rawValue
        put(link, at: 157)
        put("ustar\u{0}00", at: 257)          // magic "ustar\0", version "00"
        // uname (265) and gname (297) stay empty.
        octal(0, at: 329, width: 8)          // devmajor
        octal(0, at: 337, width: 8)          // devminor
        put(name.prefix, at: 345)
        // The checksum is computed with its own field as eight spaces, then written as
        // six octal digits, a NUL and a space.
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        block[154] = 0
        block[155] = 0x20
        return block
    }
}
