#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a tar stream of layer entries to a sink, reading each file's bytes through one
/// fixed 1 MiB buffer, so that a 1 GiB model costs 1 MiB of memory.
///
/// The entries are written in the order given (the caller sorts them); each header comes
/// from `TarHeader` with the writer's one mtime. A file's `FileStamp` is checked when it
/// is opened and again when it has been read: a file that changed after its digest went
/// into the layer's cache key would otherwise put bytes into a layer that its key does
/// not describe, so it fails the build, naming the file.
final class TarWriter {
    private let sink: any ByteSink
    /// The mtime of every entry.
    let mtime: Int64
    private let buffer: UnsafeMutableRawBufferPointer

    init(sink: any ByteSink, mtime: Int64, bufferSize: Int = 1 << 20) {
        self.sink = sink
        self.mtime = max(0, mtime)
        buffer = .allocate(byteCount: bufferSize, alignment: 4096)
    }

    deinit {
        buffer.deallocate()
    }

    /// Writes one entry.
    func append(_ entry: LayerEntry) throws(ImageError) {
        if Task.isCancelled { throw Self.cancelled }
        switch entry.content {
        case .directory:
            try sink.write(TarHeader(path: entry.path, kind: .directory, mode: entry.mode, mtime: mtime).encoded())
        case .symlink(let target):
            try sink.write(TarHeader(path: entry.path, kind: .symlink, mode: entry.mode, mtime: mtime,
                                     linkTarget: target).encoded())
        case .file(let source, let stamp):
            try appendFile(entry.path, mode: entry.mode, source: source, expected: stamp)
        }
    }

    /// Writes a file entry whose bytes are in memory (a small generated file).
    func append(_ path: String, bytes: [UInt8], mode: UInt32 = LayerEntry.fileMode) throws(ImageError) {
        try sink.write(TarHeader(path: path, kind: .file, mode: mode, size: Int64(bytes.count), mtime: mtime).encoded())
        try sink.write(bytes)
        try sink.write([UInt8](repeating: 0, count: TarHeader.padding(Int64(bytes.count))))
    }

    /// Writes a file entry whose bytes are read from `source`; `expected`, when given,
    /// must still describe the file.
    func appendFile(_ path: String, mode: UInt32, source: String, expected: FileStamp?) throws(ImageError) {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.system("open", source) }
        defer { close(fd) }
        let before = try FileStamp(descriptor: fd, path: source)
        if let expected, !before.sameContent(as: expected) { throw Self.changed(source) }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        try sink.write(TarHeader(path: path, kind: .file, mode: mode, size: before.size, mtime: mtime).encoded())
        var remaining = before.size
        var pieces = 0
        while remaining > 0 {
            // A cancelled build stops within 64 MiB, not at the end of a 10 GB file.
            pieces += 1
            if pieces % 64 == 0, Task.isCancelled { throw Self.cancelled }
            let wanted = Int(min(Int64(buffer.count), remaining))
            let count = read(fd, buffer.baseAddress, wanted)
            if count < 0 {
                if errno == EINTR { continue }
                throw ImageError.system("read", source)
            }
            if count == 0 { throw Self.changed(source) }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            remaining -= Int64(count)
        }
        let after = try FileStamp(descriptor: fd, path: source)
        guard after.sameContent(as: before) else { throw Self.changed(source) }
        try sink.write([UInt8](repeating: 0, count: TarHeader.padding(before.size)))
    }

    /// The end of the archive: two zero blocks.
    func finish() throws(ImageError) {
        try sink.write([UInt8](repeating: 0, count: 1024))
    }

    static let cancelled = ImageError(.cancelled, "the layer was not written: the build was cancelled")

    static func changed(_ source: String) -> ImageError {
        ImageError(.corrupt, "'\(source)' changed while the image was being built; "
                   + "let whatever writes it finish, then build again", path: source)
    }
}
