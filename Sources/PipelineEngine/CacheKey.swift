import Canonical
import ArtifactStore
import Foundation

/// Everything that can change a stage's result, field by field.
///
/// This struct is the one definition of the cache key. Its canonical encoding (JSON,
/// keys sorted, no insignificant whitespace) is hashed with SHA-256; the key is
/// `sha256:<hex>`. The same fields are stored with each stage that ran, so that the next
/// run can say which one changed ("why did this re-run?").
///
/// Fields, and why each is there:
/// - `format`: the version of this encoding; bumped when a field is added or its meaning
///   changes, so that old keys can never collide with new ones.
/// - `kind`, `kindVersion`: what runs the stage, and the version of that code. A fixed
///   kind bumps its version and disowns every result the old code made.
/// - `run`: the resolved `run:` line. Output paths, upstream paths and `run.id` appear as
///   their `${{ … }}` expressions, not as this run's folders, so that two runs of the
///   same work share a key; the upstream content they point to is in `upstream`.
/// - `with`: the resolved `with:` settings (canonical JSON), placeholders as for `run`.
/// - `env`: the pipeline's and the stage's `env:` after interpolation. The environment
///   mlpipe itself inherits (PATH, HOME, …) is not part of it, as in DVC and Make.
/// - `params`: the value of each param the stage references (also visible inside `run`,
///   kept apart so that an explanation can name the param).
/// - `secrets`: the names of the secrets the stage can see — never their values.
/// - `inputs`: for each declared input path, the git object id at the run's commit
///   (a tree id for a folder), or for uncommitted content its git blob id in the working
///   tree (`…+dirty:<hash of the changed paths and their ids>`). A stage without inputs
///   has one entry, `""`, for the commit's whole tree.
/// - `upstream`: the digest of every output of every stage it depends on
///   (`stage.output` -> `sha256:…`).
/// - `outputs`: declared output names and paths (renaming one changes what is produced).
/// - `metrics`: the declared metrics file.
///
/// Not in the key: `timeout` and `retries` (they decide whether a result is made, not
/// what it is), the host, and the time.
public struct KeyComponents: Codable, Sendable, Equatable {
    public var format: Int = 1
    public var kind: String
    public var kindVersion: String
    public var run: String?
    public var with: String?
    public var env: [String: String]
    public var params: [String: String]
    public var secrets: [String]
    public var inputs: [String: String]
    public var upstream: [String: String]
    public var outputs: [String: String]
    public var metrics: String?

    /// The canonical encoding: JSON, object keys sorted by their UTF-8 bytes at every
    /// level, no whitespace, absent optionals left out, strings escaped as RFC 8259
    /// requires and nothing more (`/` and non-ASCII characters as they are).
    ///
    /// Written by hand rather than with `JSONEncoder`, which cost a fifth of a run of
    /// 300 trivial stages; ``decode(_:)`` reads it back with `JSONDecoder`.
    public var canonicalJSON: String {
        var out = CanonicalJSONWriter()
        out.beginObject()
        out.key("env"); out.dictionary(env)
        out.key("format"); out.integer(format)
        out.key("inputs"); out.dictionary(inputs)
        out.key("kind"); out.string(kind)
        out.key("kindVersion"); out.string(kindVersion)
        if let metrics { out.key("metrics"); out.string(metrics) }
        out.key("outputs"); out.dictionary(outputs)
        out.key("params"); out.dictionary(params)
        if let run { out.key("run"); out.string(run) }
        out.key("secrets"); out.array(secrets)
        out.key("upstream"); out.dictionary(upstream)
        if let with { out.key("with"); out.string(with) }
        out.endObject()
        return out.text
    }

    /// `sha256:<hex>` of the canonical encoding.
    public var key: String { Self.key(ofCanonicalJSON: canonicalJSON) }

    /// `sha256:<hex>` of an encoding already made, so that a stage encodes its key once.
    public static func key(ofCanonicalJSON json: String) -> String {
        digest(of: json)
    }

    public static func decode(_ json: String) -> KeyComponents? {
        try? JSONDecoder().decode(KeyComponents.self, from: Data(json.utf8))
    }

    /// Sentences naming each field that differs from `previous`, in a stable order.
    public func differences(from previous: KeyComponents) -> [String] {
        var reasons: [String] = []
        if format != previous.format { reasons.append("the cache key format changed (mlpipe upgrade)") }
        if kind != previous.kind { reasons.append("kind changed (\(previous.kind) -> \(kind))") }
        else if kindVersion != previous.kindVersion {
            reasons.append("the \(kind) kind's implementation changed (version \(previous.kindVersion) -> \(kindVersion))")
        }
        reasons += Self.mapDifferences("input", previous.inputs, inputs) { key, old, new in
            let name = key.isEmpty ? "the commit's tree (stage has no inputs)" : key
            if new == nil { return "input \(name) was removed" }
            if old == nil { return "input \(name) was added" }
            if let new, InputID(text: new).isDirty { return "input \(name) has uncommitted changes" }
            return "input \(name) changed"
        }
        reasons += Self.mapDifferences("param", previous.params, params) { key, old, new in
            "param \(key) changed (\(old ?? "unset") -> \(new ?? "unset"))"
        }
        if run != previous.run { reasons.append("run line changed") }
        if with != previous.with { reasons.append("with: settings changed") }
        reasons += Self.mapDifferences("env", previous.env, env) { key, old, new in
            old == nil ? "env \(key) was added" : new == nil ? "env \(key) was removed" : "env \(key) changed"
        }
        if secrets != previous.secrets { reasons.append("the set of secrets changed") }
        reasons += Self.mapDifferences("upstream", previous.upstream, upstream) { key, old, new in
            new == nil ? "upstream output \(key) is no longer used" : "upstream output \(key) changed"
        }
        if outputs != previous.outputs { reasons.append("declared outputs changed") }
        if metrics != previous.metrics { reasons.append("declared metrics file changed") }
        return reasons
    }

    private static func mapDifferences(_ label: String, _ old: [String: String], _ new: [String: String],
                                       _ describe: (String, String?, String?) -> String) -> [String] {
        let keys = Set(old.keys).union(new.keys).sorted()
        return keys.compactMap { key in old[key] == new[key] ? nil : describe(key, old[key], new[key]) }
    }
}
