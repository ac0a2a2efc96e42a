import Foundation

/// A model registry in memory, with the same contract as the others: for unit tests of
/// callers (a stage kind, a command) that should not need SQLite or a server.
public actor InMemoryModelRegistry: ModelRegistry {
    /// `memory`.
    public nonisolated let location = "memory"
    private var versionsByName: [String: [ModelVersion]] = [:]
    private var moves: [String: [AliasMove]] = [:]
    private let now: @Sendable () -> Date

    /// An empty registry; `now` is the clock for registration and alias-move times.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    public func register(_ registration: Registration) throws(RegistryError) -> RegistrationResult {
        try ModelNames.checkModel(registration.name)
        try ModelNames.checkDigest(registration.packageDigest)
        let existing = versionsByName[registration.name] ?? []
        if let found = existing.first(where: { $0.packageDigest == registration.packageDigest }) {
            return RegistrationResult(version: withAliases(found), created: false)
        }
        let version = ModelVersion(registration, version: existing.count + 1, createdAt: now())
        versionsByName[registration.name, default: []].append(version)
        return RegistrationResult(version: version, created: true)
    }

    public func setAlias(_ alias: String, name: String, version: Int, by provenance: Provenance) throws(RegistryError) -> AliasMove {
        try ModelNames.checkModel(name)
        try ModelNames.checkAlias(alias)
        _ = try require(name, version)
        let key = name + "@" + alias
        if let current = moves[key]?.last, current.version == version { return current }
        let move = AliasMove(name: name, alias: alias, version: version, movedAt: now(), provenance: provenance)
        moves[key, default: []].append(move)
        return move
    }

    public func version(name: String, version: Int) -> ModelVersion? {
        versionsByName[name]?.first { $0.version == version }.map(withAliases)
    }

    public func resolve(_ reference: ModelReference) throws(RegistryError) -> ModelVersion {
        let name = reference.name
        guard let versions = versionsByName[name] else {
            throw RegistryError.unknownModel(name, at: location, known: Array(versionsByName.keys))
        }
        switch reference.selector {
        case .latest:
            guard let newest = versions.last else { throw RegistryError.unknownVersion(1, of: name, at: location, known: []) }
            return withAliases(newest)
        case .version(let number):
            return try require(name, number)
        case .alias(let alias):
            let aliases = currentAliases(name)
            guard let number = aliases[alias] else {
                throw RegistryError.unknownAlias(alias, of: name, at: location, known: Array(aliases.keys))
            }
            return try require(name, number)
        }
    }

    public func versions(name: String) throws(RegistryError) -> [ModelVersion] {
        guard let versions = versionsByName[name] else {
            throw RegistryError.unknownModel(name, at: location, known: Array(versionsByName.keys))
        }
        return versions.map(withAliases)
    }

    public func models() -> [ModelSummary] {
        versionsByName.keys.sorted().map { name in
            let versions = versionsByName[name] ?? []
            return ModelSummary(name: name, latestVersion: versions.last?.version, versionCount: versions.count,
                                aliases: currentAliases(name), updatedAt: versions.last?.createdAt ?? Date(timeIntervalSince1970: 0))
        }
    }

    public func aliasHistory(name: String, alias: String) -> [AliasMove] {
        moves[name + "@" + alias] ?? []
    }

    private func currentAliases(_ name: String) -> [String: Int] {
        var aliases: [String: Int] = [:]
        for (key, history) in moves where key.hasPrefix(name + "@") {
            if let last = history.last { aliases[last.alias] = last.version }
        }
        return aliases
    }

    private func withAliases(_ version: ModelVersion) -> ModelVersion {
        var copy = version
        copy.aliases = currentAliases(version.name).filter { $0.value == version.version }.keys.sorted()
        return copy
    }

    private func require(_ name: String, _ number: Int) throws(RegistryError) -> ModelVersion {
        if let found = version(name: name, version: number) { return found }
        guard let versions = versionsByName[name] else {
            throw RegistryError.unknownModel(name, at: location, known: Array(versionsByName.keys))
        }
        throw RegistryError.unknownVersion(number, of: name, at: location, known: versions.map { String($0.version) })
    }
}
