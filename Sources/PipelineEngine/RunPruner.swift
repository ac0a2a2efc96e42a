import ArtifactStore
import Foundation
import GitState
import RunStore

/// What `mlpipe runs prune` removed, or would remove with `--dry-run`.
public struct PruneReport: Sendable {
    /// The runs whose folders went (or would go), oldest first.
    public var runs: [Int64]
    /// The disk space that came back (or would). Bytes of outputs that are also
    /// objects of the store are ``ReclaimedSpace/heldBytes``: `mlpipe cache gc`
    /// frees them once no cache entry keeps the objects.
    public var space: ReclaimedSpace
    /// Whether nothing was removed.
    public var dryRun: Bool
}

/// `mlpipe runs prune`: removes run folders (`workspace/runs/<id>/`, the outputs
/// and logs of a run) while their records stay in the history, marked pruned.
///
/// Run folders are where the bytes of old runs stay: a large output there is a
/// hard link to its object, so `cache gc` alone cannot free it. A `running` run is
/// never pruned: the store only picks finished runs, and a run whose process died
/// has been marked `interrupted` by the time the workspace is open.
public struct RunPruner: Sendable {
    let workspace: Workspace
    let store: any RunStore

    init(workspace: Workspace, store: any RunStore) {
        self.workspace = workspace
        self.store = store
    }

    /// Opens the workspace of the repository around `options.currentDirectory`.
    /// Like the history commands, it reads no git objects, so libgit2 never starts.
    public static func open(_ options: RunOptions) async throws(EngineError) -> RunPruner {
        let workspace = try Workspace.located(options)
        return RunPruner(workspace: workspace, store: try await Backends.open(workspace: workspace).runStore)
    }

    /// Removes the folders of the runs `selection` picks, then marks their records
    /// pruned; with `dryRun`, only says what that would do.
    ///
    /// Folders go first and records are marked after: if removal stops half-way
    /// (a file that cannot be removed), the runs whose folders went are still marked,
    /// the error names what stopped it, and a later prune picks up the rest (a
    /// missing folder is no error).
    public func prune(_ selection: PruneSelection, dryRun: Bool) async throws(EngineError) -> PruneReport {
        let runs: [Int64]
        do {
            runs = try await store.runsToPrune(selection).compactMap(\.id)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        if dryRun {
            do {
                let space = try SpaceReclaimer.estimate(removing: runs.map(workspace.runDirectory))
                return PruneReport(runs: runs, space: space, dryRun: true)
            } catch {
                throw EngineError(.environment, "cannot measure the run folders in \(workspace.runsPath): \(error)", cause: error)
            }
        }
        var space = ReclaimedSpace()
        var removed: [Int64] = []
        var failure: EngineError?
        for id in runs {
            do {
                let freed = try SpaceReclaimer.remove(workspace.runDirectory(id))
                space.freedBytes += freed.freedBytes
                space.heldBytes += freed.heldBytes
                removed.append(id)
            } catch {
                failure = EngineError(.environment,
                    "cannot remove the folder of run #\(id): \(error); fix the permissions and run `mlpipe runs prune` again"
                    + (removed.isEmpty ? "" : " (the folders of \(removed.count) older run(s) were removed and marked pruned)"),
                    cause: error)
                break
            }
        }
        do {
            _ = try await store.markPruned(runIDs: removed, at: Date())
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        if let failure { throw failure }
        return PruneReport(runs: removed, space: space, dryRun: false)
    }

    /// Seconds from an age such as `30d`, `12h` or `90m` (a whole number and one
    /// unit: days, hours or minutes); nil for anything else.
    ///
    /// Deliberately narrower than a stage's `timeout:` (which has seconds and
    /// milliseconds but no days): a run's age is counted in days.
    public static func age(parsing text: String) -> TimeInterval? {
        guard let unit = text.last, let number = Int(text.dropLast()), number >= 0, !text.dropLast().hasPrefix("+") else {
            return nil
        }
        switch unit {
        case "d": return TimeInterval(number) * 86_400
        case "h": return TimeInterval(number) * 3_600
        case "m": return TimeInterval(number) * 60
        default: return nil
        }
    }
}
