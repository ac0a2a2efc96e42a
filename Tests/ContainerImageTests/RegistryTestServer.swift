import Foundation
import TestSupport
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
            let pid = try TestServers.spawn("/usr/bin/docker-registry", ["serve", configFile], log: logFile)
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

    /// True once something accepts connections on 127.0.0.1:`port`, false if `pid` exits
    /// first; gives up after 60 seconds. It looks once more after the deadline: on a loaded
    /// test process a sleeping task can resume long after it asked to.
    private static func waitForListener(port: Int, pid: pid_t) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            if TestServers.accepts(port: UInt16(port)) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return TestServers.accepts(port: UInt16(port))
    }

    /// A port nobody listens on now.
    static func freePort() throws -> Int {
        Int(try TestServers.freePort())
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
