import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, on a free port, storing
/// into a temporary folder; optionally behind htpasswd Basic auth. Started by a suite (see
/// ``RegistryServerTrait``) and stopped by its pid.
final class RegistryTestServer: Sendable {
    let port: Int
    let folder: TempFolder
    let pid: pid_t
    /// `127.0.0.1:<port>`.
    var address: String { "127.0.0.1:\(port)" }

    private init(port: Int, folder: TempFolder, pid: pid_t) {
        self.port = port
        self.folder = folder
        self.pid = pid
    }

    /// The server of the running suite.
    @TaskLocal static var current: RegistryTestServer?

    /// Starts a registry; `users` (name -> password) turns on htpasswd auth, which needs
    /// `htpasswd` from Debian's apache2-utils.
    static func start(users: [String: String] = [:]) async throws -> RegistryTestServer {
        let folder = try TempFolder("registry")
        var auth = ""
        if !users.isEmpty {
            var lines = ""
            for (user, password) in users.sorted(by: { $0.key < $1.key }) {
                let line = try tool("htpasswd", "-Bbn", user, password)  // Debian's apache2-utils
                lines += line.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
            }
            try folder.write("htpasswd", lines)
            auth = "auth:\n  htpasswd:\n    realm: mlpipe-test\n    path: \(folder.path)/htpasswd\n"
        }
        var lastLog = ""
        for _ in 0..<3 {  // a free port can be taken between finding it and binding it
            let port = try freePort()
            let config = """
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: \(folder.path)/data
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:\(port)

                """ + auth
            let configFile = try folder.write("config-\(port).yml", config)
            let logFile = folder.path + "/registry-\(port).log"
            let pid = try spawn("/usr/bin/docker-registry", ["serve", configFile], output: logFile)
            if try await waitForListener(port: port, pid: pid) {
                return RegistryTestServer(port: port, folder: folder, pid: pid)
            }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            lastLog = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: logFile))) ?? Data(), as: UTF8.self)
        }
        throw ToolError(description: "docker-registry did not start on 127.0.0.1: \(lastLog)")
    }

    /// SIGTERM to the registry's pid, and a wait for it to go (its folder goes with the value).
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Starts `program` in the background, stdin from /dev/null, stdout and stderr to `output`.
    private static func spawn(_ program: String, _ arguments: [String], output: String) throws -> pid_t {
        let outputFD = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(outputFD) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard code == 0 else {
            throw ToolError(description: "cannot start \(program): \(String(cString: strerror(code)))")
        }
        return pid
    }

    /// True once something accepts connections on 127.0.0.1:`port`, false if `pid` exits
    /// first; gives up after 15 seconds.
    private static func waitForListener(port: Int, pid: pid_t) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if canConnect(port: port) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// True when a TCP connection to 127.0.0.1:`port` is accepted.
    private static func canConnect(port: Int) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A port nobody listens on now: bind to port 0 on 127.0.0.1 and read what the kernel chose.
    static func freePort() throws -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw ToolError(description: "cannot make a socket") }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketDescriptor, pointer, length) == 0 && getsockname(socketDescriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw ToolError(description: "cannot bind a socket on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs each test of the suite it is attached to with one registry, started before the
/// first test and stopped after the last: `@Suite(.registryServer())`.
struct RegistryServerTrait: SuiteTrait, TestScoping {
    var users: [String: String]
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let server = try await RegistryTestServer.start(users: users)
        defer { server.stop() }
        try await RegistryTestServer.$current.withValue(server) {
            try await function()
        }
    }
}

extension Trait where Self == RegistryServerTrait {
    /// One docker-registry for the whole suite; `users` turns on htpasswd auth.
    static func registryServer(users: [String: String] = [:]) -> Self {
        RegistryServerTrait(users: users)
    }
}
