#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibGit2
import Dispatch

/// The state of one index entry against its working-tree file.
enum WorkingState: UInt8 {
    case clean = 0, modified, deleted
}

/// A name found by reading a tracked folder that the index does not know: an
/// untracked file or folder, unless ignore rules say otherwise.
struct UntrackedCandidate {
    var path: [UInt8]
    var isDirectory: Bool
    /// Whether the scope covers the path itself (not only something below it).
    var covered: Bool
}

/// The parallel part of `status`: compares index entries with their files by
/// `lstat`, and reads every tracked folder to find names the index lacks.
///
/// An entry is hashed only when its recorded stat data differs or it is racily
/// clean (written in the same instant as the index, so its stat data cannot be
/// trusted). Files are looked up relative to their folder's descriptor, so the
/// kernel resolves one path component per call instead of the whole path.
/// Ignore rules need libgit2, which must not run concurrently, so folder reads
/// only collect candidates; the caller checks them afterwards on its own thread.
struct ParallelScan: @unchecked Sendable {
    // Safe to share between the worker threads: every field is immutable or points
    // to memory that no one writes during the scan (index entries, folder list),
    // except `results` and `candidates`, where each work item writes only its own
    // disjoint slots. No libgit2 call is made.
    /// Positions in `all` of the entries to compare with their files.
    let checked: UnsafeBufferPointer<Int32>
    let results: UnsafeMutableBufferPointer<UInt8>
    let all: UnsafeBufferPointer<IndexEntry>
    let folders: UnsafeBufferPointer<[UInt8]>
    let candidates: UnsafeMutableBufferPointer<[UntrackedCandidate]>
    let root: Int32
    let indexTime: timespec
    let trustsFileMode: Bool
    let scope: PathScope

    static let entriesPerItem = 4096
    static let foldersPerItem = 16

    static func itemCount(entries: Int, folders: Int) -> (entryItems: Int, folderItems: Int) {
        ((entries + entriesPerItem - 1) / entriesPerItem, (folders + foldersPerItem - 1) / foldersPerItem)
    }

