#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory.
///
/// Mapping instead of reading is what keeps a scan's memory flat: the scanner
/// touches the pages it parses (headers, pickles, the central directory) and skips
/// tensor bytes by offset, so the pages it never touches are never read in and never
/// count towards the process's resident size. An empty file maps to an empty buffer.
///
/// The mapping lives as long as this object; buffers taken from `bytes` must not
/// outlive it. A file truncated by another process while mapped makes reads past
/// its new end fault (SIGBUS); models are scanned after they are written.
final class MappedFile {
    let path: String
    let size: Int64
    private let descriptor: Int32
    private let base: UnsafeMutableRawPointer?

    /// Why a file could not be mapped, in words for a finding.
    struct OpenError: Error {
        let message: String
    }

    init(path: String) throws(OpenError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(message: "cannot open: \(Self.errnoText())") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = Self.errnoText()
            close(fd)
            throw OpenError(message: "cannot stat: \(message)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw OpenError(message: "is not a regular file")
        }
        descriptor = fd
        size = Int64(info.st_size)
        guard size > 0 else {
            base = nil
            return
        }
        guard let mapped = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            let message = Self.errnoText()
            close(fd)
            throw OpenError(message: "cannot map into memory: \(message)")
        }
        base = mapped
        // Parsing jumps from header to header; read-ahead of whole tensors would
        // only fill the page cache with bytes the scan skips.
        _ = madvise(mapped, Int(size), MADV_RANDOM)
    }

    deinit {
        if let base { munmap(base, Int(size)) }
        close(descriptor)
    }

    /// The whole file.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: Int(size))
    }

    /// Drops this process's mapping of the pages that hold `region`, when `region` lies
    /// inside `mapping` (the bytes of a `MappedFile`); anything else is left alone.
    ///
    /// The kernel maps neighbouring cached pages on every fault ("fault-around", 64 KiB
    /// by default), so reading the first bytes of each of 2,000 tensor members would
    /// otherwise leave 128 MiB resident. The mapping is private and never written, so
    /// a later read of the same bytes faults them back in from the page cache unchanged.
    /// The whole fault-around window on either side goes too, since that is what a read
    /// of the region mapped: bytes of a neighbour dropped this way come back when the
    /// neighbour is read.
    static func release(_ region: UnsafeRawBufferPointer, in mapping: UnsafeRawBufferPointer) {
        guard let base = mapping.baseAddress, let start = region.baseAddress, region.count > 0,
              start >= base, start + region.count <= base + mapping.count else { return }
        // The kernel aligns its window on addresses, not on offsets into the file.
        let window = UInt(faultAroundBytes)
        let lowest = UInt(bitPattern: base), highest = lowest + UInt(mapping.count)
        let first = max(lowest, UInt(bitPattern: start) / window * window)
        let last = min(highest, (UInt(bitPattern: start) + UInt(region.count) + window - 1) / window * window)
        guard let from = UnsafeMutableRawPointer(bitPattern: first), last > first else { return }
        _ = madvise(from, Int(last - first), MADV_DONTNEED)
    }

    /// Linux's default `fault_around_bytes`: one fault maps up to this much of the
    /// cached file around it, aligned to this size (a multiple of every page size).
    static let faultAroundBytes = 64 << 10

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
