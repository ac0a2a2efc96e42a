/// One key of one OpenBao / HashiCorp Vault KV v2 secret: what `{ vault: REFERENCE }`
/// names, written `MOUNT/data/PATH#KEY` or `MOUNT/data/PATH#KEY@VERSION`.
///
///     secret/data/ci#password         key `password` of the latest version of `ci`
///     team/kv/data/apps/web#token@3   key `token` of version 3 of `apps/web` on mount `team/kv`
///
/// The text before `#` is the KV v2 read path of the HTTP API without its `/v1/`
/// (`GET /v1/MOUNT/data/PATH`), so that it can be pasted into a policy as it is. The
/// mount is everything before the first `data` segment, the secret's path everything
/// after it. A key may contain `#` (the first `#` ends the path) but not `@`, which
/// introduces the version.
///
/// The loader parses it to report a malformed reference at its line (`mlpipe lint`), and
/// the `vault` provider parses the same text to know what to fetch: one format, one type.
public struct VaultReference: Sendable, Hashable {
    /// The KV v2 mount, e.g. `secret` or `team/kv`.
    public var mount: String
    /// The secret's path under the mount, e.g. `ci` or `apps/web`.
    public var path: String
    /// The key inside the secret's data.
    public var key: String
    /// A version of the secret (`@N`); nil for the latest.
    public var version: Int?

    /// What is wrong with a reference, said so that it follows "`vault` of secret 'X' ".
    public struct Malformed: Error, Sendable, Equatable {
        /// E.g. "has no `#KEY`; write …".
        public var problem: String
    }

    /// Parses `MOUNT/data/PATH#KEY[@VERSION]`; throws what is wrong and how to write it.
    public init(parsing text: String) throws(Malformed) {
        guard let hash = text.firstIndex(of: "#") else {
            let example = (try? Self.split(text, whole: text, after: "")) != nil
                ? "'\(text)#password'" : "`MOUNT/data/PATH#KEY`, such as `secret/data/ci#password`"
            throw Malformed(problem: "'\(text)' has no `#KEY`; name the key of the secret to read, e.g. \(example)")
        }
        let location = String(text[..<hash])
        var key = String(text[text.index(after: hash)...])
        var version: Int?
        if let at = key.lastIndex(of: "@") {
            let number = key[key.index(after: at)...]
            guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber),
                  let parsed = Int(number), parsed > 0 else {
                throw Malformed(problem: "'\(text)' has '@\(number)' after its key, which is not a version; write "
                    + "`#KEY@N` with N a version number (1, 2, …), or leave `@` out for the latest version")
            }
            version = parsed
            key = String(key[..<at])
        }
        guard !key.isEmpty else {
            throw Malformed(problem: "'\(text)' has an empty key after `#`; name the key of the secret to read, "
                + "e.g. `secret/data/ci#password`")
        }
        let (mount, path) = try Self.split(location, whole: text, after: String(text[hash...]))
        self.mount = mount
        self.path = path
        self.key = key
        self.version = version
    }

    /// `MOUNT/data/PATH` into the mount and the path, or what is wrong with it.
    /// `after` is the text from `#` on, for a corrected reference in the message.
    private static func split(_ location: String, whole text: String, after: String) throws(Malformed) -> (String, String) {
        guard !location.isEmpty else {
            throw Malformed(problem: "'\(text)' has no path before `#`; write `MOUNT/data/PATH#KEY`, "
                + "e.g. `secret/data/ci#password`")
        }
        if location.hasPrefix("/") || location.hasPrefix("v1/") {
            let trimmed = location.drop(while: { $0 == "/" })
            let bare = trimmed.hasPrefix("v1/") ? trimmed.dropFirst(3) : trimmed
            throw Malformed(problem: "'\(text)' starts with '\(location.prefix(location.count - bare.count))'; "
                + "write the path without it, as in a policy: '\(bare)\(after)'")
        }
        let segments = location.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.contains(where: \.isEmpty) {
            throw Malformed(problem: "'\(text)' has an empty part in its path ('//' or a '/' at the end); "
                + "write `MOUNT/data/PATH#KEY`, e.g. `secret/data/ci#password`")
        }
        if let dots = segments.first(where: { $0 == "." || $0 == ".." }) {
            throw Malformed(problem: "'\(text)' has '\(dots)' in its path; write the secret's path in full, "
                + "e.g. `secret/data/ci#password`")
        }
        guard let data = segments.indices.dropFirst().first(where: { segments[$0] == "data" }) else {
            let suggestion = segments.count >= 2
                ? "did you mean '\(segments[0])/data/\(segments.dropFirst().joined(separator: "/"))\(after)'? (the `bao kv get "
                    + "-mount=\(segments[0]) \(segments.dropFirst().joined(separator: "/"))` secret)"
                : "e.g. '\(segments[0])/data/ci\(after)' for secret `ci` on mount `\(segments[0])`"
            throw Malformed(problem: "'\(text)' has no `/data/` after the mount; KV v2 secrets are read at "
                + "`MOUNT/data/PATH#KEY`: \(suggestion)")
        }
        guard data < segments.count - 1 else {
            throw Malformed(problem: "'\(text)' names no secret after `data/`; write `MOUNT/data/PATH#KEY`, "
                + "e.g. `\(segments[..<data].joined(separator: "/"))/data/ci#password`")
        }
        return (segments[..<data].joined(separator: "/"), segments[(data + 1)...].joined(separator: "/"))
    }

    /// `MOUNT/data/PATH`: the read path, as in a policy and in messages.
    public var dataPath: String { "\(mount)/data/\(path)" }

    /// The reference as written: `MOUNT/data/PATH#KEY[@VERSION]`.
    public var written: String { dataPath + "#" + key + (version.map { "@\($0)" } ?? "") }
}
