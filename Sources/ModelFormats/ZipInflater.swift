import CZlib

/// Streams compressed bytes through zlib into a fixed window, so that a deflated
/// zip member, a zlib-compressed joblib file or a gzip file is read with bounded
/// memory however far it expands.
///
/// The compressed input is a slice of a mapped file. Output is produced on demand
/// into a 256 KiB window and dropped once consumed; its CRC-32 is kept so that a
/// zip member can be checked against its declared CRC. Expanding past `maxOutput`
/// stops the stream with an error (a zip bomb or a size that lies).
final class ZipInflater {
    enum Wrapper {
        /// Raw deflate, as in zip members.
        case raw
        /// zlib or gzip, told apart by their headers; concatenated streams continue.
        case zlibOrGzip
    }

    static let windowSize = 1 << 18

    private let stream: UnsafeMutablePointer<z_stream>
    private let source: UnsafeRawBufferPointer
    private let wrapper: Wrapper
    private var consumed = 0
    private let window: UnsafeMutableRawPointer
    private(set) var start = 0
    private(set) var end = 0
    private(set) var totalOut: Int64 = 0
    private(set) var crc: UInt = 0
    private(set) var finished = false
    private(set) var error: String?
    let maxOutput: Int64
    private var initialized = false

    init(source: UnsafeRawBufferPointer, wrapper: Wrapper, maxOutput: Int64) {
        self.source = source
        self.wrapper = wrapper
        self.maxOutput = maxOutput
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        window = .allocate(byteCount: Self.windowSize, alignment: 16)
        let bits: Int32 = wrapper == .raw ? -15 : 15 + 32
        if inflateInit2_(stream, bits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK {
            initialized = true
        } else {
            error = "zlib could not start"
            finished = true
        }
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        window.deallocate()
    }

    /// Bytes produced and not consumed yet.
    var available: Int { end - start }

    /// The unconsumed bytes.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: window + start, count: end - start)
    }

    /// Compressed bytes read so far.
    var compressedConsumed: Int { consumed }

    func consume(_ count: Int) {
        start += count
    }

    /// Produces output until at least `minimum` bytes (at most the window size)
    /// are available, or the stream ends. Returns whether they are.
    @discardableResult
    func fill(_ minimum: Int) -> Bool {
        let wanted = min(minimum, Self.windowSize)
        while available < wanted && !finished {
            if start > 0 {
                // Keep the unconsumed bytes and make room behind them.
                if available > 0 { window.copyMemory(from: window + start, byteCount: available) }
                end = available
                start = 0
            }
            inflateStep()
        }
        return available >= wanted
    }

    /// Drops everything produced so far and makes one more round of output.
    func discardAndInflate() {
        start = 0
        end = 0
        inflateStep()
    }

    private func inflateStep() {
        let room = Self.windowSize - end
        guard room > 0 else { return }
        let chunk = min(source.count - consumed, 1 << 30)
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: (source.baseAddress ?? UnsafeRawPointer(window)).advanced(by: consumed)
                .assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(chunk)
        stream.pointee.next_out = (window + end).assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(room)
        let status = inflate(stream, Z_NO_FLUSH)
        let used = chunk - Int(stream.pointee.avail_in)
        let produced = room - Int(stream.pointee.avail_out)
        consumed += used
        if produced > 0 {
            crc = CZlib.crc32(crc, (window + end).assumingMemoryBound(to: Bytef.self), uInt(produced))
            end += produced
            totalOut += Int64(produced)
        }
        if totalOut > maxOutput {
            error = "expands past \(maxOutput) bytes"
            finished = true
            return
        }
        switch status {
        case Z_OK:
            if used == 0 && produced == 0 {
                error = "the compressed data ends early"
                finished = true
            }
        case Z_STREAM_END:
            if wrapper == .zlibOrGzip, nextStreamFollows() {
                inflateReset(stream)
            } else {
                finished = true
            }
        case Z_BUF_ERROR:
            if consumed >= source.count {
                error = "the compressed data ends early"
                finished = true
            }
        default:
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
            error = "the compressed data is corrupt (\(reason))"
            finished = true
        }
    }

    /// Whether another gzip member or zlib stream starts right after this one, as
    /// Python's gzip and joblib's zlib reader continue into it.
    private func nextStreamFollows() -> Bool {
        let rest = source.count - consumed
        guard rest >= 2, let base = source.baseAddress?.advanced(by: consumed) else { return false }
        let first = base.load(as: UInt8.self)
        let second = base.advanced(by: 1).load(as: UInt8.self)
        if first == 0x1F && second == 0x8B { return true }
        return first & 0x0F == 8 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
    }

    /// zlib's CRC-32 of a buffer of any size.
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
        var left = bytes.count
        var value: UInt = 0
        while left > 0 {
            let step = min(left, 1 << 30)
            value = CZlib.crc32(value, base, uInt(step))
            base += step
            left -= step
        }
        return UInt32(truncatingIfNeeded: value)
    }

    /// Compressed bytes after the end of the last stream.
    var trailingCompressedBytes: Int { finished && error == nil ? source.count - consumed : 0 }
}

/// A pickle input over a `ZipInflater`.
struct InflateInput: PickleInput {
    let inflater: ZipInflater
    private(set) var offset: Int64 = 0

    init(_ inflater: ZipInflater) {
        self.inflater = inflater
    }

    var failure: String? { inflater.error }

    mutating func peek(_ count: Int) -> UnsafeRawBufferPointer? {
        guard inflater.fill(count) else { return nil }
        return UnsafeRawBufferPointer(rebasing: inflater.bytes[0..<count])
    }

    mutating func peekAvailable(_ count: Int) -> UnsafeRawBufferPointer {
        inflater.fill(count)
        return UnsafeRawBufferPointer(rebasing: inflater.bytes[0..<min(count, inflater.available)])
    }

    mutating func advance(_ count: Int) {
        inflater.consume(count)
        offset += Int64(count)
    }

    mutating func skip(_ count: Int64) -> Bool {
        guard count >= 0 else { return false }
        var left = count
        while left > 0 {
            if inflater.available == 0 {
                if inflater.finished { return false }
                inflater.discardAndInflate()
                continue
            }
            let step = Int(min(Int64(inflater.available), left))
            advance(step)
            left -= Int64(step)
        }
        return true
    }

    /// Reads to the end of the stream, so that its size and CRC are known.
    mutating func drain() {
        while !inflater.finished || inflater.available > 0 {
            advance(inflater.available)
            if inflater.finished { break }
            inflater.discardAndInflate()
        }
    }
}
