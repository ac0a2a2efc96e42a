import Foundation
import Synchronization

/// Writes whole lines to stdout and stderr, one `write` each, under one lock, so that
/// lines from concurrent stages never interleave mid-line.
final class Console: Sendable {
    static let shared = Console()

    /// Colour only on a terminal, and never when NO_COLOR is set.
    let colors: Bool
    private let lock = Mutex(())

    init() {
        let env = ProcessInfo.processInfo.environment
        colors = isatty(1) == 1 && env["NO_COLOR"].map(\.isEmpty) ?? true && env["TERM"] != "dumb"
    }

    func out(_ line: String) { write(line, fd: 1) }
    func error(_ line: String) { write(line, fd: 2) }

    private func write(_ text: String, fd: Int32) {
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { if errno == EINTR { continue }; return }
                    offset += n
                }
            }
        }
    }

    enum Color: String {
        case green = "32", red = "31", yellow = "33", cyan = "36", dim = "2", bold = "1"
    }

    func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
