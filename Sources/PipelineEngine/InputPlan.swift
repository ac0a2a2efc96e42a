import Canonical
import GitState
import PipelineSpec

/// The declared inputs of every stage of a run, read once from git.
///
/// One working-tree status covers every stage: limited to the stages' input paths, or
/// the whole repository when a stage declares no inputs (it is keyed by the commit's
/// whole tree). A clean repository costs no file reads: object ids come from the
/// commit's tree.
struct InputPlan: Sendable {
    /// Per stage: input path -> the id that enters the cache key.
    var keys: [String: [String: String]]
    var dirtyPaths: [String]
    var isDirty: Bool { !dirtyPaths.isEmpty }

    static func make(pipeline: Pipeline, selected: Set<String>, repo: GitRepository, commit: String,
                     assumeClean: Bool) throws(EngineError) -> InputPlan {
        let stages = pipeline.stages.filter { selected.contains($0.name) }
        let wholeTree = stages.contains { $0.inputs.isEmpty }
        let prefixes = Array(Set(stages.flatMap { $0.inputs.map(literalPrefix) })).sorted()
        // A glob with no literal folder ("*.py") needs the whole repository's status too.
        let pathspecs: [String]? = wholeTree || prefixes.contains("") ? nil : prefixes
        let status: WorkingTreeStatus
        do {
            status = assumeClean ? .clean : try repo.status(pathspecs: pathspecs)
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        var keys: [String: [String: String]] = [:]
        var dirty = Set<String>()
        var missing: [Diagnostic] = []
        for stage in stages {
            let fingerprint: InputFingerprint
            do {
                fingerprint = try repo.fingerprint(patterns: stage.inputs, commit: commit, status: status)
            } catch {
                throw EngineError(.environment, error.description, cause: error)
            }
            for pattern in fingerprint.unmatchedPatterns {
                missing.append(Diagnostic(
                    location: stage.inputLocations[pattern] ?? stage.location,
                    message: "input '\(pattern)' of stage '\(stage.name)' matches no file at commit \(commit.prefix(7)) or in the working tree; fix the path or add the file"))
            }
            var entries: [String: String] = [:]
            for entry in fingerprint.entries {
                var dirtyDigest: String?
                if !entry.overlays.isEmpty {
                    let overlay = entry.overlays.keys.sorted().map { "\($0)=\(entry.overlays[$0]!)" }.joined(separator: "\n")
                    dirtyDigest = String(digest(of: overlay).dropFirst("sha256:".count).prefix(16))
                }
                entries[entry.path] = InputID(objectID: entry.objectID, isWholeTree: entry.path.isEmpty,
                                              dirtyDigest: dirtyDigest).text
            }
            dirty.formUnion(fingerprint.dirtyPaths)
            keys[stage.name] = entries
        }
        if !missing.isEmpty {
            throw EngineError(.definition, "inputs are missing", diagnostics: missing)
        }
        return InputPlan(keys: keys, dirtyPaths: dirty.sorted())
    }

    /// The folder part of a glob before its first wildcard ("data/**/*.csv" -> "data").
    static func literalPrefix(_ pattern: String) -> String {
        let components = pattern.split(separator: "/", omittingEmptySubsequences: true)
        var literal: [Substring] = []
        for component in components {
            if component.contains(where: { "*?[".contains($0) }) { break }
            literal.append(component)
        }
        return literal.joined(separator: "/")
    }
}

extension WorkingTreeStatus {
    /// A fresh worktree: nothing changed.
    static var clean: WorkingTreeStatus { WorkingTreeStatus(changes: [:]) }
}
