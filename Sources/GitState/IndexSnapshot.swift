#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Canonical
import CLibGit2

/// One index entry: the stat data and blob id git recorded for a path.
///
/// `path` points into memory owned by the ``IndexSnapshot`` it came from, so an
/// entry is only valid while its snapshot is alive.
struct IndexEntry {
    let path: UnsafePointer<UInt8>
    let length: Int
    var ctime = timespec()
    var mtime = timespec()
    var ino: UInt32 = 0
    var mode: UInt32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var size: UInt32 = 0
    var id = git_oid()
    /// 0 for a normal entry, 1-3 for the sides of a merge conflict.
    var stage: Int = 0
    /// `assume-unchanged` or `skip-worktree`: git does not look at the file, nor do we.
    var skipsWorktree = false

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: path, count: length) }
    var isGitlink: Bool { mode == 0o160000 }
    var string: String { String(decoding: bytes, as: UTF8.self) }
    var cPath: UnsafePointer<CChar> { UnsafeRawPointer(path).assumingMemoryBound(to: CChar.self) }

    /// Bytewise order, as git sorts the index.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        let common = min(a.count, b.count)
        if common > 0 {
            let result = memcmp(a.baseAddress!, b.baseAddress!, common)
            if result != 0 { return result }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

/// The index file, read once and kept while it does not change on disk.
///
/// git's index is parsed here directly (versions 2 to 4, from a private read-only
/// mapping) rather than through `git_index`: libgit2 allocates and hashes every
/// entry into a map, which costs about as much as all the `lstat` calls of a
/// 100,000-file status. Entries point into the mapping; nothing is copied except
/// the paths of a version 4 index, which are prefix-compressed. The trailing
/// SHA-1 is verified with libcrypto. The cached trees (the `TREE` extension) are
/// kept, so that a clean index costs no tree comparison at all.
///
/// An index this reader does not know (a split or sparse index, a future version)
/// is read through libgit2 instead, without cached trees.
final class IndexSnapshot {
    /// Entries in bytewise path order, conflict stages in order.
    let entries: [IndexEntry]
    /// Valid cached tree ids by folder path (`[]` for the root).
    let cachedTrees: [[UInt8]: git_oid]
    /// The index file's modification time: entries changed at or after it are racy.
    let fileTime: timespec
    /// What identifies this version of the file: device, inode, size, mtime.
    let identity: [Int]

    private let mapping: UnsafeMutableRawBufferPointer?
    private let arena: PathArena?
    private let libgit2Index: OpaquePointer?

    private init(entries: [IndexEntry], cachedTrees: [[UInt8]: git_oid], fileTime: timespec, identity: [Int],
                 mapping: UnsafeMutableRawBufferPointer? = nil, arena: PathArena? = nil,
                 libgit2Index: OpaquePointer? = nil) {
        self.entries = entries
        self.cachedTrees = cachedTrees
        self.fileTime = fileTime
        self.identity = identity
        self.mapping = mapping
        self.arena = arena
        self.libgit2Index = libgit2Index
    }

    deinit {
        if let mapping { munmap(mapping.baseAddress, mapping.count) }
        if let libgit2Index { git_index_free(libgit2Index) }
    }

    /// The identity of the index file at `path` now, or `[]` when there is none.
    static func identity(of path: String) -> (identity: [Int], time: timespec) {
        var info = stat()
        guard stat(path, &info) == 0 else { return ([], timespec()) }
        let time = ParallelScan.time(info, modification: true)
        return ([Int(info.st_dev), Int(info.st_ino), Int(info.st_size), time.tv_sec, time.tv_nsec], time)
    }

    /// Reads the index at `path` (the file's time is taken before its content, so
    /// an entry written in between is taken as racy). `repository` is used only
    /// for an index this reader does not know.
    static func read(path: String, repository: OpaquePointer) throws(GitError) -> IndexSnapshot {
        let (identity, time) = IndexSnapshot.identity(of: path)
        if identity.isEmpty {
            return IndexSnapshot(entries: [], cachedTrees: [:], fileTime: time, identity: [])
        }
        if let parsed = parse(path: path, time: time, identity: identity) { return parsed }
        return try readWithLibGit2(repository: repository, time: time, identity: identity)
    }

    private static func parse(path: String, time: timespec, identity: [Int]) -> IndexSnapshot? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= 32 else { return nil }
        let size = Int(info.st_size)
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else { return nil }
        let mapping = UnsafeMutableRawBufferPointer(start: address, count: size)
        guard let parsed = IndexParser(data: UnsafeRawBufferPointer(mapping)).parse() else {
            munmap(address, size)
            return nil
        }
        var entries = parsed.entries
        sortIfNeeded(&entries)
        return IndexSnapshot(entries: entries, cachedTrees: parsed.trees, fileTime: time,
                             identity: identity, mapping: mapping, arena: parsed.arena)
    }

    /// Sorts bytewise by path, then by stage, unless already so (the usual case).
    private static func sortIfNeeded(_ entries: inout [IndexEntry]) {
        func ordered(_ a: IndexEntry, _ b: IndexEntry) -> Bool {
            let order = IndexEntry.compare(a.bytes, b.bytes)
            return order < 0 || (order == 0 && a.stage < b.stage)
        }
        for position in entries.indices.dropFirst() where !ordered(entries[position - 1], entries[position]) {
            entries.sort(by: ordered)
            return
        }
    }

    private static func readWithLibGit2(repository: OpaquePointer, time: timespec,
                                        identity: [Int]) throws(GitError) -> IndexSnapshot {
        let hint = "mlpipe reads index versions 2 to 4 without split-index or sparse-index extensions; run `git update-index --no-split-index` or `git sparse-checkout disable`, or `git status` to see whether git can read it"
        var handle: OpaquePointer?
        try LibGit2.check(git_repository_index(&handle, repository), "opening the index", hint: hint)
        guard let index = handle else { throw GitError(.libgit2, "libgit2 returned no index") }
        let result = git_index_read(index, 1)
        if result < 0 {
            git_index_free(index)
            throw GitError.fromLibGit2(result, "reading the index", hint: hint)
        }
        var entries: [IndexEntry] = []
        let count = git_index_entrycount(index)
        entries.reserveCapacity(count)
        for position in 0..<count {
            guard let raw = git_index_get_byindex(index, position)?.pointee, let cPath = raw.path else { continue }
            var entry = IndexEntry(path: UnsafeRawPointer(cPath).assumingMemoryBound(to: UInt8.self),
                                   length: strlen(cPath))
            entry.ctime = timespec(tv_sec: Int(raw.ctime.seconds), tv_nsec: Int(raw.ctime.nanoseconds))
            entry.mtime = timespec(tv_sec: Int(raw.mtime.seconds), tv_nsec: Int(raw.mtime.nanoseconds))
            entry.ino = raw.ino
            entry.mode = raw.mode
            entry.uid = raw.uid
            entry.gid = raw.gid
            entry.size = raw.file_size
            entry.id = raw.id
            entry.stage = Int((raw.flags & 0x3000) >> 12)
            entry.skipsWorktree = (raw.flags & 0x8000) != 0 || (raw.flags_extended & 0x4000) != 0
            entries.append(entry)
        }
        // libgit2 sorts case-insensitively under core.ignorecase; lookups need bytes.
        sortIfNeeded(&entries)
        return IndexSnapshot(entries: entries, cachedTrees: [:], fileTime: time, identity: identity,
                             libgit2Index: index)
    }
}

