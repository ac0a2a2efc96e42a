import AsyncHTTPClient
import Foundation

/// The model registry of an MLflow tracking server, through its REST API 2.0, with the
/// alias history kept beside it in the workspace's SQLite file (MLflow keeps none).
///
/// - A version is `model-versions/create` with `source` (the image by digest,
///   `docker://REGISTRY/REPO@sha256:…`, or `mlpipe://package/sha256:…` without an image:
///   MLflow refuses local paths), MLflow's `run_id`/`run_link` when given, and mlpipe's
///   tags (`MLflowTags`); registration waits until MLflow says `READY`.
/// - Idempotency: a search on the package-digest tag before creating. Two processes that
///   race past the search both create a version; each then searches again, and the one
///   whose version is not the lowest with that digest deletes its own and returns the
///   lowest. Both end with the same version, and the registry with one.
/// - Aliases are MLflow's (`registered-models/alias`); each move is also appended to the
///   local history under `mlflow:<tracking URI>`.
public final class MLflowModelRegistry: ModelRegistry {
    /// `mlflow:<tracking URI>`.
    public let location: String
    let client: MLflowClient
    /// The local file that keeps the alias history.
    let history: RegistryDatabase
    /// How long registration waits for a version to become `READY`.
    let readyTimeout: Duration
    let now: @Sendable () -> Date

