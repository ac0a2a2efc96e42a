import ArtifactStore
import Canonical
import Foundation
import GitState
import PipelineSpec
import RunStore

/// One output that `mlpipe checkout` placed.
public struct CheckedOutOutput: Sendable, Hashable {
    /// The stage that made it.
    public var stage: String
    /// The output's name under the stage's `outputs:`.
    public var name: String
    /// Where it went, relative to the checkout's root: `<stage>/<declared path>`.
    public var path: String
    /// Its digest, `sha256:…` (of the manifest, for a folder).
    public var digest: String
    /// `file` or `tree`.
    public var kind: String
    /// Its size in bytes (a folder: the sum of its files).
    public var size: Int64
    /// True when what was there already had this content, so nothing was written.
    public var unchanged: Bool
}

/// What `mlpipe checkout` did.
public struct CheckoutReport: Sendable {
    public var runID: Int64
    public var pipeline: String
    /// The absolute folder the outputs went under (the repository root, or `--to`).
    public var root: String
    public var outputs: [CheckedOutOutput]
}

/// Copies a run's outputs out of the object store into the working tree (or a folder):
/// `mlpipe checkout RUN [STAGE] [--to DIR]`.
///
/// Layout: output `model: model.joblib` of stage `train` goes to
/// `<root>/train/model.joblib`, the same `<stage>/<path>` that it has under the run's
/// folder `workspace/runs/<run>/` and under `workspace/latest/<pipeline>/`, whichever
/// stage was asked for. The bytes come from the store by digest (checked as they come
/// out), so a pruned run's outputs can be checked out while the store has them, and they
/// are copies, never links into the store: editing a checked-out file cannot damage the
/// cache.
///
/// A file that would be replaced (or, inside a folder output, removed) is left alone,
/// and the checkout refused before anything is written, unless its content can be had
/// again: it is already what would be written, it is an object in the store (an output
/// an earlier checkout put there), or it is tracked by git and unmodified. `force`
/// replaces such files too.
public struct RunCheckout: Sendable {
    let session: Session

    /// Opens the repository and workspace around `options.currentDirectory`.
    public static func open(_ options: RunOptions) async throws(EngineError) -> RunCheckout {
        RunCheckout(session: try await Session.open(options))
    }