/// Stable storage for the paths of a version 4 index, in 1 MiB chunks.
final class PathArena {
    private var chunks: [UnsafeMutableRawBufferPointer] = []
    private var used = 0

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Copies `prefix` then `suffix` (plus a NUL) into the arena.
    func store(_ prefix: UnsafeBufferPointer<UInt8>, _ suffix: UnsafeBufferPointer<UInt8>) -> UnsafePointer<UInt8> {
        let needed = prefix.count + suffix.count + 1
        if chunks.isEmpty || used + needed > chunks[chunks.count - 1].count {
            chunks.append(.allocate(byteCount: max(1 << 20, needed), alignment: 8))
            used = 0
        }
        let target = chunks[chunks.count - 1].baseAddress!.assumingMemoryBound(to: UInt8.self) + used
        if let base = prefix.baseAddress, prefix.count > 0 { target.update(from: base, count: prefix.count) }
        if let base = suffix.baseAddress, suffix.count > 0 { (target + prefix.count).update(from: base, count: suffix.count) }
        target[needed - 1] = 0
        used += needed
        return UnsafePointer(target)
    }
}

/// Parses git's index format (see git's Documentation/gitformat-index.txt).
private struct IndexParser {
    typealias Result = (entries: [IndexEntry], trees: [[UInt8]: git_oid], arena: PathArena?)

