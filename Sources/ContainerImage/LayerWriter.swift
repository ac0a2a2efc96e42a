#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one reproducible layer blob: the entries as a tar (sorted as given, owner 0,
/// one mtime, normalised modes), gzipped with fixed header fields or stored plain, in one
/// pass that also yields the blob's digest and size and the tar's `diff_id`.
///
/// The same entries (paths, modes, bytes, link targets), mtime and compression give the
/// same bytes on any machine with the same zlib, whatever the files' own times, owners
/// or umask. Memory is fixed: a 1 MiB read buffer and zlib's buffers.
///
/// The blob is written to `path`, which must not exist; on failure the partial file is
/// removed. Use `LayerCache` to write a layer only when its inputs changed.
public struct LayerWriter: Sendable {
    /// Seconds since 1970 for every entry: the commit's time, or `SOURCE_DATE_EPOCH`.
    public var mtime: Int64
    public var compression: LayerCompression

    /// A writer for layers with this mtime and compression.
    public init(mtime: Int64, compression: LayerCompression = .default) {
        self.mtime = mtime
        self.compression = compression
    }

    /// Writes `entries` (in this order) as a layer blob at `path`.
    public func write(_ entries: [LayerEntry], to path: String) throws(ImageError) -> Layer {
        let level = try compression.level(for: entries)
        let file = try OutputFile(creating: path)
        do throws(ImageError) {
            let layer = try write(entries, level: level, into: file)
            try file.close()
            return layer
        } catch {
            unlink(path)
            throw error
        }
    }

    private func write(_ entries: [LayerEntry], level: Int?, into file: OutputFile) throws(ImageError) -> Layer {
        if let level {
            let compressed = HashingSink(next: file)
            let gzip = try GzipEncoder(level: Int32(level), output: compressed)
            let tar = HashingSink(next: gzip)
            try writeTar(entries, to: tar)
            try gzip.finish()
            return Layer(mediaType: OCIMediaType.layerGzip, digest: compressed.finalize(), size: compressed.count,
                         diffID: tar.finalize(), path: file.path)
        }
        let tar = HashingSink(next: file)
        try writeTar(entries, to: tar)
        let digest = tar.finalize()
        return Layer(mediaType: OCIMediaType.layerTar, digest: digest, size: tar.count, diffID: digest, path: file.path)
    }

    private func writeTar(_ entries: [LayerEntry], to sink: any ByteSink) throws(ImageError) {
        let tar = TarWriter(sink: sink, mtime: mtime)
        for entry in entries {
            try tar.append(entry)
        }
        try tar.finish()
    }
}
