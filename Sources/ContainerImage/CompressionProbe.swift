import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Estimates whether gzip is worth its time for a layer, by compressing small samples of
/// its large files.
///
/// Only files of 1 MiB or more are sampled: when they are under half the layer's bytes
/// the layer is small or made of code and text, and is compressed without asking. Of the
/// large files, the 16 largest (ties by path) give three 128 KiB pieces each, at a
/// quarter, half and three quarters of the file (past headers, into the tensors); each
/// piece is deflated on its own at the layer's level. The estimated ratio of all large
/// files is the size-weighted mean of the sampled ones. The pieces, their places and the
/// result depend only on the files' bytes and sizes. At most 6 MiB is read and
/// compressed, about 0.1 s at level 1.
struct CompressionProbe {
    var level: Int
    /// Below this fraction of the original size, compression pays.
    var threshold = 0.9
    static let largeFile: Int64 = 1 << 20
    static let sampledFiles = 16
    static let pieceSize = 128 << 10

    /// Whether the layer should be gzipped.
    func worthCompressing(_ entries: [LayerEntry]) throws(ImageError) -> Bool {
        let total = entries.reduce(0) { $0 + $1.size }
        var large = entries.filter { $0.size >= Self.largeFile }
        let largeTotal = large.reduce(0) { $0 + $1.size }
        guard largeTotal * 2 >= total, largeTotal > 0 else { return true }
        large.sort { $0.size != $1.size ? $0.size > $1.size
                                         : $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var sampledSize: Int64 = 0
        var estimated = 0.0
        for entry in large.prefix(Self.sampledFiles) {
            guard case .file(let source, _) = entry.content else { continue }
            estimated += try ratio(of: source, size: entry.size) * Double(entry.size)
            sampledSize += entry.size
        }
        guard sampledSize > 0 else { return true }
        return estimated / Double(sampledSize) < threshold
    }

    /// Compressed size over original size of the three pieces of one file.
    func ratio(of source: String, size: Int64) throws(ImageError) -> Double {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.system("open", source) }
        defer { close(fd) }
        var piece = [UInt8](repeating: 0, count: Self.pieceSize)
        var packed = [UInt8](repeating: 0, count: Int(compressBound(UInt(Self.pieceSize))))
        var original = 0
        var compressed = 0
        for quarter in 1...3 {
            let offset = max(0, min(size * Int64(quarter) / 4, size - Int64(Self.pieceSize)))
            let count = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Self.pieceSize, off_t(offset)) }
            guard count >= 0 else { throw ImageError.system("read", source) }
            guard count > 0 else { continue }
            var packedCount = UInt(packed.count)
            let status = compress2(&packed, &packedCount, piece, UInt(count), Int32(level))
            guard status == Z_OK else {
                throw ImageError(.io, "zlib failed while sampling '\(source)' (status \(status))", path: source)
            }
            original += count
            compressed += Int(packedCount)
        }
        return original == 0 ? 0 : Double(compressed) / Double(original)
    }
}
