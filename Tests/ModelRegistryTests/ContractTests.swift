import Foundation
import ModelRegistry
import PostgresRunStore
import TestSupport
import Testing

/// Each backend but MLflow's, on a fresh store with a settable clock, and what keeps the
/// store alive (a folder, a PostgreSQL server).
private func backend(_ name: String, _ clock: TestClock) async throws -> (any ModelRegistry, keepAlive: AnyObject) {
    switch name {
    case "memory":
        return (InMemoryModelRegistry(now: clock.now), clock)
    case "local":
        let folder = try TemporaryFolder()
        return (try LocalModelRegistry(path: folder.file("mlpipe.db"), now: clock.now), folder)
    default:
        let server = try PostgresServer()
        let location = try PostgresLocation(url: server.url(try server.createDatabase()))
        return (try await PostgresModelRegistry.open(location, now: clock.now), server)
    }
}

@Suite("the registry contract, for every backend but MLflow's")
struct ContractTests {
    @Test("versions are numbered from 1, once per package, and aliases move with their history",
          arguments: ["memory", "local", "postgresql"])
    func contract(_ name: String) async throws {
        let clock = TestClock()
        let (registry, keepAlive) = try await backend(name, clock)
        defer { withExtendedLifetime(keepAlive) {} }
        clock.set(moment(1))
        #expect(try await registry.register(registration(package: 1)).version.version == 1)
        #expect(try await registry.register(registration(package: 2)).version.version == 2)
        #expect(try await registry.register(registration(package: 1)).created == false)
        clock.set(moment(10)); _ = try await registry.setAlias("staging", name: "iris", version: 1, by: Provenance(user: "a"))
        clock.set(moment(20)); _ = try await registry.setAlias("staging", name: "iris", version: 2, by: Provenance(user: "b"))
        clock.set(moment(30)); _ = try await registry.setAlias("staging", name: "iris", version: 2, by: Provenance(user: "c"))

        #expect(try await registry.aliasHistory(name: "iris", alias: "staging").map(\.provenance.user) == ["a", "b"])
        #expect(try await registry.holder(of: "staging", name: "iris", at: moment(15))?.version == 1)
        #expect(try await registry.resolve(ModelReference(parsing: "iris@staging")).version == 2)
        #expect(try await registry.resolve(ModelReference(parsing: "iris")).aliases == ["staging"])
        #expect(try await registry.models().map(\.versionCount) == [2])
        #expect(try await registry.lineage(name: "iris", version: 1).links.last?.value == "iris@1")
        let unknown = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "iris@prod")) }
        #expect(unknown?.code == .unknownAlias && unknown?.known == ["staging"])
        await #expect(throws: RegistryError.self) { try await registry.setAlias("prod", name: "iris", version: 3, by: Provenance(user: "a")) }
    }
}
