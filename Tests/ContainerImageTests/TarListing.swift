import Foundation

/// A tar read back header by header, for tests: what `tar tvf` shows, with the raw
/// fields (owner names, numeric ids, pax records) that `tar` hides or reformats.
struct TarListing {
    struct Entry: Equatable {
        var path: String
        var type: UInt8
        var mode: Int
        var uid: Int
        var gid: Int
        var uname: String
        var gname: String
        var mtime: Int
        var size: Int
        var linkTarget: String
        var content: [UInt8]
        /// Whether the path came from a pax header.
        var fromPax: Bool
    }

    var entries: [Entry] = []
    /// Whether the archive ends with two zero blocks.
    var endsProperly = false

    init(_ bytes: [UInt8]) throws {
        var offset = 0
        var pax: [String: String] = [:]
        while offset + 512 <= bytes.count {
            let block = Array(bytes[offset..<offset + 512])
            if block.allSatisfy({ $0 == 0 }) {
                endsProperly = offset + 1024 <= bytes.count && bytes[offset + 512..<offset + 1024].allSatisfy { $0 == 0 }
                return
            }
            try Self.checkSum(block)
            let size = Self.octal(block[124..<136])
            let type = block[156]
            let content = Array(bytes[offset + 512..<offset + 512 + size])
            offset += 512 + (size + 511) / 512 * 512
            if type == UInt8(ascii: "x") {
                pax = Self.records(content)
                continue
            }
            let name = Self.text(block[0..<100])
            let prefix = Self.text(block[345..<500])
            var entry = Entry(
                path: prefix.isEmpty ? name : prefix + "/" + name, type: type,
                mode: Self.octal(block[100..<108]), uid: Self.octal(block[108..<116]), gid: Self.octal(block[116..<124]),
                uname: Self.text(block[265..<297]), gname: Self.text(block[297..<329]),
                mtime: Self.octal(block[136..<148]), size: size, linkTarget: Self.text(block[157..<257]),
                content: content, fromPax: false)
            if let path = pax["path"] { entry.path = path; entry.fromPax = true }
            if let link = pax["linkpath"] { entry.linkTarget = link }
            pax = [:]
            entries.append(entry)
        }
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func octal(_ bytes: ArraySlice<UInt8>) -> Int {
        Int(text(bytes).trimmingCharacters(in: .whitespaces), radix: 8) ?? -1
    }

    static func records(_ bytes: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let equals = line.firstIndex(of: "=") else { continue }
            result[String(line[line.index(after: space)..<equals])] = String(line[line.index(after: equals)...])
        }
        return result
    }

    struct BadChecksum: Error {}

    static func checkSum(_ block: [UInt8]) throws {
        var sum = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
        guard octal(block[148..<156]) == sum else { throw BadChecksum() }
    }
}
