import Foundation
import Testing

/// A push event as GitHub sends it (the fields mlpipe reads, and a few it does not).
func gitHubPush(branch: String, before: String, after: String) -> String {
    """
    {"ref":"refs/heads/\(branch)","before":"\(before)","after":"\(after)","created":false,"deleted":false,\
    "repository":{"full_name":"example/demo"},"pusher":{"name":"test"}}
    """
}

/// A push event as GitLab sends it.
func gitLabPush(branch: String, before: String, after: String) -> String {
    """
    {"object_kind":"push","event_name":"push","ref":"refs/heads/\(branch)","before":"\(before)","after":"\(after)",\
    "checkout_sha":"\(after)","project":{"path_with_namespace":"example/demo"}}
    """
}

/// The headers of a GitHub delivery of `body`, signed with `secret` (by openssl, not by
/// mlpipe's own code).
func gitHubHeaders(_ body: String, secret: String, event: String = "push", delivery: String) throws -> [String] {
    ["X-GitHub-Event: \(event)", "X-GitHub-Delivery: \(delivery)", "Content-Type: application/json",
     "X-Hub-Signature-256: sha256=\(try hmacSHA256(body, key: secret))"]
}

/// HMAC-SHA256 of `text` under `key`, lowercase hex, from `openssl dgst`.
func hmacSHA256(_ text: String, key: String) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("hmac-\(UUID().uuidString)").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let result = try runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", key, file], in: "/")
    guard result.status == 0, let hex = result.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines),
          hex.count == 64 else {
        throw HarnessError(description: "openssl dgst failed: \(result)")
    }
    return hex
}

extension TempRepo {
    /// The full id of HEAD.
    func head() throws -> String {
        try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The objects of `runs --json`, oldest first.
    func runObjects() throws -> [[String: Any]] {
        let result = try mlpipe("runs", "--json")
        guard result.status == 0, let runs = try result.json() as? [[String: Any]] else {
            throw HarnessError(description: "runs --json failed: \(result)")
        }
        return runs.reversed()
    }
}

extension ServeProcess {
    /// POSTs `body` to `path` with `headers`, as a webhook would.
    func post(_ path: String, body: String, headers: [String]) throws -> HTTPReply {
        let tmp = FileManager.default.temporaryDirectory
        let bodyFile = tmp.appendingPathComponent("body-\(UUID().uuidString)").path
        let headerFile = tmp.appendingPathComponent("headers-\(UUID().uuidString)").path
        try Data(body.utf8).write(to: URL(fileURLWithPath: bodyFile))
        defer {
            try? FileManager.default.removeItem(atPath: bodyFile)
            try? FileManager.default.removeItem(atPath: headerFile)
        }
        var args = ["-s", "-X", "POST", "-D", headerFile, "--max-time", "30", "--data-binary", "@" + bodyFile]
        for header in headers { args += ["-H", header] }
        let outcome = try runProcess("/usr/bin/curl", args + [url + path], in: "/", timeout: 60)
        guard outcome.status == 0 else { throw HarnessError(description: "curl POST \(path) failed: \(outcome)") }
        let head = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return HTTPReply(head: head, body: outcome.stdout)
    }

    /// `GET /api/v1/triggers`, oldest first.
    func triggers() throws -> [[String: Any]] {
        let body = try get("/api/v1/triggers?limit=200")
        guard let rows = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]] else {
            throw HarnessError(description: "GET /api/v1/triggers is not an array: \(body)")
        }
        return rows.reversed()
    }

    /// Waits until the queue holds `count` rows or more and none is queued or running; returns them.
    func settledTriggers(atLeast count: Int, timeout: Double = 180) throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        do {
            try waitFor("the trigger queue to settle", timeout: timeout) {
                rows = try triggers()
                return rows.count >= count && rows.allSatisfy { ["done", "failed"].contains($0["state"] as? String) }
            }
        } catch {
            throw HarnessError(description: "\(error); the queue: \(rows); serve said: \(output)")
        }
        return rows
    }

    /// What the server printed so far, on stdout and stderr.
    var output: String {
        ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "") + child.stderrSoFar
    }
}

/// The JSON object of a reply's body.
func jsonObject(_ reply: HTTPReply) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8))) as? [String: Any] ?? [:]
}