    /// A registry on the tracking server at `trackingURI`.
    ///
    /// - Parameters:
    ///   - token: A bearer token, or nil for a server without authentication.
    ///   - tokenSource: Where the token came from (`secret MLFLOW_TOKEN`), for messages.
    ///   - historyPath: The SQLite file that keeps alias moves (`workspace/mlpipe.db`).
    ///   - readyTimeout: How long registration waits for `READY`.
    public init(trackingURI: String, token: String?, tokenSource: String?, historyPath: String,
                requestTimeout: Int64 = 30, readyTimeout: Duration = .seconds(120),
                now: @escaping @Sendable () -> Date = { Date() }) throws(RegistryError) {
        var uri = trackingURI
        while uri.hasSuffix("/") { uri.removeLast() }
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw RegistryError(.invalidName, "'\(trackingURI)' is not an MLflow tracking URI",
                                remedy: "give the server's base URL, for example http://127.0.0.1:5000")
        }
        location = "mlflow:" + uri
        client = MLflowClient(trackingURI: uri, token: token, tokenSource: tokenSource, timeout: requestTimeout,
                              http: MLflowClient.sharedHTTP)
        history = try RegistryDatabase(path: historyPath)
        self.readyTimeout = readyTimeout
        self.now = now
    }

    public func register(_ registration: Registration) async throws(RegistryError) -> RegistrationResult {
        try ModelNames.checkModel(registration.name)
        try ModelNames.checkDigest(registration.packageDigest)
        let name = registration.name
        if let existing = try await holders(of: registration.packageDigest, name: name).first {
            return RegistrationResult(version: try await require(name, existing.number), created: false)
        }
        do {
            let _: MLflowMessages.RegisteredModelResponse = try await client.post(
                "registered-models/create", MLflowMessages.CreateModel(name: name))
        } catch let error where (error.cause as? MLflowClient.Failure)?.errorCode == "RESOURCE_ALREADY_EXISTS" {
            // Registered before, by this process or another.
        }
        let source = registration.source ?? registration.image.map { "docker://" + $0 }
            ?? "mlpipe://package/" + registration.packageDigest
        let created: MLflowMessages.ModelVersionResponse = try await client.post("model-versions/create", MLflowMessages.CreateVersion(
            name: name, source: source, run_id: registration.mlflowRunID, run_link: registration.runLink,
            tags: try MLflowTags.tags(of: registration),
            description: "Registered by mlpipe" + (registration.pipeline.map { " from pipeline \($0)" } ?? "")))
        let ours = created.model_version.number
        try await waitUntilReady(name, ours)

        // Another process may have registered the same package meanwhile: the lowest
        // version with the digest wins, and a loser removes its own.
        let lowest = try await holders(of: registration.packageDigest, name: name).first?.number ?? ours
        if lowest != ours {
            try await client.delete("model-versions/delete", MLflowMessages.DeleteVersion(name: name, version: String(ours)))
            return RegistrationResult(version: try await require(name, lowest), created: false)
        }
        return RegistrationResult(version: try await require(name, ours), created: true)
    }

    public func setAlias(_ alias: String, name: String, version: Int, by provenance: Provenance) async throws(RegistryError) -> AliasMove {
        try ModelNames.checkModel(name)
        try ModelNames.checkAlias(alias)
        _ = try await require(name, version)
        let _: MLflowMessages.Empty = try await client.post(
            "registered-models/alias", MLflowMessages.SetAlias(name: name, alias: alias, version: String(version)))
        let time = now()
        return try history.write("record the move of alias '\(alias)' of model '\(name)'") { db in
            try AliasLedger.move(db, registry: location, name: name, alias: alias, version: version,
                                 provenance: provenance, at: time)
        }
    }

    public func version(name: String, version: Int) async throws(RegistryError) -> ModelVersion? {
        try ModelNames.checkModel(name)
        let found: MLflowMessages.ModelVersionResponse? = try await client.getIfExists(
            "model-versions/get", [("name", name), ("version", String(version))])
        return found.map { MLflowTags.version($0.model_version) }
    }

    public func resolve(_ reference: ModelReference) async throws(RegistryError) -> ModelVersion {
        let name = reference.name
        switch reference.selector {
        case .latest:
            guard let newest = try await versions(name: name).last else {
                throw RegistryError.unknownVersion(0, of: name, at: location, known: [])
            }
            return newest
        case .version(let number):
            return try await require(name, number)
        case .alias(let alias):
            let found: MLflowMessages.ModelVersionResponse? = try await client.getIfExists(
                "registered-models/alias", [("name", name), ("alias", alias)])
            guard let found else {
                let model = try await registeredModel(name)
                throw RegistryError.unknownAlias(alias, of: name, at: location, known: (model.aliases ?? []).map(\.alias))
            }
            return MLflowTags.version(found.model_version)
        }
    }

    public func versions(name: String) async throws(RegistryError) -> [ModelVersion] {
        let model = try await registeredModel(name)
        var aliases: [Int: [String]] = [:]
        for entry in model.aliases ?? [] { aliases[Int(entry.version) ?? 0, default: []].append(entry.alias) }
        return try await search(filter: "name='\(name)'").map { MLflowTags.version($0, aliases: aliases[$0.number] ?? []) }
    }

    public func models() async throws(RegistryError) -> [ModelSummary] {
        var summaries: [ModelSummary] = []
        var token: String?
        repeat {
            var query = [("max_results", "1000")]
            if let token { query.append(("page_token", token)) }
            let page: MLflowMessages.ModelSearch = try await client.get("registered-models/search", query)
            for model in page.registered_models ?? [] {
                let versions = try await search(filter: "name='\(model.name)'")
                var aliases: [String: Int] = [:]
                for entry in model.aliases ?? [] { aliases[entry.alias] = Int(entry.version) }
                let updated = versions.compactMap(\.creation_timestamp).max() ?? model.creation_timestamp ?? 0
                summaries.append(ModelSummary(name: model.name, latestVersion: versions.last?.number,
                                              versionCount: versions.count, aliases: aliases,
                                              updatedAt: Date(timeIntervalSince1970: Double(updated) / 1000)))
            }
            token = page.next_page_token.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return summaries.sorted { $0.name < $1.name }
    }

    public func aliasHistory(name: String, alias: String) async throws(RegistryError) -> [AliasMove] {
        try history.read("read the history of alias '\(alias)' of model '\(name)'") { db in
            try AliasLedger.history(db, registry: location, name: name, alias: alias)
        }
    }

    // MARK: - Steps

    /// The versions of `name` that carry `digest`, lowest first.
    private func holders(of digest: String, name: String) async throws(RegistryError) -> [MLflowMessages.ModelVersion] {
        try await search(filter: "name='\(name)' AND tags.`\(MLflowTags.packageDigest)`='\(digest)'")
    }

    /// Every version a filter finds, all pages, lowest version first.
    private func search(filter: String) async throws(RegistryError) -> [MLflowMessages.ModelVersion] {
        var found: [MLflowMessages.ModelVersion] = []
        var token: String?
        repeat {
            var query = [("filter", filter), ("max_results", "10000")]
            if let token { query.append(("page_token", token)) }
            let page: MLflowMessages.VersionSearch = try await client.get("model-versions/search", query)
            found += page.model_versions ?? []
            token = page.next_page_token.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return found.sorted { $0.number < $1.number }
    }

    /// The registered model, or `unknownModel` with the known names.
    private func registeredModel(_ name: String) async throws(RegistryError) -> MLflowMessages.RegisteredModel {
        try ModelNames.checkModel(name)
        let found: MLflowMessages.RegisteredModelResponse? = try await client.getIfExists("registered-models/get", [("name", name)])
        guard let found else {
            let all: MLflowMessages.ModelSearch = try await client.get("registered-models/search", [("max_results", "1000")])
            throw RegistryError.unknownModel(name, at: location, known: (all.registered_models ?? []).map(\.name))
        }
        return found.registered_model
    }

    /// One version with its aliases, or `unknownModel`/`unknownVersion`.
    private func require(_ name: String, _ number: Int) async throws(RegistryError) -> ModelVersion {
        if let found = try await version(name: name, version: number) { return found }
        let known = try await versions(name: name).map { String($0.version) }
        throw RegistryError.unknownVersion(number, of: name, at: location, known: known)
    }

    /// Polls `model-versions/get` until MLflow says `READY`, with a growing pause.
    private func waitUntilReady(_ name: String, _ number: Int) async throws(RegistryError) {
        let deadline = ContinuousClock.now + readyTimeout
        var pause = Duration.milliseconds(20)
        while true {
            let current: MLflowMessages.ModelVersionResponse = try await client.get(
                "model-versions/get", [("name", name), ("version", String(number))])
            switch current.model_version.status {
            case "READY", nil:
                return
            case "FAILED_REGISTRATION":
                throw RegistryError(.registrationFailed, "MLflow at \(client.trackingURI) failed to register version \(number) "
                                    + "of model '\(name)': \(current.model_version.status_message ?? "no message")",
                                    remedy: "look at the tracking server's log, then run the stage again")
            default:
                guard ContinuousClock.now < deadline else {
                    throw RegistryError(.registrationFailed, "version \(number) of model '\(name)' at \(client.trackingURI) "
                                        + "was not READY after \(readyTimeout) (status \(current.model_version.status ?? "?"))",
                                        remedy: "check the tracking server, then run the stage again")
                }
                do { try await Task.sleep(for: pause) } catch {
                    throw RegistryError(.registrationFailed, "registration of model '\(name)' was cancelled",
                                        remedy: "run the stage again")
                }
                pause = min(pause * 2, .seconds(1))
            }
        }
    }
}
