import ArtifactStore
import Foundation
import PipelineSpec
import S3Store
import Synchronization

/// A run's connection to its remote cache, and whether it still works.
///
/// A remote that is down or denies access is said once per run (as a warning on the
/// first stage that would have used it) and then left alone, so the run goes on locally.
/// With `--remote-required` the same failure fails the run instead.
final class RemoteLink: Sendable {
    let remote: any RemoteCache
    let required: Bool
    /// Temporary downloads and uploads, on the workspace's file system.
    let scratch: String

    private struct State {
        /// Why the remote is not used, once it failed.
        var down: String?
        var warned = false
    }

    private let state: Mutex<State>

    init(remote: any RemoteCache, required: Bool, scratch: String, down: String? = nil) {
        self.remote = remote
        self.required = required
        self.scratch = scratch
        self.state = Mutex(State(down: down))
    }

    /// Whether the remote is still used.
    var isUp: Bool { state.withLock { $0.down == nil } }

    /// Stops using the remote after `error`; the warning to show, unless one was shown.
    func markDown(_ error: S3Error) -> String? {
        state.withLock { state in
            if state.down == nil { state.down = error.message }
            return Self.takeWarning(&state, remote: remote)
        }
    }

    /// The warning about a remote found down (by another stage, or before the run), the
    /// first time it is asked.
    func pendingWarning() -> String? {
        state.withLock { Self.takeWarning(&$0, remote: remote) }
    }

    private static func takeWarning(_ state: inout State, remote: any RemoteCache) -> String? {
        guard let down = state.down, !state.warned else { return nil }
        state.warned = true
        return "the remote cache \(remote) cannot be used (\(down)); this run goes on without it (--remote-required makes this an error)"
    }

    /// The remote a run uses: `--remote`, else `MLPIPE_REMOTE`, else the pipeline's
    /// `remote:`; nil when none is set. With `required`, checks it first: a failure is an
    /// error before anything runs.
    static func open(options: RunOptions, pipeline: Pipeline, secrets: ResolvedSecrets, workspace: Workspace,
                     environment: [String: String],
                     factory: @Sendable (RemoteURL, S3Credentials?) -> any RemoteCache) async throws(EngineError) -> RemoteLink? {
        guard let setting = try setting(options: options, pipeline: pipeline, environment: environment) else { return nil }
        let credentials = try credentials(for: setting, secrets: secrets, environment: environment)
        let remote = factory(setting.url, credentials)
        let scratch = workspace.root + "/tmp/remote"
        // Checked up front only when required, so that the run stops before it starts;
        // otherwise the first stage that misses locally finds out, and a run whose stages
        // are all local hits pays no round trip.
        guard options.remoteRequired else { return RemoteLink(remote: remote, required: false, scratch: scratch) }
        do {
            try await remote.check()
            return RemoteLink(remote: remote, required: true, scratch: scratch)
        } catch {
            throw EngineError(.environment, "the remote cache \(remote) is required (--remote-required) but cannot be used: \(secrets.masker.mask(error.message))")
        }
    }

    /// The setting that applies, with `--remote` and `MLPIPE_REMOTE` checked by the same
    /// parser as the pipeline's `remote:`.
    static func setting(options: RunOptions, pipeline: Pipeline?,
                        environment: [String: String]) throws(EngineError) -> RemoteSetting? {
        let given: (String, String)? = options.remote.map { ("--remote", $0) }
            ?? environment["MLPIPE_REMOTE"].flatMap { $0.isEmpty ? nil : ("MLPIPE_REMOTE", $0) }
        guard let (source, text) = given else { return pipeline?.remote }
        do {
            var setting = RemoteSetting(url: try RemoteURL(parsing: text))
            // Secrets named by the pipeline's remote still apply to the same bucket.
            if let declared = pipeline?.remote, declared.url.bucket == setting.url.bucket {
                setting.accessKeyIDSecret = declared.accessKeyIDSecret
                setting.secretAccessKeySecret = declared.secretAccessKeySecret
                setting.sessionTokenSecret = declared.sessionTokenSecret
            }
            return setting
        } catch {
            throw EngineError(.definition, "\(source): \(error.description)")
        }
    }

    /// The declared secrets the setting names, else `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); nil sends unsigned requests.
    static func credentials(for setting: RemoteSetting, secrets: ResolvedSecrets,
                            environment: [String: String]) throws(EngineError) -> S3Credentials? {
        if let idName = setting.accessKeyIDSecret, let secretName = setting.secretAccessKeySecret {
            guard let id = secrets.values[idName], let secret = secrets.values[secretName] else {
                throw EngineError(.environment, "the secrets of remote \(setting.url) (\(idName), \(secretName)) were not resolved")
            }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret,
                                 sessionToken: setting.sessionTokenSecret.flatMap { secrets.values[$0] })
        }
        return S3Credentials.fromEnvironment(environment)
    }
}
