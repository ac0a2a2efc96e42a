import CSpawn
import Foundation
import RunStore
#if canImport(Glibc)
import Glibc
#endif

/// A service's process: started in a session of its own, with its output appended to a
/// log file, so that it outlives the mlpipe that started it and no terminal's Ctrl-C
/// reaches it; named afterwards by its pid and start time.
public struct ServiceProcess: Sendable, Hashable {
    /// The session leader's pid (also its process group's id).
    public var pid: Int32
    /// Its start time (`ProcessIdentity`), which no later process with the pid shares.
    public var startTime: Int64

    /// Names an existing process.
    public init(pid: Int32, startTime: Int64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// Starts `argv` (argv[0] an absolute path) with exactly `environment`, in `folder`,
    /// standard input from /dev/null and both outputs appended to `log`.
    public static func start(_ argv: [String], environment: [String: String], folder: String,
                             log: String) throws(DeploymentError) -> ServiceProcess {
        let arguments = argv.map { strdup($0) } + [nil]
        let variables = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { arguments.forEach { free($0) }; variables.forEach { free($0) } }
        var pid: pid_t = 0
        let code = mlpipe_spawn_detached(argv[0], arguments, variables, folder, log, &pid)
        guard code == 0 else {
            throw DeploymentError(.spawn, "cannot start \(argv[0]): \(String(cString: strerror(code)))",
                                  remedy: "check that it exists and is executable, and that \(log) can be written")
        }
        // Read before anything else can happen to the child: it is our unreaped child, so
        // its pid cannot have been reused yet.
        return ServiceProcess(pid: pid, startTime: ProcessIdentity.startTime(of: pid) ?? 0)
    }

    /// Whether it still runs (an exited child waiting to be reaped does not).
    public var isAlive: Bool { ProcessIdentity.isAlive(pid: pid, startTime: startTime) }

    /// Stops it: SIGTERM to its process group (the app drains in-flight requests and its
    /// workers exit), then SIGKILL after `grace` seconds. Returns at once when it is
    /// already gone; a pid now used by another process is never signalled.
    public func stop(grace: Double = 15) async {
        guard isAlive else { reap(); return }
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + .milliseconds(Int64(grace * 1000))
        while ContinuousClock.now < deadline {
            reap()
            if !isAlive { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        if isAlive { kill(-pid, SIGKILL) }
        let killDeadline = ContinuousClock.now + .seconds(5)
        while isAlive, ContinuousClock.now < killDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        reap()
    }

    /// Reaps it if it is this process's child and has exited (a deploy and a rollback in
    /// one run); otherwise does nothing.
    func reap() {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// A port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    public static func freePort() throws(DeploymentError) -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else {
            throw DeploymentError(.spawn, "cannot open a socket to find a free port: \(String(cString: strerror(errno)))",
                                  remedy: "set `port:` on the deploy stage")
        }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        guard bound else {
            throw DeploymentError(.spawn, "cannot bind 127.0.0.1 to find a free port: \(String(cString: strerror(errno)))",
                                  remedy: "set `port:` on the deploy stage")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The last `count` lines of the file at `path` (empty when it cannot be read).
    public static func tail(of path: String, lines count: Int = 20) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > 16_384 ? size - 16_384 : 0
        guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.readToEnd() else { return [] }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        return Array(lines.suffix(count))
    }
}
