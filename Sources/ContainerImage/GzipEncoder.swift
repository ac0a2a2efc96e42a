import CZlib

/// A gzip stream whose bytes depend only on its input and level: zlib's raw deflate
/// between a header and trailer written here, so that no field carries a file name, a
/// time or the builder's operating system.
///
/// The header is always `1f 8b 08 00 00 00 00 00 00 ff`: deflate, no flags, mtime 0, no
/// extra flags, OS "unknown" (255) — the bytes Go's `compress/gzip` writes, and so what
/// ko and crane layers start with. zlib's own gzip wrapper would write the OS byte of the
/// machine (3 on Unix) and an extra-flags byte that depends on the level.
///
/// Output goes to `output` through a fixed 256 KiB buffer; memory does not grow with the
/// input. The same zlib version gives the same bytes for the same input whatever the
/// size of the pieces it is written in.
final class GzipEncoder: ByteSink {
    /// The fixed header.
    static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF]

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: any ByteSink
    private let buffer: UnsafeMutableRawBufferPointer
    private var crc: UInt = 0
    private var length: UInt64 = 0
    private var finished = false

    /// Starts a stream at `level` (1 fastest … 9 smallest) and writes its header.
    init(level: Int32, output: any ByteSink) throws(ImageError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        buffer = .allocate(byteCount: 256 << 10, alignment: 16)
        self.output = output
        // -15: a raw deflate stream with a 32 KiB window; the gzip framing is ours.
        let status = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            buffer.deallocate()
            throw ImageError(.io, "zlib refused to start a gzip stream at level \(level) (status \(status)); "
                             + "use a level from 1 to 9")
        }
        crc = crc32(0, nil, 0)
        try output.write(Self.header)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = bytes.count
        while remaining > 0 {
            // zlib counts in 32-bit fields.
            let piece = min(remaining, 1 << 30)
            crc = crc32(crc, base, UInt32(piece))
            length &+= UInt64(piece)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
            stream.pointee.avail_in = UInt32(piece)
            try deflateAll(flush: Z_NO_FLUSH)
            base += piece
            remaining -= piece
        }
    }

    /// Ends the deflate stream and writes the trailer (CRC-32 and length mod 2^32, little
    /// endian).
    func finish() throws(ImageError) {
        guard !finished else { return }
        finished = true
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try deflateAll(flush: Z_FINISH)
        var trailer = [UInt8](repeating: 0, count: 8)
        let size = UInt32(truncatingIfNeeded: length)
        let check = UInt32(truncatingIfNeeded: crc)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: check >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: size >> (8 * index))
        }
        try output.write(trailer)
    }

    /// Runs deflate until it has taken all input (and, with Z_FINISH, ended the stream),
    /// handing each full buffer to the output.
    private func deflateAll(flush: Int32) throws(ImageError) {
        while true {
            stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(buffer.count)
            let status = deflate(stream, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ImageError(.io, "zlib failed while compressing a layer (status \(status))")
            }
            let produced = buffer.count - Int(stream.pointee.avail_out)
            if produced > 0 { try output.write(UnsafeRawBufferPointer(rebasing: buffer[0..<produced])) }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                return
            }
        }
    }
}
