#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes what `containerize` keeps to build faster and nobody used lately: for
/// `mlpipe cache gc`, beside the stage cache's own collection.
///
/// Under `workspace/cache`:
/// - `layers/keys/*.json`: a layer's record, touched at every hit; one not used within
///   the window is removed, then every blob under `layers/blobs/sha256` that no kept
///   record names and that is itself older than the window (a blob renamed into place a
///   moment ago, whose record is not written yet, is young and stays);
/// - `layers/digests/**`: the file-digest memo, by the time each entry was written;
/// - `layers/bases/<hex>`: a pulled base image, touched at every use;
/// - `requirements/<hex>`: an installed requirements set, touched at every use.
///
/// Temporary names left by an interrupted build (`.NAME.tmp-PID-…`) older than the window
/// go too. Images already in the object store do not lose a byte: their blobs are hard
/// links (or copies) of these files, never the same directory entry.
public struct BuildCacheSweeper: Sendable {
    /// `workspace/cache`.
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// What a sweep removed.
    public struct Report: Sendable, Equatable {
        public var layers = 0
        public var memoEntries = 0
        public var bases = 0
        public var requirementSets = 0
        public var bytesFreed: Int64 = 0

        /// True when nothing was removed.
        public var isEmpty: Bool { layers + memoEntries + bases + requirementSets == 0 }
    }

    /// Removes entries not used since `cutoff` (seconds since 1970).
    public func sweep(unusedSince cutoff: Int64) throws(ImageError) -> Report {
        var report = Report()
        let layers = folder + "/layers"
        var kept: Set<String> = []
        for name in try Self.names(in: layers + "/keys") {
            let path = layers + "/keys/" + name
            if try removeIfOld(path, cutoff: cutoff, report: &report) {
                if name.hasSuffix(".json") { report.layers += 1 }
                continue
            }
            if let record = try? FileBytes.read(path, limit: 4096),
               let digest = Self.blobDigest(inRecord: record) {
                kept.insert(digest)
            }
        }
        for name in try Self.names(in: layers + "/blobs/sha256") where !kept.contains(name) {
            _ = try removeIfOld(layers + "/blobs/sha256/" + name, cutoff: cutoff, report: &report)
        }
        for shard in try Self.names(in: layers + "/digests") {
            let path = layers + "/digests/" + shard
            for name in try Self.names(in: path) {
                if try removeIfOld(path + "/" + name, cutoff: cutoff, report: &report) { report.memoEntries += 1 }
            }
        }
        for name in try Self.names(in: layers + "/bases") {
            if try removeIfOld(layers + "/bases/" + name, cutoff: cutoff, report: &report), !name.hasPrefix(".") {
                report.bases += 1
            }
        }
        for name in try Self.names(in: folder + "/requirements") {
            if try removeIfOld(folder + "/requirements/" + name, cutoff: cutoff, report: &report), !name.hasPrefix(".") {
                report.requirementSets += 1
            }
        }
        return report
    }

    /// Marks `path` (a layer record, a base layout or a requirements folder) used now, so
    /// that a sweep keeps it. A path that cannot be touched is only swept sooner.
    public static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// Removes `path` (a file or a tree) when it was last modified before `cutoff`.
    private func removeIfOld(_ path: String, cutoff: Int64, report: inout Report) throws(ImageError) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return false }
            throw ImageError.system("read the state of", path)
        }
        guard Int64(info.st_mtim.tv_sec) < cutoff else { return false }
        let size = Self.treeSize(path)
        FileBytes.removeTree(path)
        guard lstat(path, &info) != 0 else { throw ImageError.system("remove", path) }
        report.bytesFreed += size
        return true
    }

    /// The names in `folder`, or none when it does not exist.
    static func names(in folder: String) throws(ImageError) -> [String] {
        var info = stat()
        guard lstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return [] }
        return try LayerContents.names(in: folder)
    }

    /// The bytes of the files under `path` (itself when a file).
    static func treeSize(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return Int64(info.st_size) }
        var total: Int64 = 0
        for name in (try? names(in: path)) ?? [] { total += treeSize(path + "/" + name) }
        return total
    }

    /// The blob hex a layer record names (`"digest":"sha256:<hex>"`).
    static func blobDigest(inRecord bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let range = text.range(of: "\"digest\":\"sha256:") else { return nil }
        let hex = text[range.upperBound...].prefix(while: { $0 != "\"" })
        return hex.count == 64 ? String(hex) : nil
    }
}
