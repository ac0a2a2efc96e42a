import Foundation
import Hummingbird
import PipelineEngine

/// `mlpipe serve`: the run history as pages and a JSON API, and the buttons that re-run
/// and cancel runs.
///
/// It reads the history through `RunHistory` and the store's page queries, and starts
/// runs through `PipelineRunner.rerun`, the entry point of `mlpipe rerun`, and (for the
/// pushes its webhooks receive, ``TriggerWorker``) `PipelineRunner.run`, that of `mlpipe
/// run`; it holds no history logic of its own. `run` returns when the process gets SIGINT or SIGTERM
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
    /// the system chose, for port 0), and serves until interrupted. `log` gets a line for
    /// what the operator should know of (a push queued, a triggered run's end, a refused
    /// webhook delivery); never a secret.
    public func run(log: @escaping @Sendable (String) -> Void = { _ in },
                    listening: @escaping @Sendable (String) -> Void) async throws {
        try configuration.validate()
        let state = try await ServerState(configuration: configuration, runner: runner, log: log)
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
            if let triggers = state.triggers {
                group.addTask { await triggers.run() }
            }
            defer {
                // Runs started here are cancelled with the server, and recorded so; the
                // triggers' runs are queued again for the next start.
                state.launcher.finish()
                state.triggers?.finish()
                group.cancelAll()
            }
            // Returns on SIGINT/SIGTERM, after open requests end.
            try await app.runService()
        }
    }
}
