import Foundation
import PipelineEngine

/// The secret shared with GitHub or GitLab: the key of GitHub's `X-Hub-Signature-256`
/// HMAC, and the value GitLab sends as `X-Gitlab-Token`.
///
/// A type of its own so that it cannot be printed by accident: its description is a
/// placeholder, in logs, errors and debugger output alike. It comes from
/// `MLPIPE_WEBHOOK_SECRET` or `mlpipe serve --webhook-secret-file FILE`; without one the
/// hooks answer 404, so that a server nobody configured for them takes no pushes.
public struct WebhookSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret's bytes (UTF-8): the HMAC key, and what GitLab's token must be.
    let bytes: [UInt8]

    /// A secret; nil for an empty one, which would let anyone sign.
    public init?(_ text: String) {
        guard !text.isEmpty else { return nil }
        bytes = Array(text.utf8)
    }

    /// Never the secret.
    public var description: String { "<webhook secret>" }
    public var debugDescription: String { description }

    /// Reads `--webhook-secret-file`: its first line, without surrounding whitespace. The
    /// error names the file, never its content.
    public static func read(path: String) throws(EngineError) -> WebhookSecret {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw EngineError(.environment, "cannot read the webhook secret file \(path): \(error.localizedDescription); "
                + "check the path and its permissions")
        }
        let text = String(decoding: data, as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let secret = WebhookSecret(line) else {
            throw EngineError(.definition, "the webhook secret file \(path) is empty; write the secret you gave GitHub or "
                + "GitLab into it (a long random one: `openssl rand -hex 32`)")
        }
        return secret
    }
}
