import Foundation
import RunStore

/// Deploys model versions as local services on 127.0.0.1, and confirms, rolls back and
/// stops them: the `local` target of `kind: deploy`, and `mlpipe deployments`.
///
/// The life of a deployment of name N:
/// 1. `deploy` copies the package and the serving app into a folder of its own
///    (`workspace/deploy/N/v<version>-<time>/`, so a pruned run or a re-run's temporary
///    worktree takes nothing from under it), starts the app beside the deployment of N
///    that runs now, waits for it to be ready, and records it as `candidate`.
/// 2. `confirm` (a passed smoke test) makes it `serving` and stops the others of N.
/// 3. `rollback` (a failed smoke test, `deployments rollback N`) stops it and makes the
///    one it replaced `serving` again, starting that one again if it is not running.
///
/// Aliases are the caller's: this type records which alias a deployment moved and where
/// it pointed before, and a rollback hands that back.
public struct LocalDeployer: Sendable {
    /// The deployments' table.
    public let store: DeploymentStore
    /// The workspace folder.
    public let workspace: String
    /// The serving app's grace period when the deploy's `env:` sets none: seconds it gives
    /// in-flight requests once told to stop (`MLPIPE_GRACEFUL_TIMEOUT`, passed to it).
    public static let defaultGracefulTimeout = 30
    /// What the app's supervisor allows its workers beyond the grace period before it
    /// kills them; SIGKILL from here comes only after that too.
    static let stopMargin = 5.0

    /// A deployer for the workspace at `workspace` (its `mlpipe.db`).
    public init(workspace: String) throws(DeploymentError) {
        self.workspace = workspace
        store = try DeploymentStore(path: workspace + "/mlpipe.db")
    }

    /// Starts the service and waits for it to be ready; see the type's documentation.
    /// A service that exits or is not ready in time is stopped, recorded `failed`, and
    /// thrown as `notReady` with the last lines of its log.
    public func deploy(_ request: LocalDeployRequest, log: @Sendable (String) -> Void) async throws -> DeploymentRecord {
        let previous = try current(name: request.name)
        if let previous, Self.runs(request, already: previous) {
            log("\(previous.modelVersion) already runs as deployment #\(previous.id) at \(previous.endpoint) with these "
                + "settings; nothing started (`mlpipe deployments stop \(request.name)` first to start it afresh)")
            return previous
        }
        let folder = try makeFolder(request)
        let port = try request.port ?? ServiceProcess.freePort()
        let launch = LaunchSpec(python: request.python, app: folder + "/app", package: folder + "/package",
                                modelVersion: request.version, port: port, environment: request.environment,
                                tokenSecret: request.token?.secret, tlsCertificate: request.tlsCertificate,
                                tlsKey: request.tlsKey, aliasRegistry: request.aliasRegistry)
        let logPath = folder + "/service.log"
        let process = try start(launch, token: request.token?.value, folder: folder, log: logPath)
        log("started \(request.model)@\(request.version) as pid \(process.pid) on \(launch.endpoint) "
            + "(log \(logPath))" + (previous.map { "; deployment #\($0.id) (\($0.modelVersion)) keeps serving" } ?? ""))
        var record = DeploymentRecord(
            id: 0, name: request.name, target: "local", model: request.model, version: request.version,
            endpoint: launch.endpoint, status: .starting, pid: process.pid, pidStartTime: process.startTime,
            host: ProcessIdentity.hostName(), folder: folder, logPath: logPath, alias: request.alias,
            aliasWas: request.aliasWas, replaces: previous?.id, runID: request.runID, stage: request.stage,
            createdAt: Date(), launch: launch)
        do {
            record = try store.insert(record)
        } catch {
            await process.stop(grace: Self.stopGrace(for: launch))
            throw error
        }
        do {
            try await waitReady(process, endpoint: launch.endpoint, timeout: request.readyTimeout, logPath: logPath)
        } catch {
            await process.stop(grace: Self.stopGrace(for: launch))
            try store.setStatus(.failed, of: record.id)
            throw error
        }
        try store.setStatus(.candidate, of: record.id)
        record.status = .candidate
        return record
    }

    /// Makes deployment `id` the one serving its name and stops the others of that name
    /// that still run (the version it replaced); returns those it stopped.
    public func confirm(_ id: Int64) async throws -> [DeploymentRecord] {
        guard let record = try store.record(id: id) else { throw notFound(id) }
        try store.setStatus(.serving, of: id)
        var stopped: [DeploymentRecord] = []
        for other in try store.list(name: record.name) where other.id != id && other.status.expectsProcess {
            await ServiceProcess(pid: other.pid, startTime: other.pidStartTime).stop(grace: Self.stopGrace(for: other.launch))
            try store.setStatus(.stopped, of: other.id)
            stopped.append(other)
        }
        return stopped
    }

