import Foundation

extension VaultClient {
    /// The data of the KV v2 secret at `MOUNT/data/PATH` (the latest version, or
    /// `version`): key -> value, a string as it is, any other JSON value as its JSON text.
    ///
    /// `GET /v1/MOUNT/data/PATH[?version=N]` with `X-Vault-Token`; the value is
    /// `.data.data`. A 403 and a 404 are looked into before they are reported: whether the
    /// token is valid and which policies it has (`auth/token/lookup-self`), whether the
    /// mount exists and is KV version 2 (`sys/internal/ui/mounts`).
    public func read(mount: String, path: String, version: Int?, token: String) async throws(VaultError) -> [String: String] {
        let dataPath = "\(mount)/data/\(path)"
        let shown = dataPath + (version.map { " (version \($0))" } ?? "")
        let answer = try await send(.GET, Self.encoded(mount) + "/data/" + Self.encoded(path),
                                    query: version.map { "version=\($0)" }, token: token, what: "reading \(dataPath)")
        switch answer.status {
        case 200:
            guard let outer = answer.json?["data"] as? [String: Any] else {
                throw VaultError(.unexpected, "\(url(dataPath)) answered HTTP 200 without `data`; is "
                    + "\(settings.address) an OpenBao or Vault server?", status: 200)
            }
            guard outer["metadata"] is [String: Any], let data = outer["data"] as? [String: Any] else {
                // KV version 1 answers a secret that happens to live at `data/PATH` with its
                // key-value pairs directly under `data`, with no `metadata`.
                throw await notKV2(mount: mount, path: path, token: token) ?? VaultError(.notKV2,
                    "\(dataPath) at \(settings.address) is not a KV version 2 secret (its answer has no "
                    + "`data.metadata`); mlpipe reads KV version 2 mounts", status: 200)
            }
            return data.mapValues(Self.text)
        case 403:
            throw await denied(answer, reading: dataPath, token: token)
        case 404:
            throw await missing(answer, mount: mount, path: path, shown: shown, version: version, token: token)
        case 503 where answer.isSealed:
            throw sealed(answer, during: "the read of \(dataPath)")
        default:
            throw VaultError(.unexpected, "reading \(url(dataPath)) answered \(quoted(answer, hiding: [token]))"
                + (answer.status >= 500 ? " (after \(settings.maxAttempts) attempts); the server is failing, try again later" : ""),
                status: answer.status)
        }
    }

    /// A value as text: a string as it is, a number, bool, list or object as JSON.
    static func text(_ value: Any) -> String {
        if let string = value as? String { return string }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// 403: a token the server does not know, or one whose policies do not allow the read.
    private func denied(_ answer: Answer, reading dataPath: String, token: String) async -> VaultError {
        let who = settings.auth.description
        let grant = "a policy with `path \"\(dataPath)\" { capabilities = [\"read\"] }`"
        let lookup = try? await send(.GET, "auth/token/lookup-self", token: token, what: "looking up the token")
        if let lookup, lookup.status == 403 {
            // lookup-self is allowed by the `default` policy, which nearly every token has.
            return VaultError(.denied, "permission denied reading \(dataPath) at \(settings.address): the server does "
                + "not accept \(who): it is invalid, expired or revoked (or lacks the `default` policy); log in "
                + "again, or give a valid token", status: answer.status)
        }
        let policies = ((lookup?.json?["data"] as? [String: Any])?["policies"] as? [Any])?.compactMap { $0 as? String }
        let held = policies.map { " (its policies: \($0.sorted().joined(separator: ", ")))" } ?? ""
        var origin = "the token of \(who)"
        if case .token = settings.auth { origin = who }
        return VaultError(.denied, "permission denied reading \(dataPath) at \(settings.address): \(origin)\(held) may "
            + "not read it; attach \(grant) to the token's policies, or fix the path", status: answer.status)
    }

    /// 404: no mount there, a mount of another kind, a deleted or missing version, or no
    /// secret at the path.
    private func missing(_ answer: Answer, mount: String, path: String, shown: String, version: Int?,
                         token: String) async -> VaultError {
        let dataPath = "\(mount)/data/\(path)"
        if answer.errors.contains(where: { $0.contains("no handler for route") }) {
            return VaultError(.notFound, "no secrets engine is mounted at '\(mount)' in \(settings.address), so "
                + "\(dataPath) does not exist; fix the mount (the part before `/data/`) in the pipeline's `secrets:`",
                status: 404)
        }
        if let metadata = (answer.json?["data"] as? [String: Any])?["metadata"] as? [String: Any] {
            if metadata["destroyed"] as? Bool == true {
                return VaultError(.notFound, "\(shown) at \(settings.address) was destroyed; name another version "
                    + "(`#KEY@N`), or the latest (without `@`)", status: 404)
            }
            if let deleted = metadata["deletion_time"] as? String, !deleted.isEmpty {
                return VaultError(.notFound, "\(shown) at \(settings.address) was deleted at \(deleted); undelete it "
                    + "(`bao kv undelete -mount=\(mount) -versions=\(metadata["version"].map { "\($0)" } ?? "N") \(path)`) "
                    + "or name another version", status: 404)
            }
        }
        if let wrongKind = await notKV2(mount: mount, path: path, token: token) { return wrongKind }
        let fix = version == nil
            ? "write it (`bao kv put -mount=\(mount) \(path) KEY=VALUE`) or fix the path in the pipeline's `secrets:`"
            : "name a version that exists (`bao kv metadata get -mount=\(mount) \(path)` lists them), or leave `@N` out"
        return VaultError(.notFound, "no secret at \(shown) in \(settings.address); \(fix)", status: 404)
    }

    /// The error for a mount that is not KV version 2, or nil when it is (or cannot be
    /// told: the token may not see the mount's settings).
    private func notKV2(mount: String, path: String, token: String) async -> VaultError? {
        let probe = "sys/internal/ui/mounts/" + Self.encoded(mount) + "/" + Self.encoded(path)
        guard let answer = try? await send(.GET, probe, token: token, what: "looking up mount '\(mount)'"),
              answer.status == 200, let data = answer.json?["data"] as? [String: Any],
              let type = data["type"] as? String else { return nil }
        let version = (data["options"] as? [String: Any])?["version"] as? String
        if type == "kv" || type == "generic" {
            guard version != "2" else { return nil }
            return VaultError(.notKV2, "mount '\(mount)' at \(settings.address) is a KV version 1 secrets engine, "
                + "and mlpipe reads KV version 2 (`MOUNT/data/PATH`); upgrade it (`bao kv enable-versioning \(mount)`) "
                + "or keep the secret on a KV version 2 mount", status: 404)
        }
        return VaultError(.notKV2, "mount '\(mount)' at \(settings.address) is a '\(type)' secrets engine, not KV "
            + "version 2; keep the secret on a KV version 2 mount", status: 404)
    }
}