    /// Checks out the outputs of run `reference` (one stage's, or every stage's) under
    /// `destination` (relative to `currentDirectory`; nil for the repository root).
    public func checkout(_ reference: String, stage: String?, destination: String?, currentDirectory: String,
                         force: Bool) async throws(EngineError) -> CheckoutReport {
        let history = RunHistory(store: session.runStore)
        let details = try await history.details(reference)
        let runID = details.run.id ?? 0
        let chosen = try outputs(of: details, stage: stage)
        var root = destination.map { $0.hasPrefix("/") ? $0 : currentDirectory + "/" + $0 } ?? session.repo.workdir
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        root = (root as NSString).standardizingPath
        var planned: [(output: OutputRecord, relative: String, object: StoredObject)] = []
        var missing: [String] = []
        for output in chosen {
            guard let digest = Digest(parsing: output.digest), await session.cache.objects.contains(digest) else {
                missing.append("\(output.stage).\(output.name) (\(output.digest.prefix(19))…)")
                continue
            }
            planned.append((output, relativePath(output, runID: runID),
                            StoredObject(digest: digest, kind: ObjectKind(rawValue: output.kind) ?? .file, size: output.size)))
        }
        if !missing.isEmpty {
            let pruned = details.run.prunedAt != nil ? "run #\(runID)'s folder was pruned and " : ""
            throw EngineError(.environment,
                "\(pruned)the store no longer has \(missing.count == 1 ? "this output" : "these outputs") of run #\(runID): "
                + "\(missing.joined(separator: ", ")) (removed by `mlpipe cache gc`, or found damaged); "
                + "`mlpipe rerun \(runID)` makes \(missing.count == 1 ? "it" : "them") again")
        }

        let staging = session.workspace.root + "/tmp/checkout-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var placed: [(OutputRecord, String, String)] = []   // output, relative path, staged copy
        for (output, relative, object) in planned {
            let staged = staging + "/" + relative
            do {
                try await session.cache.objects.materialize(object, at: staged)
            } catch {
                throw EngineError(.environment,
                    "cannot take \(output.stage).\(output.name) of run #\(runID) out of the store: \(error); "
                    + "`mlpipe rerun \(runID)` makes it again", cause: error)
            }
            placed.append((output, relative, staged))
        }

        let writer = CheckoutWriter(root: root, repo: session.repo, objects: session.cache.objects)
        var unchanged = Set<String>()
        var conflicts: [String] = []
        for (_, relative, staged) in placed {
            let verdict = try await writer.inspect(relative, staged: staged)
            switch verdict {
            case .same: unchanged.insert(relative)
            case .replaceable: break
            case .conflicts(let files): conflicts += files
            }
        }
        if !conflicts.isEmpty && !force {
            let shown = conflicts.prefix(5).joined(separator: ", ") + (conflicts.count > 5 ? ", and \(conflicts.count - 5) more" : "")
            throw EngineError(.environment,
                "checkout would overwrite \(conflicts.count == 1 ? "a file" : "\(conflicts.count) files") under \(root) "
                + "that \(conflicts.count == 1 ? "has" : "have") changes of your own: \(shown); "
                + "commit or move \(conflicts.count == 1 ? "it" : "them"), check out elsewhere with --to DIR, or pass --force")
        }
        var report: [CheckedOutOutput] = []
        for (output, relative, staged) in placed {
            let same = unchanged.contains(relative)
            if !same { try writer.place(staged, at: relative) }
            report.append(CheckedOutOutput(stage: output.stage, name: output.name, path: relative, digest: output.digest,
                                           kind: output.kind, size: output.size, unchanged: same))
        }
        return CheckoutReport(runID: runID, pipeline: details.run.pipeline, root: root, outputs: report)
    }

    /// The outputs to check out: one stage's, or all the run recorded.
    func outputs(of details: RunDetails, stage: String?) throws(EngineError) -> [OutputRecord] {
        let runID = details.run.id ?? 0
        guard let stage else {
            guard !details.outputs.isEmpty else {
                throw EngineError(.definition,
                    "run #\(runID) recorded no outputs (it \(details.run.status.rawValue)); `mlpipe runs show \(runID)` shows its stages")
            }
            return details.outputs
        }
        guard let record = details.stages.first(where: { $0.name == stage }) else {
            let names = details.stages.map(\.name)
            throw EngineError(.definition, "run #\(runID) has no stage '\(stage)'"
                + (Suggestions.closest(to: stage, in: names).map { "; did you mean '\($0)'?" }
                   ?? " (stages: \(names.joined(separator: ", ")))"))
        }
        let outputs = details.outputs(of: stage)
        guard !outputs.isEmpty else {
            let why = [.succeeded, .cached].contains(record.status) ? "it declares none" : "it was \(record.status.rawValue)"
            throw EngineError(.definition, "stage '\(stage)' of run #\(runID) has no recorded outputs: \(why)")
        }
        return outputs
    }

    /// `<stage>/<declared path>`: the part of the recorded path below the stage's folder.
    func relativePath(_ output: OutputRecord, runID: Int64) -> String {
        let folder = session.workspace.stageDirectory(run: runID, stage: output.stage) + "/"
        if output.path.hasPrefix(folder) { return output.stage + "/" + output.path.dropFirst(folder.count) }
        // A workspace that moved since: the path still ends in runs/<run>/<stage>/<path>.
        let marker = "/\(runID)/\(output.stage)/"
        if let range = output.path.range(of: marker, options: .backwards) {
            return output.stage + "/" + output.path[range.upperBound...]
        }
        return output.stage + "/" + (output.path.split(separator: "/").last.map(String.init) ?? output.name)
    }
}
