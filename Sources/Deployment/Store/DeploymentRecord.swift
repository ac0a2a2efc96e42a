import Foundation
import RunStore

/// One deployment: a model version started as a service, or rendered (and perhaps applied)
/// for a cluster, a row of the `deployment` table.
///
/// Everything but `status`, `stoppedAt` and `smoke` is fixed when the service starts. A
/// cluster deployment has no process here: its `pid` and `pidStartTime` are 0, `folder`
/// is its manifests' folder, `logPath` is empty and `launch` is nil.
/// `state` is what a user is shown: the status, or `dead` when the process that should
/// serve is gone.
public struct DeploymentRecord: Sendable, Hashable {
    /// The row's id, from 1: what `deployment` results and `--json` name.
    public var id: Int64
    /// The deployment's name (the model's, unless the stage sets `name`).
    public var name: String
    /// `local`, `kubernetes` or `knative`.
    public var target: String
    /// The model and version it serves.
    public var model: String
    public var version: Int
    /// Where it answers.
    public var endpoint: ServiceEndpoint
    /// The stored status.
    public var status: DeploymentStatus
    /// The service's process (the leader of its own session) and its start time.
    public var pid: Int32
    public var pidStartTime: Int64
    /// The machine it runs on.
    public var host: String
    /// Its folder under the workspace (the app's and the package's copies).
    public var folder: String
    /// The service's log.
    public var logPath: String
    /// The alias the deploy moved to this version (`promote:`), and the version it held
    /// before (nil: it did not exist).
    public var alias: String?
    public var aliasWas: Int?
    /// The deployment this one replaces once confirmed (the one serving when it started).
    public var replaces: Int64?
    /// The run and stage that made it.
    public var runID: Int64?
    public var stage: String?
    /// When it started, and when it stopped.
    public var createdAt: Date
    public var stoppedAt: Date?
    /// Its smoke test's conclusion, once one ran.
    public var smoke: SmokeVerdict?
    /// How to start it again; nil for a cluster deployment, which mlpipe never starts.
    public var launch: LaunchSpec?

    /// Creates a record.
    public init(id: Int64, name: String, target: String, model: String, version: Int, endpoint: ServiceEndpoint,
                status: DeploymentStatus, pid: Int32, pidStartTime: Int64, host: String, folder: String,
                logPath: String, alias: String? = nil, aliasWas: Int? = nil, replaces: Int64? = nil,
                runID: Int64? = nil, stage: String? = nil, createdAt: Date, stoppedAt: Date? = nil,
                smoke: SmokeVerdict? = nil, launch: LaunchSpec?) {
        self.id = id
        self.name = name
        self.target = target
        self.model = model
        self.version = version
        self.endpoint = endpoint
        self.status = status
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.host = host
        self.folder = folder
        self.logPath = logPath
        self.alias = alias
        self.aliasWas = aliasWas
        self.replaces = replaces
        self.runID = runID
        self.stage = stage
        self.createdAt = createdAt
        self.stoppedAt = stoppedAt
        self.smoke = smoke
        self.launch = launch
    }

    /// Whether its process runs: the pid with the same start time, on this machine. A
    /// deployment on another host is taken at its word.
    public var processIsAlive: Bool {
        guard host == ProcessIdentity.hostName() else { return status.expectsProcess }
        return ProcessIdentity.isAlive(pid: pid, startTime: pidStartTime)
    }

    /// The status, or `dead` when it should be running and is not.
    public var state: String {
        status.expectsProcess && !processIsAlive ? "dead" : status.rawValue
    }

    /// `NAME@VERSION` of the model.
    public var modelVersion: String { "\(model)@\(version)" }
}
