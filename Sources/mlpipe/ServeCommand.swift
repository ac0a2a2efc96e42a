import ArgumentParser
import Foundation
import HistoryServer
import PipelineEngine
import StageKinds

/// `mlpipe serve`: the run history as pages and a JSON API on 127.0.0.1:8080.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the run history: pages, a JSON API under /api/v1, and re-run and cancel buttons.")

    @Option(name: .long, help: "The address to listen on (anything but loopback needs --token-file or --insecure-no-auth).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port (0 for any free one; the address is printed).")
    var port = 8080

    @Option(name: .long, help: "A file holding the token: a bearer token for the API, the login for the pages.")
    var tokenFile: String?

    @Flag(name: .long, help: "Serve a non-loopback address without a token: anyone who reaches it can read logs and start runs.")
    var insecureNoAuth = false

    @Option(name: .long, help: ArgumentHelp(
        "A file holding the webhook secret (over $MLPIPE_WEBHOOK_SECRET): turns on POST /hooks/github and /hooks/gitlab.",
        valueName: "file"))
    var webhookSecretFile: String?

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        let token = try tokenFile.map { path throws(EngineError) in try ServeConfiguration.readToken(path: path) }
        let secret = try webhookSecretFile.map { path throws(EngineError) in try WebhookSecret.read(path: path) }
            ?? ProcessInfo.processInfo.environment["MLPIPE_WEBHOOK_SECRET"].flatMap(WebhookSecret.init)
        // The stages (and git) this server starts inherit its environment: none of them
        // needs the secret, and a stage that prints its environment must not show it.
        unsetenv("MLPIPE_WEBHOOK_SECRET")
        let configuration = ServeConfiguration(host: host, port: port, token: token, insecureNoAuth: insecureNoAuth,
                                               options: RunOptions(trigger: .web, workspace: workspace.resolved),
                                               webhookSecret: secret)
        let server = HistoryServer(configuration: configuration,
                                   runner: PipelineRunner(kinds: BuiltinKinds.registry(), version: MLPipe.version))
        try await server.run(log: { line in
            Console.shared.out("mlpipe serve: \(line)")
        }, listening: { url in
            // One write: whoever reads the first line finds the second with it.
            let hooks = secret == nil ? "" : "\nmlpipe serve: webhooks take pushes at \(url)/hooks/github and \(url)/hooks/gitlab"
            Console.shared.out("mlpipe serve: listening on \(url)" + hooks)
        })
    }
}
