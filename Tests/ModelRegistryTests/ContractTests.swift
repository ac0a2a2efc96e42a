import Foundation
import ModelRegistry
import Testing

/// The backends that need no server, each on a fresh store with a settable clock.
private func backend(_ name: String, _ folder: TemporaryFolder, _ clock: TestClock) throws -> any ModelRegistry {
    name == "memory" ? InMemoryModelRegistry(now: clock.now) : try LocalModelRegistry(path: folder.file("mlpipe.db"), now: clock.now)
}

@Suite("the registry contract, for every backend without a server")
struct ContractTests {
    @Test("versions are numbered from 1, once per package, and aliases move with their history",
          arguments: ["memory", "local"])
    func contract(_ name: String) async throws {
        let folder = try TemporaryFolder()
        let clock = TestClock()
        let registry = try backend(name, folder, clock)
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
