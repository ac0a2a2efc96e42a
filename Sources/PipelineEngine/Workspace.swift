import Foundation
import GitState

/// The folder that holds mlpipe's state for a repository: `workspace/` at its root.
///
///     workspace/mlpipe.db          run history (SQLite, WAL)
///     workspace/objects/           content-addressed outputs
///     workspace/runs/<id>/<stage>/ each run's outputs and logs
///     workspace/locks/             one lock file per cache key being computed
///     workspace/worktrees/         temporary worktrees for re-runs of old commits
///
/// Creating it writes `workspace/.gitignore` with `*`, so that nothing mlpipe writes
/// ever makes the repository dirty.
public struct Workspace: Sendable {
    public let root: String

    public var databasePath: String { root + "/mlpipe.db" }
    public var objectsPath: String { root + "/objects" }
    public var runsPath: String { root + "/runs" }
    public var locksPath: String { root + "/locks" }
    public var worktreesPath: String { root + "/worktrees" }

    public func runDirectory(_ run: Int64) -> String { "\(runsPath)/\(run)" }
    public func stageDirectory(run: Int64, stage: String) -> String { "\(runsPath)/\(run)/\(stage)" }
    public func logPath(run: Int64, stage: String) -> String { "\(runsPath)/\(run)/\(stage).log" }

    /// The workspace of the repository at `repositoryRoot`: `workspace/` at its root.
    public init(repositoryRoot: String) {
        root = repositoryRoot + "/workspace"
    }

    /// The workspace of the repository at `repositoryRoot`, or `override` when given: an
    /// absolute path, or one relative to `currentDirectory`, the folder the command was
    /// given (`RunOptions.currentDirectory`), which need not be the process's own.
    public init(repositoryRoot: String, override: String?, currentDirectory: String) {
        if let override, !override.isEmpty {
            root = override.hasPrefix("/") ? override : currentDirectory + "/" + override
        } else {
            root = repositoryRoot + "/workspace"
        }
    }

    /// Makes the folders, or says why it cannot (exit 3).
    public func prepare() throws(EngineError) {
        let fm = FileManager.default
        do {
            for dir in [root, objectsPath, runsPath, locksPath] {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            let ignore = root + "/.gitignore"
            if !fm.fileExists(atPath: ignore) {
                try Data("# mlpipe's state: never committed\n*\n".utf8).write(to: URL(fileURLWithPath: ignore), options: .atomic)
            }
        } catch {
            throw EngineError(.environment,
                "cannot write the workspace at \(root): \(error.localizedDescription); make the folder writable or pass --workspace PATH")
        }
        guard access(root, W_OK) == 0 else {
            throw EngineError(.environment,
                "the workspace at \(root) is not writable; fix its permissions or pass --workspace PATH")
        }
    }

    /// The prepared workspace of the repository around `options.currentDirectory`, found
    /// without opening the repository: the history commands (`runs`, `logs`, `runs
    /// prune`) need the workspace, not git's objects, so libgit2 never starts for them.
    public static func located(_ options: RunOptions) throws(EngineError) -> Workspace {
        let root: String
        do {
            root = try GitRepository.workingTreeRoot(containing: options.currentDirectory)
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        let workspace = Workspace(repositoryRoot: root, override: options.workspace, currentDirectory: options.currentDirectory)
        try workspace.prepare()
        return workspace
    }
}
