import Foundation
import PipelineEngine
import Synchronization

/// Writes whole lines to stdout and stderr, one `write` each, under one lock, so that
/// lines from concurrent stages never interleave mid-line.
///
/// A write to stdout that fails (a full disk behind `> file`, /dev/full) is kept, not
/// dropped in silence: the callers render events and cannot stop for it, so `MLPipe.main`
/// asks `stdoutFailure` before it exits and turns it into an environment error (exit 3).
/// A closed pipe (EPIPE, `mlpipe runs | head -1`) is not a failure: the reader left.
/// A failed write to stderr has nowhere left to be reported.
final class Console: Sendable {
    static let shared = Console()

    /// Colour only on a terminal, and never when NO_COLOR is set.
    let colors: Bool
    private let lock = Mutex<Int32>(0)

    init() {
        let env = ProcessInfo.processInfo.environment
        colors = isatty(1) == 1 && env["NO_COLOR"].map(\.isEmpty) ?? true && env["TERM"] != "dumb"
    }

    func out(_ line: String) { write(line, fd: 1) }
    func error(_ line: String) { write(line, fd: 2) }

    /// The errno of the first failed write to stdout, if any.
    var stdoutFailure: Int32? {
        let code = lock.withLock { $0 }
        return code == 0 ? nil : code
    }

    private func write(_ text: String, fd: Int32) {
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        lock.withLock { failure in
            let code = bytes.withUnsafeBytes { buffer in writeAll(buffer, to: fd) }
            if code != 0 && code != EPIPE && fd == 1 && failure == 0 { failure = code }
        }
    }

    enum Color: String {
        case green = "32", red = "31", yellow = "33", cyan = "36", dim = "2", bold = "1"
    }

    func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
