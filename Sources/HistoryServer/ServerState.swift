import Foundation
import GitState
import ModelRegistry
import PipelineEngine
import PipelineSpec
import RunStore
import Synchronization

/// What every request reads: the history, the store's page queries, the registry, the
/// workspace whose files may be served, and who may come in.
///
/// Opened once when the server starts. SQLite is in WAL mode, so these readers never
/// wait for a run that is writing, and never make it wait.
final class ServerState: Sendable {
    let history: RunHistory
    let store: SQLiteRunStore
    let registry: LocalModelRegistry
    let workspace: Workspace
    /// The workspace's real path (symlinks resolved): a file is served only under it.
    let workspaceRoot: String
    let access: Access
    let launcher: RunLauncher
    /// To parse a run's recorded pipeline file for its DAG.
    let kindSchemas: [String: KindSchema]
    let secretProviderNames: Set<String>
    /// The webhooks' secret; nil when they are off.
    let webhookSecret: WebhookSecret?
    /// Works through the webhook trigger queue; nil when the webhooks are off.
    let triggers: TriggerWorker?
    /// What the server tells its operator (`mlpipe serve` prints it): never a secret.
    let log: @Sendable (String) -> Void
    /// When interrupted runs were last looked for (seconds since 1970).
    private let lastSweep = Mutex<Double>(0)

    init(configuration: ServeConfiguration, runner: PipelineRunner,
         log: @escaping @Sendable (String) -> Void = { _ in }) async throws(EngineError) {
        let workspace = try Workspace.located(configuration.options)
        history = try await RunHistory.open(configuration.options)
        let store: SQLiteRunStore
        do {
            store = try SQLiteRunStore(path: workspace.databasePath)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        self.store = store
        do {
            registry = try LocalModelRegistry(path: workspace.databasePath)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        self.workspace = workspace
        workspaceRoot = URL(fileURLWithPath: workspace.root).resolvingSymlinksInPath().path
        access = Access(token: configuration.token)
        var options = configuration.options
        options.trigger = .web
        launcher = RunLauncher(runner: runner, options: options)
        kindSchemas = runner.kinds.schemas
        secretProviderNames = SecretProviderRegistry.builtin(repositoryRoot: configuration.options.currentDirectory).names
        self.log = log
        webhookSecret = configuration.webhookSecret
        if configuration.webhookSecret != nil {
            let repositoryRoot: String
            do {
                repositoryRoot = try GitRepository.workingTreeRoot(containing: configuration.options.currentDirectory)
            } catch {
                throw EngineError(.environment, error.description, cause: error)
            }
            triggers = TriggerWorker(store: store, runner: runner, options: configuration.options, workspace: workspace,
                                     repositoryRoot: repositoryRoot, concurrency: configuration.webhookRuns, log: log)
        } else {
            triggers = nil
        }
    }

    /// Marks runs whose process died as interrupted, at most once a second: a page shows
    /// a killed run as `interrupted`, not forever `running`.
    func sweepInterruptedRuns() async {
        let now = Date().timeIntervalSince1970
        let due = lastSweep.withLock { last in
            guard now - last >= 1 else { return false }
            last = now
            return true
        }
        guard due else { return }
        // A failed sweep (the store busy) only delays the label; the page still answers.
        _ = try? await store.markInterruptedRuns()
    }

    /// `path` if it lies inside the workspace once symlinks and `..` are resolved;
    /// nil otherwise. Every file the server opens goes through here.
    func fileInsideWorkspace(_ path: String) -> String? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        return real.hasPrefix(workspaceRoot + "/") ? real : nil
    }
}
