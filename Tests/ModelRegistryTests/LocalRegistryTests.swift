import Foundation
import ModelRegistry
import Testing

@Suite("the local model registry")
struct LocalRegistryTests {
    @Test("registering the same package twice returns the version it already has")
    func idempotent() async throws {
        let folder = try TemporaryFolder()
        let registry = try LocalModelRegistry(path: folder.file("workspace/mlpipe.db"))
        let first = try await registry.register(registration(package: 1, image: 11))
        let again = try await registry.register(registration(package: 1, image: 12))
        let other = try await registry.register(registration(package: 2))
        #expect(first.created && first.version.version == 1)
        #expect(!again.created && again.version.version == 1)
        #expect(again.version.imageDigest == digest(11), "the first registration's record is kept")
        #expect(other.created && other.version.version == 2)
        #expect(try await registry.versions(name: "iris").map(\.packageDigest) == [digest(1), digest(2)])
    }

    @Test("a version reads back with everything it was registered with")
    func readsBack() async throws {
        let folder = try TemporaryFolder()
        let clock = TestClock()
        clock.set(moment(42))
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"), now: clock.now)
        _ = try await registry.register(registration(package: 1, image: 11))
        let version = try #require(try await registry.version(name: "iris", version: 1))
        #expect(version == ModelVersion(
            name: "iris", version: 1, packageDigest: digest(1), imageDigest: digest(11),
            image: "127.0.0.1:5000/iris@\(digest(11))", metrics: ["accuracy": 0.96], pipeline: "iris", stage: "register",
            inputs: ["data/iris.csv": "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"], scanVerdict: "safe",
            scanReportDigest: digest(901),
            provenance: Provenance(runID: 7, commit: String(repeating: "ab", count: 20), user: "ci"),
            createdAt: moment(42)))
        #expect(version.uri == "models:/iris/1")
        #expect(try await registry.version(name: "iris", version: 2) == nil)
    }

    @Test("tasks that register the same packages at once get one version per package")
    func concurrentTasks() async throws {
        let folder = try TemporaryFolder()
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"))
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for attempt in 0..<24 {
                group.addTask { (attempt % 4, try await registry.register(registration(package: attempt % 4)).version.version) }
            }
            return try await group.reduce(into: [Int: Set<Int>]()) { $0[$1.0, default: []].insert($1.1) }
        }
        #expect(results.values.allSatisfy { $0.count == 1 }, "\(results)")
        #expect(Set(results.values.flatMap { $0 }) == [1, 2, 3, 4])
    }

    @Test("two connections to one file that register the same packages at once get one version per package")
    func concurrentConnections() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("mlpipe.db")
        let registries = [try LocalModelRegistry(path: path), try LocalModelRegistry(path: path)]
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for attempt in 0..<40 {
                let registry = registries[attempt % 2]
                let package = (attempt / 2) % 5
                group.addTask { (package, try await registry.register(registration(package: package)).version.version) }
            }
            return try await group.reduce(into: [Int: Set<Int>]()) { $0[$1.0, default: []].insert($1.1) }
        }
        #expect(results.values.allSatisfy { $0.count == 1 }, "\(results)")
        #expect(try await registries[0].versions(name: "iris").map(\.version) == [1, 2, 3, 4, 5])
        #expect(Set(try await registries[1].versions(name: "iris").map(\.packageDigest)).count == 5)
    }

    @Test("an alias moves, keeps its history, and says which version held it at any moment")
    func aliasHistory() async throws {
        let folder = try TemporaryFolder()
        let clock = TestClock()
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"), now: clock.now)
        for package in 1...2 { _ = try await registry.register(registration(package: package)) }
        let ci = Provenance(runID: 7, commit: String(repeating: "ab", count: 20), user: "ci")
        let alice = Provenance(user: "alice")
        clock.set(moment(10)); _ = try await registry.setAlias("staging", name: "iris", version: 1, by: ci)
        clock.set(moment(20)); _ = try await registry.setAlias("staging", name: "iris", version: 2, by: alice)
        clock.set(moment(25)); _ = try await registry.setAlias("staging", name: "iris", version: 2, by: alice)
        clock.set(moment(30)); _ = try await registry.setAlias("staging", name: "iris", version: 1, by: alice)

        let history = try await registry.aliasHistory(name: "iris", alias: "staging")
        #expect(history.map(\.version) == [1, 2, 1], "setting the alias to the version it holds is not a move")
        #expect(history.map(\.movedAt) == [moment(10), moment(20), moment(30)])
        #expect(history.map(\.provenance) == [ci, alice, alice])
        #expect(try await registry.holder(of: "staging", name: "iris", at: moment(5)) == nil)
        #expect(try await registry.holder(of: "staging", name: "iris", at: moment(10))?.version == 1)
        #expect(try await registry.holder(of: "staging", name: "iris", at: moment(29.5))?.version == 2)
        #expect(try await registry.holder(of: "staging", name: "iris", at: moment(99))?.version == 1)

        let resolved = try await registry.resolve(ModelReference(parsing: "iris@staging"))
        #expect(resolved.version == 1 && resolved.aliases == ["staging"])
        #expect(try await registry.resolve(ModelReference(parsing: "iris")).version == 2)
        #expect(try await registry.resolve(ModelReference(parsing: "iris@2")).aliases == [])
        #expect(try await registry.models().map(\.aliases) == [["staging": 1]])
    }

    @Test("an unknown model, version or alias is an error that lists what exists")
    func unknownNames() async throws {
        let folder = try TemporaryFolder()
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"))
        _ = try await registry.register(registration(package: 1))
        _ = try await registry.setAlias("staging", name: "iris", version: 1, by: Provenance(user: "ci"))

        let model = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "irsi")) }
        #expect(model?.code == .unknownModel && model?.known == ["iris"] && model?.subject == "irsi")
        let alias = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "iris@stagin")) }
        #expect(alias?.code == .unknownAlias && alias?.known == ["staging"])
        #expect(alias?.description == "model 'iris' has no alias 'stagin' in the local registry; "
                + "set it with `mlpipe models alias iris VERSION stagin`")
        let version = await #expect(throws: RegistryError.self) {
            try await registry.setAlias("prod", name: "iris", version: 3, by: Provenance(user: "ci"))
        }
        #expect(version?.description == "model 'iris' has no version 3 in the local registry; its versions are 1")
        #expect(try await registry.aliasHistory(name: "iris", alias: "prod").isEmpty)
    }

    @Test("names, aliases and digests that break the rules are refused before anything is written")
    func invalidNames() async throws {
        let folder = try TemporaryFolder()
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"))
        for bad in ["", "-iris", "iris model", "iris@x'"] {
            await #expect(throws: RegistryError.self, "\(bad)") { try await registry.register(registration(bad, package: 1)) }
        }
        var noDigest = registration(package: 1)
        noDigest.packageDigest = "abc"
        await #expect(throws: RegistryError.self) { try await registry.register(noDigest) }
        _ = try await registry.register(registration(package: 1))
        for bad in ["latest", "v2", "3", "stag ing", "_x"] {
            let error = await #expect(throws: RegistryError.self, "\(bad)") {
                try await registry.setAlias(bad, name: "iris", version: 1, by: Provenance(user: "ci"))
            }
            #expect(error?.code == .invalidName)
        }
        #expect(try await registry.models().map(\.name) == ["iris"])
    }

    @Test("lineage runs from the commit through the inputs, scan, package and image to the version")
    func lineage() async throws {
        let folder = try TemporaryFolder()
        let registry = try LocalModelRegistry(path: folder.file("mlpipe.db"))
        _ = try await registry.register(registration(package: 1, image: 11))
        var bare = registration(package: 2)
        bare.inputs = [:]
        bare.scanVerdict = nil
        bare.scanReportDigest = nil
        _ = try await registry.register(bare)

        let links = try await registry.lineage(name: "iris", version: 1).links
        #expect(links.map(\.label) == ["commit", "pipeline", "input data/iris.csv", "scan", "package", "image", "version"])
        #expect(links.map(\.value) == [
            String(repeating: "ab", count: 20), "iris (run #7, stage register)", "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
            "safe, report \(digest(901))", digest(1), "127.0.0.1:5000/iris@\(digest(11))", "iris@1",
        ])
        let unknown = try await registry.lineage(name: "iris", version: 2).links.filter { $0.value == nil }.map(\.label)
        #expect(unknown == ["inputs", "scan", "image"])
        await #expect(throws: RegistryError.self) { try await registry.lineage(name: "iris", version: 9) }
    }

    @Test("the registry's tables live beside the run history, which still opens")
    func sharesTheRunHistoryFile() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("workspace/mlpipe.db")
        _ = try await LocalModelRegistry(path: path).register(registration(package: 1))
        let again = try LocalModelRegistry(path: path)
        #expect(try await again.models().map(\.versionCount) == [1])
    }
}
