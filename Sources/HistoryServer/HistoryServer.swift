import Foundation
import Hummingbird
import PipelineEngine

/// `mlpipe serve`: the run history as pages and a JSON API, and the buttons that re-run
/// and cancel runs.
///
/// It reads the history through `RunHistory` and the store's page queries, and starts
/// runs through `PipelineRunner.rerun`, the entry point of `mlpipe rerun`; it holds no
/// history logic of its own. `run` returns when the process gets SIGINT or SIGTERM
/// (runs it started are cancelled and recorded `cancelled`).
public struct HistoryServer: Sendable {
    let configuration: ServeConfiguration
    let runner: PipelineRunner

    /// A server for `configuration`; `runner` starts the re-runs (with the built-in kinds).
    public init(configuration: ServeConfiguration, runner: PipelineRunner) {
        self.configuration = configuration
        self.runner = runner
    }

    /// Opens the workspace, binds, calls `listening` with the URL it serves (the port
    /// the system chose, for port 0), and serves until interrupted.
    public func run(listening: @escaping @Sendable (String) -> Void) async throws {
        try configuration.validate()
        let state = try await ServerState(configuration: configuration, runner: runner)
        let routes = Routes(state: state)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await routes.respond(request) }
        let host = configuration.host
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "mlpipe"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                listening("http://\(shown):\(port)")
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await state.launcher.run() }
            defer {
                // Runs started here are cancelled with the server, and recorded so.
                state.launcher.finish()
                group.cancelAll()
            }
            // Returns on SIGINT/SIGTERM, after open requests end.
            try await app.runService()
        }
    }
}