    /// What a rollback did.
    public struct Rollback: Sendable {
        /// The deployment that was stopped.
        public var stopped: DeploymentRecord
        /// The one serving now, if there was one to go back to.
        public var restored: DeploymentRecord?
        /// Whether `restored` had to be started again (it was not running).
        public var restarted: Bool
    }

    /// Stops deployment `id` (recorded `rolled-back`) and makes the one it replaced serve
    /// again, starting it when it does not run; `environment` is where a restarted
    /// service's token secret is read (by its name).
    public func rollback(_ id: Int64, environment: [String: String],
                         log: @Sendable (String) -> Void) async throws -> Rollback {
        guard let record = try store.record(id: id) else { throw notFound(id) }
        guard record.launch != nil else {
            throw DeploymentError(.usage, "deployment #\(id) (\(record.modelVersion)) is a \(record.target) deployment, "
                                  + "which mlpipe does not run", remedy: "roll it back on its cluster (`kubectl rollout undo`)")
        }
        await ServiceProcess(pid: record.pid, startTime: record.pidStartTime).stop(grace: Self.stopGrace(for: record.launch))
        try store.setStatus(.rolledBack, of: id)
        log("stopped deployment #\(id) (\(record.modelVersion), pid \(record.pid)): rolled back")
        guard let previousID = record.replaces, var previous = try store.record(id: previousID) else {
            return Rollback(stopped: record, restored: nil, restarted: false)
        }
        var restarted = false
        if !(previous.status.expectsProcess && previous.processIsAlive) {
            previous = try await restart(previous, environment: environment)
            restarted = true
            log("started deployment #\(previous.id) (\(previous.modelVersion)) again as pid \(previous.pid)")
        }
        try store.setStatus(.serving, of: previous.id)
        previous.status = .serving
        log("deployment #\(previous.id) (\(previous.modelVersion)) serves \(record.name) at \(previous.endpoint)")
        return Rollback(stopped: record, restored: previous, restarted: restarted)
    }

    /// Seconds a stopped service gets before SIGKILL: its grace period (`gracefulTimeout`)
    /// and the margin its supervisor takes to end workers that overran it.
    public static func stopGrace(for launch: LaunchSpec?) -> Double {
        Double(gracefulTimeout(of: launch)) + stopMargin
    }

    /// The seconds the app gives in-flight requests once it is told to stop: the deploy's
    /// `env:` MLPIPE_GRACEFUL_TIMEOUT when it is a whole number, else the default.
    public static func gracefulTimeout(of launch: LaunchSpec?) -> Int {
        launch?.environment["MLPIPE_GRACEFUL_TIMEOUT"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            .flatMap { $0 >= 0 ? $0 : nil } ?? defaultGracefulTimeout
    }

    /// Stops every running deployment of `name`, each with SIGTERM and its grace period
    /// before SIGKILL (in-flight requests finish, new connections are refused); returns
    /// those it stopped. An unknown name throws with the known ones.
    public func stop(name: String) async throws -> [DeploymentRecord] {
        let all = try store.list(name: name)
        guard !all.isEmpty else { throw try unknownName(name) }
        var stopped: [DeploymentRecord] = []
        for record in all where record.status.expectsProcess {
            await ServiceProcess(pid: record.pid, startTime: record.pidStartTime).stop(grace: Self.stopGrace(for: record.launch))
            try store.setStatus(.stopped, of: record.id)
            stopped.append(record)
        }
        return stopped
    }

    /// The deployment of `name` that answers now: the newest `serving` or `candidate` one
    /// whose process runs, or nil.
    public func current(name: String) throws(DeploymentError) -> DeploymentRecord? {
        try store.list(name: name).last { $0.status.expectsProcess && $0.status != .starting && $0.processIsAlive }
    }

    /// The error for a name without deployments, with the names there are.
    public func unknownName(_ name: String) throws(DeploymentError) -> DeploymentError {
        let known = try store.names()
        return DeploymentError(.notFound, "no deployment is named '\(name)'",
                               remedy: known.isEmpty ? "deploy one with a `kind: deploy` stage"
                                   : "known: \(known.joined(separator: ", ")) (see `mlpipe deployments list`)")
    }

    // MARK: - Steps

    /// Whether `running` already is what `request` asks for: the same version, runtime,
    /// environment, token secret (by name), TLS files and port (when one is asked for).
    /// Re-running a pipeline then leaves the service alone instead of replacing it with
    /// a copy of itself. A token rotated under the same secret name is not noticed.
    static func runs(_ request: LocalDeployRequest, already running: DeploymentRecord) -> Bool {
        guard let launch = running.launch else { return false }
        return running.model == request.model && running.version == request.version
            && launch.python == request.python && launch.environment == request.environment
            && launch.tokenSecret == request.token?.secret && launch.tlsCertificate == request.tlsCertificate
            && launch.tlsKey == request.tlsKey && launch.aliasRegistry == request.aliasRegistry
            && (request.port == nil || request.port == launch.port)
    }

    private func notFound(_ id: Int64) -> DeploymentError {
        DeploymentError(.notFound, "there is no deployment #\(id) in \(store.path)",
                        remedy: "see `mlpipe deployments list`")
    }

    /// A fresh folder with copies of the package and the app (without its tests).
    private func makeFolder(_ request: LocalDeployRequest) throws(DeploymentError) -> String {
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        let folder = "\(workspace)/deploy/\(request.name)/v\(request.version)-\(stamp)"
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try manager.copyItem(atPath: request.package, toPath: folder + "/package")
            try manager.copyItem(atPath: request.app, toPath: folder + "/app")
            for unused in ["tests", "__pycache__", ".pytest_cache", "Dockerfile"] {
                let path = folder + "/app/" + unused
                if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            }
        } catch {
            throw DeploymentError(.files, "cannot copy the package and the serving app into \(folder): "
                                  + error.localizedDescription, remedy: "check that the workspace is writable and has space")
        }
        return folder
    }

