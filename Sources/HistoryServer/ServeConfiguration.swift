import Foundation
import PipelineEngine

/// What `mlpipe serve` was asked to do: where to listen, who may come in, which
/// repository's history to serve.
///
/// The server binds 127.0.0.1 unless told otherwise, and refuses any other address
/// unless the caller either gives a token (``token``, from `--token-file`) or says
/// plainly that the history is open to anyone who can reach it (``insecureNoAuth``).
public struct ServeConfiguration: Sendable {
    /// The address to bind: `127.0.0.1` by default.
    public var host: String
    /// The port; 0 asks the system for a free one (the server says which it got).
    public var port: Int
    /// The bearer token for the API and the login for the pages; nil for none.
    public var token: String?
    /// Serve a non-loopback address without a token (`--insecure-no-auth`).
    public var insecureNoAuth: Bool
    /// The repository (its `currentDirectory`) and workspace to serve; `trigger` is
    /// ignored: runs the server starts are recorded with trigger `web` (the buttons) or
    /// `webhook` (pushes).
    public var options: RunOptions
    /// The secret of `POST /hooks/github` and `/hooks/gitlab`; nil turns them off (404).
    public var webhookSecret: WebhookSecret?
    /// How many runs that pushes asked for may happen at once (of different pipelines or
    /// branches: one pipeline on one branch runs one push at a time).
    public var webhookRuns: Int

    /// A configuration; the defaults serve 127.0.0.1:8080 with no token and no webhooks.
    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil, insecureNoAuth: Bool = false,
                options: RunOptions = RunOptions(), webhookSecret: WebhookSecret? = nil, webhookRuns: Int = 2) {
        self.host = host
        self.port = port
        self.token = token
        self.insecureNoAuth = insecureNoAuth
        self.options = options
        self.webhookSecret = webhookSecret
        self.webhookRuns = max(1, webhookRuns)
    }

    /// Whether `host` is a loopback address, reachable only from this machine.
    public var isLoopback: Bool {
        ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
    }

    /// Throws when the configuration would expose the history without meaning to.
    public func validate() throws(EngineError) {
        guard (0...65535).contains(port) else {
            throw EngineError(.definition, "--port \(port) is not a port; give one from 1 to 65535 (or 0 for any free port)")
        }
        if let token, token.isEmpty {
            throw EngineError(.definition, "the token file is empty; write a long random token into it (for example `openssl rand -hex 32`)")
        }
        if !isLoopback && token == nil && !insecureNoAuth {
            throw EngineError(.definition,
                "refusing to serve the run history on \(host) without authentication: anyone who can reach it could read "
                + "every log and start runs; pass --token-file FILE (a bearer token for the API, a login for the pages), "
                + "or --insecure-no-auth if that is really what you want, or serve on 127.0.0.1")
        }
    }

    /// Reads a token file: its first line, without surrounding whitespace. The error
    /// names the file, never its content.
    public static func readToken(path: String) throws(EngineError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw EngineError(.environment, "cannot read the token file \(path): \(error.localizedDescription); check the path and its permissions")
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
}
