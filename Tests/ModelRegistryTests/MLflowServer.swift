import Foundation
import Testing

/// A real `mlflow server` (PyPI `mlflow`, from the venv) on 127.0.0.1 on a free port, with
/// a SQLite backend store in a temporary folder; started before a suite and stopped after
/// it, by its process group (the server's workers are in it).
struct MLflowServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    let uri: String
    let pid: pid_t
    let folder: TemporaryFolder

    /// The server of the running suite.
    @TaskLocal static var current: MLflowServer?

    /// The admin password of a `basicAuth` server.
    static let adminPassword = "admin-password-for-tests"

    /// The venv with mlflow: $MLPIPE_VENV, else the repository's workspace/venv.
    static var venv: String {
        if let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] { return venv }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workspace/venv").path
    }

    /// Starts a server and waits (up to `deadline` seconds) until `/health` answers 200.
    /// With `basicAuth`, MLflow's basic-auth app, which refuses bearer tokens with 401.
    static func start(basicAuth: Bool = false, deadline: Double = 300) throws -> MLflowServer {
        let mlflow = venv + "/bin/mlflow"
        guard FileManager.default.isExecutableFile(atPath: mlflow) else {
            throw ServerError(description: "mlflow is not installed: \(mlflow) is missing; run `make venv` "
                + "(requirements.txt pins mlflow[auth]==3.17.2) or `\(venv)/bin/pip install 'mlflow[auth]==3.17.2'`")
        }
        let folder = try TemporaryFolder()
        let port = try freePort()
        var arguments = ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
                         "--backend-store-uri", "sqlite:///\(folder.file("mlflow.db"))",
                         "--default-artifact-root", folder.file("artifacts")]
        var environment = ProcessInfo.processInfo.environment
        if basicAuth {
            arguments += ["--app-name", "basic-auth"]
            environment["MLFLOW_AUTH_ADMIN_PASSWORD"] = adminPassword
            environment["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "mlpipe-tests"
            // MLflow's default config keeps its user store in the working folder; this one
            // keeps it in the server's temporary folder.
            let config = folder.file("basic_auth.ini")
            try Data("""
                [mlflow]
                default_permission = READ
                database_uri = sqlite:///\(folder.file("basic_auth.db"))
                admin_username = admin
                authorization_function = mlflow.server.auth:authenticate_request_basic_auth

                """.utf8).write(to: URL(fileURLWithPath: config))
            environment["MLFLOW_AUTH_CONFIG_PATH"] = config
        }
        let log = folder.file("server.log")
        let pid = try spawn(mlflow, arguments, environment: environment, log: log)
        let server = MLflowServer(uri: "http://127.0.0.1:\(port)", pid: pid, folder: folder)
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if healthStatus(port: port) == 200 { return server }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ServerError(description: "mlflow server exited (status \(status)) before it answered; its log:\n"
                                  + server.logTail)
            }
            usleep(200_000)
        }
        server.stop()
        throw ServerError(description: "mlflow server did not answer /health within \(Int(deadline)) s; its log:\n"
                          + server.logTail)
    }

    /// The last lines of the server's log.
    var logTail: String {
        let text = (try? String(contentsOfFile: folder.file("server.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// Ends the server's process group (SIGTERM, then SIGKILL after 10 s) and reaps it.
    func stop() {
        kill(-pid, SIGTERM)
        let end = Date().addingTimeInterval(10)
        var status: Int32 = 0
        while Date() < end {
            if waitpid(pid, &status, WNOHANG) == pid { kill(-pid, SIGKILL); return }
            usleep(50_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// A port nothing listens on now (bound to port 0 and released).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw ServerError(description: "cannot bind a socket on 127.0.0.1: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// The HTTP status of `GET /health`, or nil when nothing answers.
    static func healthStatus(port: UInt16) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 12 else { return nil }
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// Starts `executable` in a new process group, its output to `log`.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws -> pid_t {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError(description: "cannot create \(log): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
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

/// Runs a suite's tests with a real MLflow server that it starts first and stops after.
struct MLflowServerTrait: SuiteTrait, TestScoping {
    var basicAuth = false
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try MLflowServer.start(basicAuth: basicAuth)
        defer { server.stop() }
        try await MLflowServer.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == MLflowServerTrait {
    /// A real `mlflow server` for the suite (`MLflowServer.current`).
    static var mlflowServer: MLflowServerTrait { MLflowServerTrait() }
    /// A real `mlflow server` with MLflow's basic-auth app, which refuses bearer tokens.
    static var mlflowServerWithBasicAuth: MLflowServerTrait { MLflowServerTrait(basicAuth: true) }
}
