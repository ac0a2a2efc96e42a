import Foundation
import ModelRegistry
import PipelineEngine
import PipelineSpec
import RunStore
import PostgresRunStore

/// `kind: register`: records a model package as a version in a model registry and points
/// aliases at it.
///
/// Reads the package's `mlpipe-model.json` (its SHA-256 is the package digest that makes
/// registration idempotent), the metrics, and the inputs' object ids that the run's
/// stages recorded in the run history, and hands them to a `ModelRegistry`: the local one
/// in the workspace's `mlpipe.db` by default, or an MLflow tracking server. Results:
/// `version` (a number), `name`, and `uri` (`models:/NAME/VERSION`).
///
/// The version lives outside the stage's folder, so a cache hit is trusted only after
/// `verifyCached` has found the version in the registry still.
public struct RegisterKind: StageKind {
    /// Opens the registry a stage's settings name, in the stage's context.
    public typealias Opener = @Sendable (RegisterSettings.Backend, StageContext) throws -> any ModelRegistry

    let openRegistry: Opener

    /// The kind with the real backends.
    public init() {
        self.init(openRegistry: Self.open)
    }

    /// The kind with the registry `openRegistry` gives (a test's in-memory one).
    public init(openRegistry: @escaping Opener) {
        self.openRegistry = openRegistry
    }

    public var schema: KindSchema {
        KindSchema(name: "register", settings: RegisterSettings.self, results: ["version", "name", "uri"])
    }

    public var implementationVersion: String { "1" }

    /// The MLflow token's secret, when one is named.
    public func secrets(for settings: RegisterSettings) -> [String] {
        if case .mlflow(_, let token?) = settings.backend { return [token] }
        return []
    }

    public var cachedResultsLiveOutside: Bool { true }

    /// Whether the cached version is still in the registry.
    public func verifyCached(_ results: [String: Value], settings: RegisterSettings, context: StageContext) async throws -> Bool {
        guard case .string(let name)? = results["name"], case .int(let number)? = results["version"] else { return false }
        return try await openRegistry(settings.backend, context).version(name: name, version: number) != nil
    }

    /// Registers the package and moves the aliases; see the type's documentation.
    public func run(_ context: StageContext, settings: RegisterSettings) async throws -> StageResult {
        let package = try RegisterPackage(at: Self.absolute(settings.package, in: context))
        let inputs = await Self.inputs(context)
        let registration = Registration(
            name: settings.name, packageDigest: package.digest, imageDigest: settings.image?.digest,
            image: settings.image?.reference, metrics: try Self.metrics(settings.metrics, context: context),
            pipeline: context.pipelineName, stage: context.stageName, inputs: inputs,
            scanVerdict: package.scanVerdict, scanReportDigest: package.scanReportDigest,
            provenance: Self.provenance(context, fallbackCommit: package.commit),
            mlflowRunID: settings.mlflowRunID, runLink: settings.runLink)
        let registry = try openRegistry(settings.backend, context)
        let result = try await registry.register(registration)
        let version = result.version
        try Task.checkCancellation()
        context.log.line(result.created
            ? "\(version.name): registered version \(version.version) (package \(package.digest)) in the \(Self.describe(registry))"
            : "\(version.name): package \(package.digest) is already version \(version.version); nothing registered")
        if let image = settings.image, result.created == false, version.imageDigest != image.digest {
            context.log.line("note: version \(version.version) keeps the image it was registered with "
                             + "(\(version.imageDigest ?? "none")), not \(image.digest)")
        }
        for alias in settings.aliases {
            let previous = try await registry.aliasHistory(name: version.name, alias: alias).last
            _ = try await registry.setAlias(alias, name: version.name, version: version.version,
                                            by: registration.provenance)
            let was = previous.map { $0.version == version.version ? " (unchanged)" : " (was \($0.version))" } ?? " (new)"
            context.log.line("alias \(alias) -> \(version.name)@\(version.version)\(was)")
        }
        return StageResult(results: [
            "version": .int(version.version), "name": .string(version.name), "uri": .string(version.uri),
        ])
    }

    // MARK: - Steps

    /// The real backends: the workspace's registry (in `mlpipe.db`, or with the history on
    /// PostgreSQL when `MLPIPE_STORE` names a server), or MLflow with the token from the
    /// stage's secrets.
    static func open(_ backend: RegisterSettings.Backend, _ context: StageContext) throws -> any ModelRegistry {
        let database = context.workspace + "/mlpipe.db"
        switch backend {
        case .local:
            return try StoreModelRegistry.open(databasePath: database)
        case .mlflow(let uri, let tokenName):
            return try MLflowModelRegistry(trackingURI: uri, token: tokenName.flatMap { context.secrets[$0] },
                                           tokenSource: tokenName.map { "secret \($0)" }, historyPath: database)
        }
    }

    /// "local registry" or "MLflow registry at URI", for the log.
    static func describe(_ registry: any ModelRegistry) -> String {
        registry.location.hasPrefix("mlflow:") ? "MLflow registry at \(registry.location.dropFirst(7))" : "local registry"
    }

    /// `path` made absolute against the repository.
    static func absolute(_ path: String, in context: StageContext) -> String {
        path.hasPrefix("/") ? path : context.repositoryRoot + "/" + path
    }

    /// The metrics: read from a JSON file, or as written in the pipeline.
    static func metrics(_ setting: RegisterSettings.Metrics?, context: StageContext) throws -> [String: Double] {
        switch setting {
        case nil: return [:]
        case .values(let values): return values
        case .file(let path):
            let file = absolute(path, in: context)
            let value: Value
            do {
                value = try JSONDecoder().decode(Value.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw StageFailure("cannot read the metrics file \(file): \(error.localizedDescription); "
                                   + "give a JSON object of numbers, such as {\"accuracy\": 0.97}")
            }
            do { return try RegisterSettings.Metrics.flatten(value, source: file) } catch { throw StageFailure(error.message) }
        }
    }

    /// Each input path and its git object id, as the run's stages recorded them in their
    /// cache keys (a stage without inputs stands for the commit's whole tree, `""`, which
    /// is left out when any stage names inputs), read from the store the run is recorded
    /// in (`StageContext.runStore`): the workspace's file, or the PostgreSQL server of
    /// `MLPIPE_STORE`. Empty, with a note in the log, when the run history cannot be read:
    /// the lineage then says the inputs are not known.
    static func inputs(_ context: StageContext) async -> [String: String] {
        guard let store = context.runStore else {
            context.log.line("note: this stage runs without a run history, so the lineage will say its inputs are "
                             + "not known; run it in a pipeline (`mlpipe run`) to record them")
            return [:]
        }
        let stages: [StageRecord]
        do {
            stages = try await store.stages(runID: context.runID)
        } catch {
            context.log.line("note: cannot read the run's inputs for the lineage (\(error)); it will say they are not known")
            return [:]
        }
        var inputs: [String: String] = [:]
        for stage in stages {
            guard let json = stage.keyComponentsJSON, let components = KeyComponents.decode(json) else { continue }
            inputs.merge(components.inputs) { first, _ in first }
        }
        if inputs.count > 1 { inputs.removeValue(forKey: "") }
        return inputs
    }

    /// The run, its commit and the user that mlpipe runs as.
    static func provenance(_ context: StageContext, fallbackCommit: String?) -> Provenance {
        let environment = context.inheritedEnvironment.isEmpty ? ProcessInfo.processInfo.environment
            : context.inheritedEnvironment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
        return Provenance(runID: context.runID, commit: context.commit.isEmpty ? fallbackCommit : context.commit, user: user)
    }
}
