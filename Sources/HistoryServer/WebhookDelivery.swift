import CCrypto
import Canonical
import Foundation
import Hummingbird
import RunStore

/// What a webhook delivery asks for, once its signature checked out.
enum WebhookDelivery: Sendable {
    /// A push to a branch: the row to queue.
    case push(TriggerRecord)
    /// GitHub's `ping`, sent when a webhook is created.
    case ping
    /// An event that starts nothing, and why (another event, a tag, a deleted branch).
    case ignored(String)
}

/// Checks and reads the deliveries of GitHub and GitLab webhooks.
///
/// The signature is checked first, over the raw body, before anything in it is read: an
/// unsigned request learns nothing but 401. Comparisons take the same time wherever the
/// values differ (``Access/same(_:_:)``).
/// - GitHub: `X-Hub-Signature-256: sha256=HEX`, the HMAC-SHA256 of the body keyed with
///   the secret; `X-GitHub-Event` names the event, `X-GitHub-Delivery` the delivery.
/// - GitLab: `X-Gitlab-Token` is the secret itself; `X-Gitlab-Event: Push Hook`;
///   `X-Gitlab-Event-UUID` names the delivery.
/// A delivery without an id is named by the SHA-256 of its body, so that the same body
/// sent twice is still queued once.
struct WebhookReader: Sendable {
    let secret: WebhookSecret

    /// The delivery `body` with `headers`, from `source`; throws 401 for a bad signature,
    /// 400 for a push that cannot be read.
    func read(_ source: TriggerRecord.Source, headers: HTTPFields, body: [UInt8]) throws(HTTPAnswer) -> WebhookDelivery {
        let event: String
        let delivery: String?
        switch source {
        case .github:
            guard let signature = header("X-Hub-Signature-256", headers), Access.same(signature, "sha256=" + hmac(body)) else {
                throw .unauthorized("the X-Hub-Signature-256 header is missing or does not match the body: give the GitHub "
                    + "webhook the secret this server was started with (MLPIPE_WEBHOOK_SECRET or --webhook-secret-file), "
                    + "and the content type application/json")
            }
            event = header("X-GitHub-Event", headers) ?? ""
            delivery = header("X-GitHub-Delivery", headers)
            if event == "ping" { return .ping }
            guard event == "push" else { return .ignored("GitHub '\(event)' events start nothing; only push events do") }
        case .gitlab:
            // Digests of equal length: the comparison does not even tell the secret's length.
            guard let token = header("X-Gitlab-Token", headers),
                  Access.same(SHA256Hasher.digest(of: Array(token.utf8)).hex, SHA256Hasher.digest(of: secret.bytes).hex) else {
                throw .unauthorized("the X-Gitlab-Token header is missing or is not this server's secret: give the GitLab "
                    + "webhook the secret token this server was started with (MLPIPE_WEBHOOK_SECRET or --webhook-secret-file)")
            }
            event = header("X-Gitlab-Event", headers) ?? ""
            delivery = header("X-Gitlab-Event-UUID", headers)
            guard event == "Push Hook" else { return .ignored("GitLab '\(event)' events start nothing; only Push Hook events do") }
        }
        let id = delivery ?? "sha256:" + SHA256Hasher.digest(of: body).hex
        guard !id.isEmpty, id.utf8.count <= 200, !id.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) else {
            throw .badRequest("the delivery id is not one: give at most 200 printable characters")
        }
        return try push(source, delivery: id, body: body)
    }

    /// The push a body describes.
    func push(_ source: TriggerRecord.Source, delivery: String, body: [UInt8]) throws(HTTPAnswer) -> WebhookDelivery {
        let name = source == .github ? "GitHub push event" : "GitLab Push Hook"
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw HTTPAnswer.badRequest("the body of a \(name) is a JSON object; this one is another JSON value")
            }
            object = parsed
        } catch let answer as HTTPAnswer {
            throw answer
        } catch {
            throw .badRequest("the body of a \(name) is JSON; this one is not (\(error.localizedDescription)); "
                + "set the webhook's content type to application/json")
        }
        guard let ref = object["ref"] as? String else {
            throw .badRequest("the \(name) has no \"ref\"; is it a push event?")
        }
        guard ref.hasPrefix("refs/heads/") else { return .ignored("\(ref) is not a branch; only pushes to branches run pipelines") }
        let branch = String(ref.dropFirst("refs/heads/".count))
        guard Self.isBranchName(branch) else { throw .badRequest("\"ref\" \(ref) is not a valid branch name") }
        // GitLab names the commit to check out in checkout_sha (null when the branch was deleted).
        let after = source == .gitlab && object["checkout_sha"] is String ? object["checkout_sha"] : object["after"]
        guard let commit = (after as? String)?.lowercased(), Self.isCommitID(commit) else {
            throw .badRequest("the \(name) has no commit: \"after\" is missing or not a full hex commit id")
        }
        if Self.isZero(commit) || object["deleted"] as? Bool == true {
            return .ignored("branch \(branch) was deleted; nothing runs")
        }
        var before = (object["before"] as? String)?.lowercased()
        if let given = before, !Self.isCommitID(given) || Self.isZero(given) { before = nil }
        return .push(TriggerRecord(source: source, deliveryID: delivery, branch: branch, commit: commit, before: before))
    }

    /// `sha256=` of GitHub's header: the HMAC-SHA256 of `body`, lowercase hex.
    func hmac(_ body: [UInt8]) -> String {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        secret.bytes.withUnsafeBufferPointer { key in
            body.withUnsafeBufferPointer { message in
                // HMAC returns NULL only when memory is exhausted, as any allocation would fail.
                _ = HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress, message.count,
                         &output, &length)
            }
        }
        var text = ""
        text.reserveCapacity(64)
        for byte in output {
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 15)])
        }
        return text
    }

    static let hexDigits = Array("0123456789abcdef")

    func header(_ name: String, _ headers: HTTPFields) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.canonicalName == wanted }?.value
    }

    /// A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
    static func isCommitID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.allSatisfy(\.isHexDigit)
    }

    /// GitHub's and GitLab's "no commit": a new branch's `before`, a deleted one's `after`.
    static func isZero(_ text: String) -> Bool { text.allSatisfy { $0 == "0" } }

    /// A name `git check-ref-format --branch` accepts (the rules that matter here: it
    /// reaches git's argument list, so it may not start with `-`).
    static func isBranchName(_ name: String) -> Bool {
        guard !name.isEmpty, !name.hasPrefix("-"), !name.hasPrefix("/"), !name.hasSuffix("/"), !name.hasSuffix("."),
              !name.hasSuffix(".lock"), !name.contains(".."), !name.contains("//"), !name.contains("@{"), name != "@" else {
            return false
        }
        return !name.unicodeScalars.contains { scalar in
            scalar.value < 32 || scalar.value == 127 || " ~^:?*[\\".unicodeScalars.contains(scalar)
        }
    }
}