    /// Starts the app as `launch` says.
    private func start(_ launch: LaunchSpec, token: String?, folder: String, log: String) throws(DeploymentError) -> ServiceProcess {
        var environment = launch.environment
        let inherited = ProcessInfo.processInfo.environment
        environment["PATH"] = environment["PATH"] ?? inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for name in ["HOME", "LANG", "TZ"] where environment[name] == nil { environment[name] = inherited[name] }
        environment["PYTHONPATH"] = launch.app
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["MLPIPE_MODEL_DIR"] = launch.package
        environment["MLPIPE_MODEL_VERSION"] = String(launch.modelVersion)
        environment["HOST"] = "127.0.0.1"
        environment["PORT"] = String(launch.port)
        environment["MLPIPE_AUTH_JWT_KEY"] = token
        environment["MLPIPE_TLS_CERT"] = launch.tlsCertificate
        environment["MLPIPE_TLS_KEY"] = launch.tlsKey
        // The grace period mlpipe waits for when it stops the service, said to the app too.
        if environment["MLPIPE_GRACEFUL_TIMEOUT"] == nil {
            environment["MLPIPE_GRACEFUL_TIMEOUT"] = String(Self.defaultGracefulTimeout)
        }
        return try ServiceProcess.start([launch.python, "-m", "mlpipe_serving"], environment: environment,
                                        folder: folder, log: log)
    }

    /// Starts a stopped deployment again from its folder, as it ran, and waits for it.
    private func restart(_ record: DeploymentRecord, environment: [String: String]) async throws -> DeploymentRecord {
        guard let launch = record.launch else {
            throw DeploymentError(.usage, "deployment #\(record.id) (\(record.modelVersion)) is a \(record.target) "
                                  + "deployment, which mlpipe does not start", remedy: "roll it back on its cluster")
        }
        var token: String?
        if let secret = launch.tokenSecret {
            guard let value = environment[secret] else {
                throw DeploymentError(.usage, "deployment #\(record.id) (\(record.modelVersion)) needs the secret "
                                      + "'\(secret)' for its token to start again",
                                      remedy: "export \(secret) with the token's value and run the rollback again")
            }
            token = value
        }
        let process = try start(launch, token: token, folder: record.folder, log: record.logPath)
        try store.setProcess(of: record.id, pid: process.pid, startTime: process.startTime, status: .starting)
        do {
            try await waitReady(process, endpoint: record.endpoint, timeout: 60, logPath: record.logPath)
        } catch {
            await process.stop(grace: Self.stopGrace(for: launch))
            try store.setStatus(.failed, of: record.id)
            throw error
        }
        var restarted = record
        restarted.pid = process.pid
        restarted.pidStartTime = process.startTime
        return restarted
    }

    /// Waits for `/v2/health/ready`; turns a failure into `notReady` with the log's tail.
    private func waitReady(_ process: ServiceProcess, endpoint: ServiceEndpoint, timeout: Double,
                           logPath: String) async throws {
        do {
            try await ReadinessProbe(endpoint: endpoint, timeout: timeout).wait { process.isAlive }
        } catch let failure as ReadinessProbe.Failure {
            let what = switch failure {
            case .exited: "the service at \(endpoint) exited before it was ready"
            case .timedOut(let last):
                "the service at \(endpoint) was not ready within \(Self.seconds(timeout)) (last answer: \(last))"
            }
            throw DeploymentError(.notReady, what, remedy: "its log \(logPath) ends with",
                                  logTail: ServiceProcess.tail(of: logPath))
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
