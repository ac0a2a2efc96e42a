import Foundation
import Synchronization

/// Where a stage's output goes: its log file, masked, with the last lines kept for the
/// console.
///
/// A process writes in arbitrary chunks; the sink masks whole lines (and, for a line
/// that never ends, chunks of at most 64 KiB), so that a secret split across two reads
/// is still masked. It is shared between the reader thread of a process and the stage
/// kind, hence the mutex.
public final class LogSink: Sendable {
    struct State {
        var handle: FileHandle?
        var pending: [UInt8] = []
        var tail: [String] = []
        var bytesWritten: Int64 = 0
    }

    /// The log file's path.
    public let path: String
    let masker: SecretMasker
    let tailLimit: Int
    private let state: Mutex<State>

    /// Opens (creates or truncates) the log file at `path`.
    public init(path: String, masker: SecretMasker, tailLines: Int = 20) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.path = path
        self.masker = masker
        self.tailLimit = tailLines
        self.state = Mutex(State(handle: FileHandle(forWritingAtPath: path)))
    }

    /// Appends raw process output.
    public func write(bytes: UnsafeRawBufferPointer) {
        state.withLock { s in
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
    }

    /// Appends one line written by mlpipe itself (for example a retry notice).
    public func line(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { write(bytes: $0) }
    }

    /// Writes what is still pending and closes the file.
    public func close() {
        state.withLock { s in
            if !s.pending.isEmpty {
                let chunk = s.pending
                s.pending.removeAll()
                emit(chunk, into: &s)
            }
            try? s.handle?.close()
            s.handle = nil
        }
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

    private func emit(_ raw: [UInt8], into s: inout State) {
        let masked = masker.mask(bytes: raw)
        s.handle?.write(Data(masked))
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
}