    /// Runs every work item, on as many threads as there are cores.
    func run() {
        let (entryItems, folderItems) = ParallelScan.itemCount(entries: checked.count, folders: folders.count)
        let total = entryItems + folderItems
        if total <= 1 {
            if entryItems == 1 { compare(0) }
            if folderItems == 1 { readFolders(0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: total) { item in
            if item < entryItems { compare(item) } else { readFolders(item - entryItems) }
        }
    }

    /// Fills `results` for the entries of work item `item`.
    private func compare(_ item: Int) {
        let range = item * ParallelScan.entriesPerItem..<min(checked.count, (item + 1) * ParallelScan.entriesPerItem)
        var hasher = BlobHasher(bufferSize: 1 << 18)
        var folder = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var folderFD: Int32 = -1
        defer { if folderFD >= 0 && folderFD != root { close(folderFD) } }
        for position in range {
            let entry = all[Int(checked[position])]
            var slash = entry.length - 1
            while slash >= 0 && entry.path[slash] != UInt8(ascii: "/") { slash -= 1 }
            let parent = UnsafeBufferPointer(start: entry.path, count: max(slash, 0))
            if folder.baseAddress == nil || !parent.elementsEqual(folder) {
                if folderFD >= 0 && folderFD != root { close(folderFD) }
                folder = parent
                folderFD = slash < 0 ? root : Array(parent).withCString {
                    openat(root, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                }
            }
            let name = UnsafeRawPointer(entry.path + (slash + 1)).assumingMemoryBound(to: CChar.self)
            results[position] = state(of: entry, name: name, folder: folderFD, hasher: &hasher).rawValue
        }
    }

    private func state(of entry: IndexEntry, name: UnsafePointer<CChar>, folder: Int32,
                       hasher: inout BlobHasher) -> WorkingState {
        // Submodules are not looked into; skip-worktree files are absent on purpose.
        if entry.isGitlink || entry.skipsWorktree { return .clean }
        var info = stat()
        guard folder >= 0, fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .deleted }
        let type = info.st_mode & S_IFMT
        if entry.mode == 0o120000 {
            guard type == S_IFLNK else { return type == S_IFDIR ? .deleted : .modified }
        } else {
            if type == S_IFDIR { return .deleted }
            guard type == S_IFREG else { return .modified }
            if trustsFileMode && ((info.st_mode & 0o100) != 0) != (entry.mode == 0o100755) { return .modified }
        }
        // The index keeps 32 bits of each field; nanoseconds of 0 mean "not recorded".
        func same(_ recorded: timespec, _ actual: timespec) -> Bool {
            UInt32(truncatingIfNeeded: recorded.tv_sec) == UInt32(truncatingIfNeeded: actual.tv_sec)
                && (recorded.tv_nsec == 0 || recorded.tv_nsec == actual.tv_nsec)
        }
        let size = UInt32(truncatingIfNeeded: info.st_size)
        let statMatches = same(entry.mtime, ParallelScan.time(info, modification: true))
            && same(entry.ctime, ParallelScan.time(info, modification: false))
            && entry.size == size
            && entry.ino == UInt32(truncatingIfNeeded: info.st_ino)
            && entry.uid == UInt32(info.st_uid) && entry.gid == UInt32(info.st_gid)
        if statMatches && !isRacy(entry) { return .clean }
        // A different size means different content, unless the entry was
        // "smudged" (size 0) by a writer that could not trust it.
        if entry.size != 0 && entry.size != size { return .modified }
        guard let id = try? hasher.hashFile(atPath: name, in: folder, displayPath: entry.string) else {
            return .modified
        }
        return id.same(as: entry.id) ? .clean : .modified
    }

    /// Racily clean: the file changed in the same instant the index was written,
    /// so matching stat data proves nothing.
    private func isRacy(_ entry: IndexEntry) -> Bool {
        if entry.mtime.tv_sec != indexTime.tv_sec { return entry.mtime.tv_sec > indexTime.tv_sec }
        return entry.mtime.tv_nsec >= indexTime.tv_nsec
    }

    /// Reads the folders of work item `item`, collecting names the index lacks.
    private func readFolders(_ item: Int) {
        let range = item * ParallelScan.foldersPerItem..<min(folders.count, (item + 1) * ParallelScan.foldersPerItem)
        var found: [UntrackedCandidate] = []
        for position in range {
            var path = folders[position]
            let covered = path.withUnsafeBufferPointer { scope.covers($0) }
            var children = 0..<all.count
            if !path.isEmpty {
                path.append(UInt8(ascii: "/"))
                children = EntryLookup(entries: all).prefixRange(path, in: children)
                path.removeLast()
            }
            readFolder(&path, children, fullScope: covered, into: &found)
        }
        candidates[item] = found
    }

    private func readFolder(_ path: inout [UInt8], _ range: Range<Int>, fullScope: Bool,
                            into found: inout [UntrackedCandidate]) {
        let lookup = EntryLookup(entries: all)
        FolderReader.forEachChild(of: &path, root: root) { path, type in
            let covered = fullScope || path.withUnsafeBufferPointer { scope.covers($0) }
            if type == S_IFDIR {
                guard covered || path.withUnsafeBufferPointer({ scope.mayCoverBelow($0) }) else { return }
                path.append(UInt8(ascii: "/"))
                let tracked = !lookup.prefixRange(path, in: range).isEmpty
                path.removeLast()
                if tracked { return }   // read as a folder of its own
                if let exact = lookup.find(path, in: range), all[exact].isGitlink { return }
                found.append(UntrackedCandidate(path: path, isDirectory: true, covered: covered))
            } else if covered && lookup.find(path, in: range) == nil {
                found.append(UntrackedCandidate(path: path, isDirectory: false, covered: true))
            }
        }
    }

    static func time(_ info: stat, modification: Bool) -> timespec {
        #if canImport(Darwin)
        return modification ? info.st_mtimespec : info.st_ctimespec
        #else
        return modification ? info.st_mtim : info.st_ctim
        #endif
    }
}

/// Binary searches over index entries sorted bytewise.
struct EntryLookup {
    let entries: UnsafeBufferPointer<IndexEntry>

    /// The entries whose path starts with `prefix` (which ends in `/`): they lie
    /// between `prefix` and `prefix` with its `/` replaced by `0`, the next byte.
    func prefixRange(_ prefix: [UInt8], in range: Range<Int>) -> Range<Int> {
        var upper = prefix
        upper[upper.count - 1] = UInt8(ascii: "/") + 1
        let low = lowerBound(prefix, in: range)
        let high = lowerBound(upper, in: low..<range.upperBound)
        return low..<high
    }

    /// The position of the entry whose path is `path`, if any.
    func find(_ path: [UInt8], in range: Range<Int>) -> Int? {
        let position = lowerBound(path, in: range)
        guard position < range.upperBound else { return nil }
        let equal = path.withUnsafeBufferPointer { IndexEntry.compare(entries[position].bytes, $0) == 0 }
        return equal ? position : nil
    }

    private func lowerBound(_ key: [UInt8], in range: Range<Int>) -> Int {
        key.withUnsafeBufferPointer { key in
            var low = range.lowerBound, high = range.upperBound
            while low < high {
                let middle = (low + high) / 2
                if IndexEntry.compare(entries[middle].bytes, key) < 0 { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }
}

/// Reads one folder of the working tree.
enum FolderReader {
    /// Calls `body` with each child's path (appended to `path`, which is restored
    /// afterwards) and type (`S_IFDIR`, `S_IFREG` or `S_IFLNK`), skipping `.git`
    /// and other kinds of file. An unreadable folder is skipped, as `git status`
    /// does (with a warning).
    static func forEachChild(of path: inout [UInt8], root: Int32,
                             _ body: (inout [UInt8], mode_t) -> Void) {
        let fd: Int32 = path.isEmpty
            ? openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            : path.withCString { openat(root, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return }
        guard let directory = fdopendir(fd) else { close(fd); return }
        defer { closedir(directory) }
        let base = path.count
        while let item = readdir(directory) {
            let nameStart = path.count
            let skip = withUnsafeBytes(of: &item.pointee.d_name) { raw -> Bool in
                let length = strlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                let bytes = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<length])
                if bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8)
                    || bytes.elementsEqual(".git".utf8) { return true }
                if base > 0 { path.append(UInt8(ascii: "/")) }
                path.append(contentsOf: bytes)
                return false
            }
            if skip { continue }
            defer { path.removeSubrange(base...) }
            var type: mode_t
            switch Int32(item.pointee.d_type) {
            case Int32(DT_DIR): type = S_IFDIR
            case Int32(DT_REG): type = S_IFREG
            case Int32(DT_LNK): type = S_IFLNK
            case Int32(DT_UNKNOWN):
                var info = stat()
                let name = Array(path[(base > 0 ? nameStart + 1 : nameStart)...])
                guard name.withCString({ fstatat(dirfd(directory), $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                    continue
                }
                type = info.st_mode & S_IFMT
                guard type == S_IFDIR || type == S_IFREG || type == S_IFLNK else { continue }
            default:
                continue
            }
            body(&path, type)
        }
    }
}

/// The serial part of finding untracked files: ignore checks (libgit2) for the
/// candidates the parallel scan found, walks into untracked folders, and roots
/// that no tracked folder holds.
struct UntrackedWalker {
    let repository: OpaquePointer
    let entries: UnsafeBufferPointer<IndexEntry>
    let root: Int32
    let scope: PathScope
    var untracked: [String] = []

    /// Checks one candidate from the parallel scan.
    mutating func consider(_ candidate: UntrackedCandidate) {
        var path = candidate.path
        if candidate.isDirectory {
            if isIgnored(path) || isNestedRepository(path) { return }
            walk(&path, fullScope: candidate.covered)
        } else if !isIgnored(path) {
            untracked.append(String(decoding: path, as: UTF8.self))
        }
    }

    /// Handles a root of the scope that is not a tracked folder: an untracked
    /// folder or file, or a tracked file (nothing to do).
    mutating func considerRoot(_ root: [UInt8]) {
        var info = stat()
        let exists = root.isEmpty
            || root.withCString { fstatat(self.root, $0, &info, AT_SYMLINK_NOFOLLOW) == 0 }
        guard exists else { return }
        let lookup = EntryLookup(entries: entries)
        if !root.isEmpty, lookup.find(root, in: 0..<entries.count) != nil { return }
        let covered = root.withUnsafeBufferPointer { scope.covers($0) }
        let type = root.isEmpty ? S_IFDIR : info.st_mode & S_IFMT
        if type == S_IFDIR {
            consider(UntrackedCandidate(path: root, isDirectory: true, covered: covered))
        } else if (type == S_IFREG || type == S_IFLNK) && covered {
            consider(UntrackedCandidate(path: root, isDirectory: false, covered: true))
        }
    }

    /// Walks a folder with nothing tracked below it.
    private mutating func walk(_ path: inout [UInt8], fullScope: Bool) {
        var children: [UntrackedCandidate] = []
        FolderReader.forEachChild(of: &path, root: root) { path, type in
            let covered = fullScope || path.withUnsafeBufferPointer { scope.covers($0) }
            if type == S_IFDIR {
                if covered || path.withUnsafeBufferPointer({ scope.mayCoverBelow($0) }) {
                    children.append(UntrackedCandidate(path: path, isDirectory: true, covered: covered))
                }
            } else if covered {
                children.append(UntrackedCandidate(path: path, isDirectory: false, covered: true))
            }
        }
        for child in children { consider(child) }
    }

    private func isIgnored(_ path: [UInt8]) -> Bool {
        if path.isEmpty { return false }
        var ignored: Int32 = 0
        let result = path.withCString { git_ignore_path_is_ignored(&ignored, repository, $0) }
        return result == 0 && ignored == 1
    }

    private func isNestedRepository(_ path: [UInt8]) -> Bool {
        if path.isEmpty { return false }
        return (path + Array("/.git".utf8)).withCString { faccessat(root, $0, F_OK, AT_SYMLINK_NOFOLLOW) == 0 }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a NUL-terminated C string.
    func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        var terminated = self
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { buffer in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
        }
    }
}
