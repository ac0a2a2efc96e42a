import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells whether the process that recorded a run is still alive.
///
/// A pid alone is not enough: after the process dies the kernel may give its
/// number to another one. On Linux a process is therefore named by its pid and
/// its start time, field 22 of `/proc/<pid>/stat` (clock ticks since boot), which
/// no later process with the same pid can share. Elsewhere (macOS) the start time
/// is 0 and only the pid is checked.
public enum ProcessIdentity {
    /// This process's pid and start time.
    public static func current() -> (pid: Int32, startTime: Int64) {
        let pid = getpid()
        return (pid, stat(pid: pid)?.startTime ?? 0)
    }

    /// Whether the process `pid` that started at `startTime` still runs.
    ///
    /// False when there is no such pid, when the pid now belongs to a process that
    /// started at another time, or when the process has exited and waits to be
    /// reaped (a zombie). A `startTime` of 0 means unknown, and then any live
    /// process with that pid counts.
    public static func isAlive(pid: Int32, startTime: Int64) -> Bool {
        guard pid > 0 else { return false }
        #if os(Linux)
        guard let stat = stat(pid: pid) else { return false }
        if stat.state == UInt8(ascii: "Z") || stat.state == UInt8(ascii: "X") {
            return false
        }
        return startTime == 0 || stat.startTime == startTime
        #else
        return kill(pid, 0) == 0 || errno == EPERM
        #endif
    }

    /// This machine's host name, as recorded in ``RunRecord/host`` and
    /// ``StageRecord/host``: the one definition, read once per process.
    ///
    /// `MLPIPE_HOST`, when set and not empty, is taken instead: a name for the machine
    /// that means more than a container's random host name (a node's name, passed down
    /// by the Kubernetes downward API), or tells apart runners that share one machine.
    /// Runs are marked interrupted only by a process that sees the same name, so a
    /// runner's name must be its own.
    public static func hostName() -> String { currentHostName }

    private static let currentHostName: String = {
        if let named = ProcessInfo.processInfo.environment["MLPIPE_HOST"], !named.isEmpty { return named }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()

    /// The state letter (field 3) and start time (field 22) of `/proc/<pid>/stat`.
    static func stat(pid: Int32) -> (state: UInt8, startTime: Int64)? {
        #if os(Linux)
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parseStat(Array(data))
        #else
        return nil
        #endif
    }

    /// Parses a `/proc/<pid>/stat` line. Field 2, the command name, is in
    /// parentheses and may itself hold spaces and parentheses, so the fields are
    /// counted from the last `)`.
    static func parseStat(_ bytes: [UInt8]) -> (state: UInt8, startTime: Int64)? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
        guard fields.count > 19, let state = fields[0].first,
              let startTime = Int64(String(decoding: fields[19], as: UTF8.self))
        else { return nil }
        return (state, startTime)
    }
}