    let data: UnsafeRawBufferPointer
    private let base: UnsafePointer<UInt8>

    init(data: UnsafeRawBufferPointer) {
        self.data = data
        base = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    private func word(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    private func half(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// nil when the file is damaged or uses something this parser does not know.
    func parse() -> Result? {
        guard data.count >= 32, word(0) == 0x4449_5243 /* DIRC */ else { return nil }
        let version = word(4)
        guard (2...4).contains(version), verifyChecksum() else { return nil }
        let count = Int(word(8))
        let end = data.count - 20
        var entries: [IndexEntry] = []
        entries.reserveCapacity(count)
        let arena: PathArena? = version == 4 ? PathArena() : nil
        var previous = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var offset = 12
        for _ in 0..<count {
            let start = offset
            guard start + 62 <= end else { return nil }
            let flags = half(start + 60)
            var headerSize = 62
            var extended: UInt16 = 0
            if flags & 0x4000 != 0 {
                guard version >= 3, start + 64 <= end else { return nil }
                extended = half(start + 62)
                headerSize = 64
            }
            var cursor = start + headerSize
            let path: UnsafePointer<UInt8>
            let length: Int
            if let arena {
                // A varint: how many bytes of the previous path to drop; then the suffix.
                guard cursor < end else { return nil }
                var byte = Int(base[cursor]); cursor += 1
                var strip = byte & 127
                while byte & 128 != 0 {
                    guard cursor < end, strip < Int(UInt32.max) else { return nil }
                    byte = Int(base[cursor]); cursor += 1
                    strip = ((strip + 1) << 7) | (byte & 127)
                }
                guard strip <= previous.count, let nul = memchr(base + cursor, 0, end - cursor) else { return nil }
                let suffixLength = UnsafeRawPointer(nul) - UnsafeRawPointer(base + cursor)
                let kept = previous.count - strip
                path = arena.store(UnsafeBufferPointer(rebasing: previous[0..<kept]),
                                   UnsafeBufferPointer(start: base + cursor, count: suffixLength))
                length = kept + suffixLength
                offset = cursor + suffixLength + 1
            } else {
                var nameLength = Int(flags & 0x0fff)
                if nameLength == 0x0fff {
                    guard let nul = memchr(base + cursor, 0, end - cursor) else { return nil }
                    nameLength = UnsafeRawPointer(nul) - UnsafeRawPointer(base + cursor)
                }
                guard cursor + nameLength < end, base[cursor + nameLength] == 0 else { return nil }
                path = base + cursor
                length = nameLength
                // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
                offset = start + ((headerSize + nameLength + 8) & ~7)
            }
            previous = UnsafeBufferPointer(start: path, count: length)
            var entry = IndexEntry(path: path, length: length)
            entry.ctime = timespec(tv_sec: Int(word(start)), tv_nsec: Int(word(start + 4)))
            entry.mtime = timespec(tv_sec: Int(word(start + 8)), tv_nsec: Int(word(start + 12)))
            entry.ino = word(start + 20)
            entry.mode = word(start + 24)
            entry.uid = word(start + 28)
            entry.gid = word(start + 32)
            entry.size = word(start + 36)
            withUnsafeMutableBytes(of: &entry.id) { id in
                id.copyMemory(from: UnsafeRawBufferPointer(start: base + start + 40, count: 20))
            }
            entry.stage = Int((flags & 0x3000) >> 12)
            entry.skipsWorktree = (flags & 0x8000) != 0 || (extended & 0x4000) != 0
            entries.append(entry)
        }
        var trees: [[UInt8]: git_oid] = [:]
        while offset + 8 <= end {
            let signature = word(offset)
            let size = Int(word(offset + 4))
            let body = offset + 8
            guard body + size <= end else { return nil }
            if signature == 0x5452_4545 /* TREE */ {
                var cursor = body
                guard parseTree(&cursor, body + size, prefix: [], into: &trees) else { return nil }
            } else if base[offset] >= UInt8(ascii: "a") && base[offset] <= UInt8(ascii: "z") {
                return nil   // a mandatory extension we do not know (split or sparse index)
            }
            offset = body + size
        }
        guard offset == end else { return nil }
        return (entries, trees, arena)
    }

    /// Reads one cached tree and its subtrees: `path NUL count SP subtrees LF [id]`.
    private func parseTree(_ cursor: inout Int, _ end: Int, prefix: [UInt8],
                           into trees: inout [[UInt8]: git_oid]) -> Bool {
        guard cursor < end, let nul = memchr(base + cursor, 0, end - cursor) else { return false }
        let nameLength = UnsafeRawPointer(nul) - UnsafeRawPointer(base + cursor)
        var path = prefix
        if nameLength > 0 {
            if !path.isEmpty { path.append(UInt8(ascii: "/")) }
            path.append(contentsOf: UnsafeBufferPointer(start: base + cursor, count: nameLength))
        }
        cursor += nameLength + 1
        guard let count = number(&cursor, end, until: UInt8(ascii: " ")),
              let subtrees = number(&cursor, end, until: UInt8(ascii: "\n")), subtrees >= 0 else { return false }
        if count >= 0 {
            guard cursor + 20 <= end else { return false }
            var id = git_oid()
            withUnsafeMutableBytes(of: &id) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + cursor, count: 20)) }
            trees[path] = id
            cursor += 20
        }
        for _ in 0..<subtrees {
            guard parseTree(&cursor, end, prefix: path, into: &trees) else { return false }
        }
        return true
    }

    private func number(_ cursor: inout Int, _ end: Int, until terminator: UInt8) -> Int? {
        var negative = false
        var value = 0
        var digits = 0
        if cursor < end && base[cursor] == UInt8(ascii: "-") { negative = true; cursor += 1 }
        while cursor < end && base[cursor] != terminator {
            let digit = Int(base[cursor]) - Int(UInt8(ascii: "0"))
            guard (0...9).contains(digit), digits < 12 else { return nil }
            value = value * 10 + digit
            digits += 1
            cursor += 1
        }
        guard cursor < end, digits > 0 else { return nil }
        cursor += 1
        return negative ? -value : value
    }

    private func verifyChecksum() -> Bool {
        var digest = [UInt8](repeating: 0, count: 20)
        var hasher = SHA1Hasher()
        hasher.reset()
        hasher.update(UnsafeRawBufferPointer(start: base, count: data.count - 20))
        digest.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        let stored = UnsafeRawBufferPointer(rebasing: data[(data.count - 20)...])
        // An all-zero trailer means the writer skipped the hash (index.skipHash).
        return stored.elementsEqual(digest) || stored.allSatisfy { $0 == 0 }
    }
}
