import Canonical
import Foundation

/// The list of files that makes up a stored folder.
///
/// Stored as canonical JSON — keys sorted, no whitespace, entries sorted by path
/// bytewise, only `"` `\` and control characters escaped — so the same folder
/// always gives the same bytes and therefore the same tree digest, on any machine.
///
///     [{"digest":"sha256:…","executable":false,"path":"weights/model.onnx","size":1024}]
///
/// Empty folders are not recorded, as in git.
public struct TreeManifest: Sendable, Hashable {
    /// One file of the folder.
    public struct Entry: Sendable, Hashable, Codable {
        /// The file's content digest.
        public var digest: Digest
        /// Whether the file had its owner-executable bit set.
        public var executable: Bool
        /// The path inside the folder, with `/` separators.
        public var path: String
        /// The file's size in bytes.
        public var size: Int64

        /// Creates an entry.
        public init(digest: Digest, executable: Bool, path: String, size: Int64) {
            self.digest = digest
            self.executable = executable
            self.path = path
            self.size = size
        }
    }

    /// The files, sorted by path bytewise.
    public let entries: [Entry]

    /// Sorts `entries` into canonical order.
    public init(entries: [Entry]) {
        self.entries = entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// Total size of the files.
    public var totalSize: Int64 { entries.reduce(0) { $0 + $1.size } }

    /// The canonical JSON bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (position, entry) in entries.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"digest\":\"\(entry.digest)\",\"executable\":\(entry.executable),\"path\":".utf8)
            TreeManifest.appendString(entry.path, to: &out)
            out += Array(",\"size\":\(entry.size)}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Parses manifest bytes; nil unless they are exactly a canonical manifest, so
    /// that a stored file that merely looks like JSON is not taken for a tree.
    public static func decode(_ bytes: [UInt8]) -> TreeManifest? {
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return nil }
        guard let entries = try? JSONDecoder().decode([Entry].self, from: Data(bytes)) else { return nil }
        let manifest = TreeManifest(entries: entries)
        return manifest.encoded() == bytes ? manifest : nil
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        JSONString.append(text, to: &out)
    }
}
