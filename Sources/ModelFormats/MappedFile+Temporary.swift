import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MappedFile {
    /// Writes the rest of a stream to an unlinked temporary file and maps it.
    ///
    /// For inflated members that need random access (a zip in a zip, safetensors,
    /// ONNX): memory stays bounded by the inflater's window while the disk holds
    /// the bytes, and the file disappears when the mapping is released. Returns nil
    /// when the file cannot be made or written; a stream that fails midway leaves
    /// its reason in `input.failure`.
    static func temporary(from input: inout InflateInput) -> MappedFile? {
        var template = Array((NSTemporaryDirectory() as NSString)
            .appendingPathComponent("mlpipe-scan-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            unlink(path)
            close(fd)
        }
        while true {
            let chunk = input.peekAvailable(ZipInflater.windowSize)
            if chunk.isEmpty { break }
            var written = 0
            while written < chunk.count {
                let count = write(fd, chunk.baseAddress! + written, chunk.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return nil
                }
                written += count
            }
            input.advance(chunk.count)
        }
        return try? MappedFile(path: path)
    }
}
