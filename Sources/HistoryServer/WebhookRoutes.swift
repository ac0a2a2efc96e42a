import Foundation
import Hummingbird
import PipelineSpec
import RunStore

/// `POST /hooks/github` and `POST /hooks/gitlab`: push events from a repository's webhook,
/// queued as rows of `trigger_queue` for the ``TriggerWorker``.
///
/// The hooks carry their own credential (the signature, or GitLab's token) instead of the
/// server's bearer token, which GitHub and GitLab cannot send, and so are answered before
/// ``Access`` looks at the request. Answers are JSON:
/// - 404 when the server has no webhook secret (the hooks are off);
/// - 401 when the signature or token is missing or wrong (nothing is queued);
/// - 200 `{"status":"pong"}` for GitHub's `ping`;
/// - 202 `{"status":"ignored","reason":…}` for any other event, a tag, a deleted branch;
/// - 400 for a push that cannot be read;
/// - 202 `{"status":"queued","triggers":[ID]}` for a push, or `"duplicate"` with the
///   first copy's id when the delivery was queued before.
struct WebhookRoutes: Sendable {
    let state: ServerState

    /// GitHub sends at most 25 MB.
    static let maximumBody = 25 << 20

    func respond(_ request: Request, _ parts: RequestParts) async throws -> Response {
        let segments = parts.segments
        guard segments.count == 2, let source = TriggerRecord.Source(rawValue: segments[1]) else {
            throw HTTPAnswer.notFound("no hook at /\(segments.joined(separator: "/")); the hooks are /hooks/github and /hooks/gitlab")
        }
        guard let secret = state.webhookSecret, let worker = state.triggers else {
            throw HTTPAnswer.notFound("webhooks are off: start `mlpipe serve` with the secret in MLPIPE_WEBHOOK_SECRET "
                + "or --webhook-secret-file FILE")
        }
        guard request.method == .post else {
            throw HTTPAnswer(status: .methodNotAllowed, message: "a hook takes a POST from a \(source.rawValue) webhook")
        }
        var request = request
        let body: [UInt8]
        do {
            let buffer = try await request.collectBody(upTo: Self.maximumBody)
            body = Array(buffer.readableBytesView)
        } catch {
            throw HTTPAnswer(status: .contentTooLarge, message: "the body could not be read whole; a hook takes at most "
                + "\(Self.maximumBody >> 20) MB")
        }
        let delivery: WebhookDelivery
        do throws(HTTPAnswer) {
            delivery = try WebhookReader(secret: secret).read(source, headers: request.headers, body: body)
        } catch {
            if error.status == .unauthorized {
                state.log("refused a \(source.rawValue) delivery to /hooks/\(source.rawValue): its signature does not match this server's secret")
            }
            throw error
        }
        switch delivery {
        case .ping:
            return HTTPAnswer.json(.object(["status": .string("pong")]))
        case .ignored(let reason):
            return HTTPAnswer.json(.object(["status": .string("ignored"), "reason": .string(reason)]), status: .accepted)
        case .push(let push):
            let queued: (id: Int64, isNew: Bool)
            do {
                queued = try state.store.enqueuePush(push)
            } catch {
                throw HTTPAnswer(status: .serviceUnavailable, message: "\(error)")
            }
            if queued.isNew {
                state.log("trigger #\(queued.id): \(source.rawValue) push to \(push.branch) at \(push.commit.prefix(7)) queued")
                worker.wake()
            }
            return HTTPAnswer.json(.object(["status": .string(queued.isNew ? "queued" : "duplicate"),
                                            "triggers": .array([.int(Int(queued.id))])]), status: .accepted)
        }
    }
}
