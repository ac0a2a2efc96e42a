import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where a stage's output goes: its log file, masked, with the last lines kept for the
/// console.
///
/// A process writes in arbitrary chunks; the sink masks whole lines (and, for a line
/// that never ends, chunks of at most 64 KiB), so that a secret split across two reads
/// is still masked. It is shared between the reader thread of a process and the stage
/// kind, hence the mutex.
///
/// Every write goes through write(2) and checks its result. The first one that fails (a
/// full disk: ENOSPC) is kept as an `EngineError` of category `.environment` that names
/// the file: `write(bytes:)` and `close()` throw it, and later output is dropped rather
/// than written after a gap. `line(_:)` does not throw, so that a kind need not handle
/// the log line by line; its failure surfaces at the next `write(bytes:)` or at `close()`,
/// which every stage ends with.
public final class LogSink: Sendable {
    struct State {
        var descriptor: Int32
        var pending: [UInt8] = []
        var tail: [String] = []
        var bytesWritten: Int64 = 0
        var failure: EngineError?
    }

    /// The log file's path.
    public let path: String
    let masker: SecretMasker
    let tailLimit: Int
    private let state: Mutex<State>

    /// Opens (creates or truncates) the log file at `path`, creating its folder.
    public init(path: String, masker: SecretMasker, tailLines: Int = 20) throws(EngineError) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.environment, "cannot create the log folder \(folder): \(error.localizedDescription); "
                + "make it writable, free space on its disk, or pass --workspace PATH", cause: error)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure(path: path, errno: errno, opening: true) }
        self.path = path
        self.masker = masker
        self.tailLimit = tailLines
        self.state = Mutex(State(descriptor: fd))
    }

    /// Appends raw process output; throws the sink's first write failure.
    public func write(bytes: UnsafeRawBufferPointer) throws(EngineError) {
        let failure: EngineError? = state.withLock { s in
            if s.failure == nil { append(bytes, into: &s) }
            return s.failure
        }
        if let failure { throw failure }
    }

    /// Appends one line written by mlpipe itself (for example a retry notice). A failure
    /// is kept and thrown by the next `write(bytes:)` or by `close()`.
    public func line(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        state.withLock { s in
            if s.failure == nil { bytes.withUnsafeBytes { append($0, into: &s) } }
        }
    }

    /// Writes what is still pending and closes the file; throws the sink's first write
    /// failure, on every call. Closing twice is harmless.
    public func close() throws(EngineError) {
        let failure: EngineError? = state.withLock { s in
            if s.descriptor >= 0 {
                if s.failure == nil && !s.pending.isEmpty {
                    let chunk = s.pending
                    s.pending.removeAll()
                    emit(chunk, into: &s)
                }
                // close(2) reports a deferred write error of some file systems (NFS).
                if Glibc.close(s.descriptor) != 0 && s.failure == nil {
                    s.failure = Self.failure(path: path, errno: errno, opening: false)
                }
                s.descriptor = -1
            }
            return s.failure
        }
        if let failure { throw failure }
    }

    /// The last lines written, already masked.
    public var tail: [String] {
        state.withLock { s in
            var lines = s.tail
            if !s.pending.isEmpty {
                lines.append(masker.mask(String(decoding: s.pending, as: UTF8.self)))
            }
            return Array(lines.suffix(tailLimit))
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer, into s: inout State) {
        s.pending.append(contentsOf: bytes)
        // Flush up to the last newline; keep a partial line unless it grew large.
        if let lastNewline = s.pending.lastIndex(of: UInt8(ascii: "\n")) {
            let chunk = Array(s.pending[...lastNewline])
            s.pending.removeSubrange(...lastNewline)
            emit(chunk, into: &s)
        } else if s.pending.count > 64 * 1024 {
            let keep = max(0, masker.longestValueLength - 1)
            let cut = s.pending.count - keep
            let chunk = Array(s.pending[..<cut])
            s.pending.removeSubrange(..<cut)
            emit(chunk, into: &s)
        }
    }

    private func emit(_ raw: [UInt8], into s: inout State) {
        let masked = masker.mask(bytes: raw)
        if s.descriptor >= 0 {
            let error = masked.withUnsafeBytes { writeAll($0, to: s.descriptor) }
            if error != 0 {
                s.failure = Self.failure(path: path, errno: error, opening: false)
                return
            }
        }
        s.bytesWritten += Int64(masked.count)
        var text = String(decoding: masked, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            s.tail.append(String(line))
        }
        if s.tail.count > tailLimit * 2 {
            s.tail.removeFirst(s.tail.count - tailLimit)
        }
    }

    /// What the user is told: the file, the system's reason, and what to do.
    static func failure(path: String, errno code: Int32, opening: Bool) -> EngineError {
        let reason = String(cString: strerror(code))
        let remedy = code == ENOSPC || code == EDQUOT
            ? "free space on that disk, or move the workspace with --workspace PATH, and run again"
            : "check the file's folder and permissions, or move the workspace with --workspace PATH"
        return EngineError(.environment, "cannot \(opening ? "create" : "write") the log \(path): \(reason); \(remedy)",
                           cause: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO))
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR; returns 0, or the
/// errno of the write that failed.
///
/// The one write loop of the engine and of mlpipe's console: Foundation's
/// `FileHandle.write(_:)` traps on ENOSPC, and a bare write(2) may write less than asked.
public func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var offset = 0
    while offset < bytes.count {
        let n = Glibc.write(fd, base + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        // write(2) never returns 0 for a non-empty buffer on a file; if it did, retrying
        // would spin.
        if n == 0 { return EIO }
        offset += n
    }
    return 0
}
