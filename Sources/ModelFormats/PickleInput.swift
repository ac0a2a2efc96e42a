#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The most bytes the interpreter asks to see at once. Longer payloads are
/// skipped, never buffered, so a stream's memory does not grow with its data.
let pickleInputWindow = 1 << 16

/// A forward-only byte stream the pickle interpreter reads.
///
/// Two implementations: `BufferInput` over memory-mapped bytes (skipping is pointer
/// arithmetic, so skipped pages are never touched), and `InflateInput`, which
/// streams a deflated zip member or a zlib/gzip file through a bounded buffer.
protocol PickleInput {
    /// Offset of the next byte from the start of the stream.
    var offset: Int64 { get }
    /// The next `count` bytes (at most `pickleInputWindow`) without consuming them,
    /// or nil when fewer remain.
    mutating func peek(_ count: Int) -> UnsafeRawBufferPointer?
    /// Up to `count` next bytes; fewer only at the end of the stream.
    mutating func peekAvailable(_ count: Int) -> UnsafeRawBufferPointer
    /// Consumes `count` bytes of what the last peek returned.
    mutating func advance(_ count: Int)
    /// Skips `count` bytes; false when the stream ends first.
    mutating func skip(_ count: Int64) -> Bool
    /// Why the stream stopped early when it did not simply end (a corrupt deflate
    /// stream, a size limit), for the finding.
    var failure: String? { get }
}

extension PickleInput {
    /// Whether no byte remains.
    mutating func isAtEnd() -> Bool { peek(1) == nil }

    /// Reads one byte.
    mutating func readByte() -> UInt8? {
        guard let bytes = peek(1) else { return nil }
        let value = bytes[0]
        advance(1)
        return value
    }
}

/// A pickle stream over bytes already in memory (a mapped file or a slice of one).
struct BufferInput: PickleInput {
    let base: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ base: UnsafeRawBufferPointer, position: Int = 0) {
        self.base = base
        self.position = position
    }

    var offset: Int64 { Int64(position) }
    var failure: String? { nil }
    var remaining: Int { base.count - position }

    mutating func peek(_ count: Int) -> UnsafeRawBufferPointer? {
        guard base.count - position >= count else { return nil }
        return UnsafeRawBufferPointer(rebasing: base[position..<(position + count)])
    }

    mutating func peekAvailable(_ count: Int) -> UnsafeRawBufferPointer {
        let end = position + min(count, base.count - position)
        return UnsafeRawBufferPointer(rebasing: base[position..<end])
    }

    mutating func advance(_ count: Int) {
        position += count
    }

    mutating func skip(_ count: Int64) -> Bool {
        guard count >= 0, Int64(base.count - position) >= count else {
            position = base.count
            return false
        }
        position += Int(count)
        return true
    }

    /// The bytes not read yet.
    var rest: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: base[position...])
    }
}

/// The index of the first `byte` in `bytes`, through libc's `memchr`.
func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer) -> Int? {
    guard let start = bytes.baseAddress, !bytes.isEmpty,
          let hit = memchr(start, Int32(byte), bytes.count) else { return nil }
    return UnsafeRawPointer(hit) - start
}
