import Foundation

/// A model registry: numbered versions of named models, aliases that point at them, and
/// what each version came from.
///
/// Two backends implement it, with the same contract: `LocalModelRegistry` (tables in
/// the workspace's SQLite file) and `MLflowModelRegistry` (an MLflow tracking server's
/// REST API); `InMemoryModelRegistry` implements it for unit tests.
///
/// The contract:
/// - `register` is idempotent per package digest: registering a package a model already
///   has returns that version (`created` false), also when two processes register it at
///   the same moment; a new package gets the next number, from 1.
/// - Every alias move is kept (`aliasHistory`), with its version, time, run, commit and
///   user, so that `holder(of:name:at:)` can say which version held an alias at any
///   moment. Setting an alias to the version it already points at is not a move.
/// - Names are checked (`ModelNames`) before anything is sent or written.
/// - Errors are `RegistryError`s that say what, where and how to fix it; an unknown model,
///   version or alias carries the known ones, for a did-you-mean.
public protocol ModelRegistry: Sendable {
    /// Where the registry is, as alias moves record it: `local`, or
    /// `mlflow:<tracking URI>`.
    var location: String { get }

    /// Registers a model package as a new version of `registration.name`, creating the
    /// model if needed, or returns the version that already has its package digest.
    func register(_ registration: Registration) async throws(RegistryError) -> RegistrationResult

    /// Points `alias` of model `name` at `version`, recording the move; returns the move
    /// (the current one, unchanged, when the alias already points there).
    func setAlias(_ alias: String, name: String, version: Int, by provenance: Provenance) async throws(RegistryError) -> AliasMove

    /// One version with its current aliases, or nil when the model or the version does
    /// not exist.
    func version(name: String, version: Int) async throws(RegistryError) -> ModelVersion?

    /// The version a reference names: `NAME` or `NAME@latest` (the newest), `NAME@3`,
    /// `NAME@staging`. Unknown names throw with the known alternatives.
    func resolve(_ reference: ModelReference) async throws(RegistryError) -> ModelVersion

    /// Every version of a model, oldest first; unknown models throw.
    func versions(name: String) async throws(RegistryError) -> [ModelVersion]

    /// Every model, by name.
    func models() async throws(RegistryError) -> [ModelSummary]

    /// Every move of an alias, oldest first (empty when it never existed).
    func aliasHistory(name: String, alias: String) async throws(RegistryError) -> [AliasMove]
}

extension ModelRegistry {
    /// The move that made `alias` point where it pointed at `time`, or nil when the alias
    /// did not exist yet. Moves at the same instant count in the order they were made.
    public func holder(of alias: String, name: String, at time: Date) async throws(RegistryError) -> AliasMove? {
        try await aliasHistory(name: name, alias: alias).last { $0.movedAt <= time }
    }

    /// The chain a version came from: commit, pipeline, inputs, scan, package, image,
    /// version.
    public func lineage(name: String, version number: Int) async throws(RegistryError) -> Lineage {
        guard let found = try await version(name: name, version: number) else {
            let known = try await versions(name: name).map { String($0.version) }
            throw RegistryError.unknownVersion(number, of: name, at: location, known: known)
        }
        return Lineage(of: found)
    }
}
