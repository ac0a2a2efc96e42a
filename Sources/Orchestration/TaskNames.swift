import Canonical

/// DNS-safe, unique names for the tasks of one workflow, from mlpipe's stage names.
///
/// Argo task and template names, container names and Job names must be DNS labels
/// (lowercase letters, digits and '-', starting and ending with a letter or digit, at
/// most 63), while a stage may be called `Train_Model` or `train[lr=0.1,depth=3]`. Each
/// name is lowercased, every run of other characters becomes one '-', and the ends are
/// trimmed: `train[lr=0.1,depth=3]` → `train-lr-0-1-depth-3`. A name that then collides
/// with another, is empty, or is longer than `limit` is cut and given eight hex digits of
/// the SHA-256 of the stage's own name, so the same pipeline always gets the same names.
public struct TaskNames: Sendable {
    /// Stage name → task name.
    public private(set) var byStage: [String: String] = [:]

    /// Names for `stages`, in the order given (earlier stages keep the plain form on a
    /// collision); `limit` leaves room for a prefix such as a Job's `PIPELINE-`; no stage
    /// gets a name of `reserved`.
    public init(stages: [String], limit: Int = 63, reserved: Set<String> = []) {
        var taken = reserved
        for stage in stages {
            let base = Self.sanitize(stage)
            var name = base
            if base.isEmpty || base.count > limit || taken.contains(base) {
                name = Self.hashed(base, stage: stage, limit: limit)
            }
            while taken.contains(name) { name = Self.hashed(name, stage: stage + "'", limit: limit) }
            taken.insert(name)
            byStage[stage] = name
        }
    }

    /// The task name of `stage`; the sanitized form for a stage not given to `init`.
    public subscript(stage: String) -> String { byStage[stage] ?? Self.sanitize(stage) }

    /// Lowercase letters and digits, other runs as one '-', no '-' at the ends.
    public static func sanitize(_ text: String) -> String {
        var out = ""
        var dash = false
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if dash && !out.isEmpty { out += "-" }
                dash = false
                out.unicodeScalars.append(scalar)
            } else {
                dash = true
            }
        }
        return out
    }

    private static func hashed(_ base: String, stage: String, limit: Int) -> String {
        let hex = String(SHA256Hasher.digest(of: stage.utf8).hex.prefix(8))
        let room = max(0, limit - hex.count - 1)
        var head = String(base.prefix(room))
        while head.hasSuffix("-") { head.removeLast() }
        return head.isEmpty ? "s" + hex : head + "-" + hex
    }
}
