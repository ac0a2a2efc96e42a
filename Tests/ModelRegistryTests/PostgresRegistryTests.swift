import Foundation
import ModelRegistry
import PostgresRunStore
import TestSupport
import Testing

/// A PostgreSQL server with one new database, and its location.
private struct SharedDatabase {
    let server: PostgresServer
    let database: String
    let location: PostgresLocation

    init() throws {
        server = try PostgresServer()
        database = try server.createDatabase()
        location = try PostgresLocation(url: server.url(database))
    }
}

@Suite("the model registry on a shared PostgreSQL store")
struct PostgresRegistryTests {
    @Test("two runners that register the same packages at once on one database get one version per package")
    func concurrentRunners() async throws {
        let shared = try SharedDatabase()
        // Two stores, each with its own connections: two machines.
        let registries = [try await PostgresModelRegistry.open(shared.location),
                          try await PostgresModelRegistry.open(shared.location)]
        let results = try await withThrowingTaskGroup(of: (Int, Int, Bool).self) { group in
            for attempt in 0..<40 {
                let registry = registries[attempt % 2]
                let package = (attempt / 2) % 5
                group.addTask {
                    let result = try await registry.register(registration(package: package))
                    return (package, result.version.version, result.created)
                }
            }
            return try await group.reduce(into: [(Int, Int, Bool)]()) { $0.append($1) }
        }
        let numbers = Dictionary(grouping: results, by: \.0).mapValues { Set($0.map(\.1)) }
        #expect(numbers.values.allSatisfy { $0.count == 1 }, "\(numbers)")
        #expect(results.filter(\.2).count == 5, "one registration per package creates its version")
        #expect(try await registries[0].versions(name: "iris").map(\.version) == [1, 2, 3, 4, 5])
        #expect(Set(try await registries[1].versions(name: "iris").map(\.packageDigest)).count == 5)
        #expect(try shared.server.psql(shared.database, "SELECT COUNT(*) FROM model_version") == "5")
    }

    @Test("a version reads back with everything it was registered with, on another runner")
    func readsBack() async throws {
        let shared = try SharedDatabase()
        let clock = TestClock()
        clock.set(moment(42))
        let writer = try await PostgresModelRegistry.open(shared.location, now: clock.now)
        let reader = try await PostgresModelRegistry.open(shared.location)
        _ = try await writer.register(registration(package: 1, image: 11))
        clock.set(moment(50))
        _ = try await writer.setAlias("staging", name: "iris", version: 1, by: Provenance(runID: 8, user: "ci"))
        let version = try #require(try await reader.version(name: "iris", version: 1))
        #expect(version == ModelVersion(
            name: "iris", version: 1, packageDigest: digest(1), imageDigest: digest(11),
            image: "127.0.0.1:5000/iris@\(digest(11))", metrics: ["accuracy": 0.96], pipeline: "iris", stage: "register",
            inputs: ["data/iris.csv": "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"], scanVerdict: "safe",
            scanReportDigest: digest(901),
            provenance: Provenance(runID: 7, commit: String(repeating: "ab", count: 20), user: "ci"),
            createdAt: moment(42), aliases: ["staging"]))
        #expect(try await reader.aliasHistory(name: "iris", alias: "staging")
            == [AliasMove(name: "iris", alias: "staging", version: 1, movedAt: moment(50), provenance: Provenance(runID: 8, user: "ci"))])
        #expect(try await reader.models() == [ModelSummary(name: "iris", latestVersion: 1, versionCount: 1,
                                                           aliases: ["staging": 1], updatedAt: moment(42))])
        #expect(try await reader.version(name: "iris", version: 2) == nil)
    }

    @Test("an unknown model, version or alias names the server without its password and lists what exists")
    func unknownNames() async throws {
        let shared = try SharedDatabase()
        let registry = try await PostgresModelRegistry.open(shared.location)
        _ = try await registry.register(registration(package: 1))
        _ = try await registry.register(registration("wine", package: 2))
        let where_ = "in the PostgreSQL registry at \(shared.location.redacted)"

        let model = await #expect(throws: RegistryError.self) { try await registry.versions(name: "irsi") }
        #expect(model?.code == .unknownModel && model?.known == ["iris", "wine"])
        #expect(model?.message == "no model 'irsi' \(where_)")
        let version = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "iris@4")) }
        #expect(version?.code == .unknownVersion && version?.known == ["1"])
        #expect(version?.description == "model 'iris' has no version 4 \(where_); its versions are 1")
        let alias = await #expect(throws: RegistryError.self) {
            try await registry.setAlias("prod", name: "iris", version: 2, by: Provenance(user: "a"))
        }
        #expect(alias?.code == .unknownVersion)
        for error in [model, version, alias] {
            #expect(error.map { !$0.description.contains(PostgresServer.password) } == true)
        }
    }
}

@Suite("the workspace's registry follows MLPIPE_STORE")
struct StoreModelRegistryTests {
    @Test("with a PostgreSQL store, a registration lands on the server, in a database no runner has opened yet")
    func followsTheStore() async throws {
        let shared = try SharedDatabase()
        let folder = try TemporaryFolder()
        let environment = ["MLPIPE_STORE": shared.server.url(shared.database, withPassword: false),
                           "PGPASSWORD": PostgresServer.password]
        let registry = try StoreModelRegistry.open(databasePath: folder.file("mlpipe.db"), environment: environment)
        #expect(try await registry.register(registration(package: 1)).version.version == 1)
        #expect(try shared.server.psql(shared.database, "SELECT name || '@' || version FROM model_version") == "iris@1")
        #expect(!FileManager.default.fileExists(atPath: folder.file("mlpipe.db")))

        let local = try StoreModelRegistry.open(databasePath: folder.file("mlpipe.db"), environment: [:])
        #expect(try await local.models().isEmpty, "without MLPIPE_STORE, the workspace's file")
        #expect(FileManager.default.fileExists(atPath: folder.file("mlpipe.db")))
    }
}
