import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server (Debian's `postgresql` package) on 127.0.0.1, with its data in
/// a temporary folder; started by a test and stopped by it (`pg_ctl stop -m immediate`,
/// by its data folder), then the folder is removed.
///
/// The cluster has one superuser, `mlpipe`, whose password is ``password``: connections
/// over TCP must give it (SCRAM), as a team's server would ask; the server's own socket,
/// in the folder, trusts the test's tools.
public final class PostgresServer: Sendable {
    public static let user = "mlpipe"
    public static let password = "pg-test-secret-7f3a"

    public let folder: String
    public let port: Int
    public let bin: String

    /// Runs initdb and starts the server, or throws saying what is missing.
    public init() throws {
        bin = try Self.binaries()
        folder = NSTemporaryDirectory() + "mlpipe-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/pwfile"))
        if getuid() == 0 {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            _ = try Self.run("/bin/chown", ["-R", "postgres", folder], in: "/")
        }
        _ = try Self.run(bin + "/initdb", ["-D", folder + "/data", "-U", Self.user, "--pwfile=" + folder + "/pwfile",
                                           "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "-N"],
                         asPostgres: true, in: folder)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try Self.freePort()
            do {
                _ = try Self.run(bin + "/pg_ctl", [
                    "-D", folder + "/data", "-l", folder + "/log", "-w", "-t", "60",
                    "-o", "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
                ], asPostgres: true, in: folder)
                self.port = port
                return
            } catch {
                lastError = error  // the port was taken meanwhile: try another
            }
        }
        throw lastError ?? ServerError(description: "cannot start PostgreSQL")
    }

    deinit { stop() }

    /// Stops the server at once, by its data folder, and removes the folder.
    public func stop() {
        _ = try? Self.run(bin + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "stop"], asPostgres: true, in: folder)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `postgresql://mlpipe:PASSWORD@127.0.0.1:PORT/DATABASE`, or without the password.
    public func url(_ database: String, withPassword: Bool = true) -> String {
        "postgresql://\(Self.user)\(withPassword ? ":" + Self.password : "")@127.0.0.1:\(port)/\(database)"
    }

    /// A new, empty database.
    public func createDatabase(_ name: String = "t" + UUID().uuidString.prefix(8).lowercased()) throws -> String {
        _ = try psql("postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// What `psql -At -c SQL` prints, through the server's socket.
    public func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run(bin + "/psql", ["-h", folder, "-p", String(port), "-U", Self.user, "-d", database, "-At", "-v",
                                     "ON_ERROR_STOP=1", "-c", sql], in: folder)
    }

    /// `pg_dump` of a database, as text.
    public func dump(_ database: String) throws -> String {
        try Self.run(bin + "/pg_dump", ["-h", folder, "-p", String(port), "-U", Self.user, database], in: folder)
    }

    /// The newest `/usr/lib/postgresql/*/bin`.
    public static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        guard let version = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") else {
            throw ServerError(description: "PostgreSQL is not installed (no \(root)/*/bin/initdb); "
                + "run `apt-get install -y postgresql` (the Makefile's APT_PACKAGES lists it)")
        }
        return "\(root)/\(version)/bin"
    }

    /// A port that was free on 127.0.0.1 a moment ago.
    public static func freePort() throws -> Int {
        Int(try TestServers.freePort())
    }

    /// Runs a tool to its end (as the postgres user when asked and this is root), with its
    /// output in files (a server started by pg_ctl keeps its parent's streams open), and
    /// returns its standard output; throws with its output when it fails or outlives
    /// `timeout` seconds.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], asPostgres: Bool = false, in folder: String,
                    timeout: Double = 120) throws -> String {
        let name = UUID().uuidString.prefix(8)
        let out = NSTemporaryDirectory() + "pg-out-\(name)", err = NSTemporaryDirectory() + "pg-err-\(name)"
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let pid = try spawn(tool, arguments, asPostgres: asPostgres, in: folder, stdout: out, stderr: err)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw ServerError(description: "waitpid(\(pid)) for \(tool) failed") }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw ServerError(description: "\(tool) \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
            }
            usleep(5_000)
        }
        let stdout = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data(), as: UTF8.self)
        guard status == 0 else {
            let stderr = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: err))) ?? Data(), as: UTF8.self)
            throw ServerError(description: "\(tool) \(arguments.joined(separator: " ")) failed (status \(status)): \(stderr)\(stdout)")
        }
        return stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts a tool with posix_spawn, its output into the files `stdout` and `stderr`, and
    /// returns its pid, which the caller reaps. Not Foundation's `Process`: on Linux it
    /// learns of an exit through a socket that a server started meanwhile can inherit.
    public static func spawn(_ tool: String, _ arguments: [String], asPostgres: Bool = false, in folder: String,
                      stdout: String = "/dev/null", stderr: String = "/dev/null", stdin: Int32? = nil) throws -> pid_t {
        let argv0 = asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] : [tool]
        let outFD = open(stdout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let errFD = open(stderr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { if outFD >= 0 { close(outFD) }; if errFD >= 0 { close(errFD) } }
        guard outFD >= 0, errFD >= 0 else { throw ServerError(description: "cannot create \(stdout) or \(stderr)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
        _ = addChdir(&actions, folder)
        let argv = (argv0 + arguments).map { strdup($0) } + [nil]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PGPASSWORD")
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, argv0[0], &actions, nil, argv, envp)
        guard code == 0 else { throw ServerError(description: "cannot start \(tool): \(String(cString: strerror(code)))") }
        return pid
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
    }
}

/// glibc's posix_spawn_file_actions_addchdir_np (2.29+), which Swift's Glibc module does
/// not declare; without it, a tool run as postgres would start in a folder it cannot read.
private let addChdir: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
        return { _, _ in 0 }
    }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}()
