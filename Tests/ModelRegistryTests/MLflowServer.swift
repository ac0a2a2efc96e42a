import Foundation
import TestSupport
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
            throw TestServerError(description: "mlflow is not installed: \(mlflow) is missing; run `make venv` "
                + "(requirements.txt pins mlflow[auth]==3.17.2) or `\(venv)/bin/pip install 'mlflow[auth]==3.17.2'`")
        }
        let folder = try TemporaryFolder()
        let port = try TestServers.freePort()
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
        let pid = try TestServers.spawn(mlflow, arguments, environment: environment, log: log)
        let server = MLflowServer(uri: "http://127.0.0.1:\(port)", pid: pid, folder: folder)
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if TestServers.httpStatus(port: port, path: "/health") == 200 { return server }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw TestServerError(description: "mlflow server exited (status \(status)) before it answered; its log:\n"
                                  + server.logTail)
            }
            usleep(200_000)
        }
        server.stop()
        throw TestServerError(description: "mlflow server did not answer /health within \(Int(deadline)) s; its log:\n"
                          + server.logTail)
    }

    /// The last lines of the server's log.
    var logTail: String {
        TestServers.tail(of: folder.file("server.log"))
    }

    /// Ends the server's process group (SIGTERM, then SIGKILL after 10 s) and reaps it.
    func stop() {
        TestServers.stopGroup(pid)
    }

    /// A port nothing listens on now.
    static func freePort() throws -> UInt16 {
        try TestServers.freePort()
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
