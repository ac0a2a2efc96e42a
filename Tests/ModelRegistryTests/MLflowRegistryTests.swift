import Foundation
import ModelRegistry
import Testing

/// A registry on the suite's MLflow server, keeping its alias history in `folder`.
private func mlflowRegistry(_ folder: TemporaryFolder, clock: TestClock = TestClock()) throws -> MLflowModelRegistry {
    let server = try #require(MLflowServer.current, "the suite starts an MLflow server")
    return try MLflowModelRegistry(trackingURI: server.uri, token: "no-auth-here", tokenSource: "secret MLFLOW_TOKEN",
                                   historyPath: folder.file("workspace/mlpipe.db"), now: clock.now)
}

@Suite("the MLflow model registry, against a real mlflow server", .mlflowServer)
struct MLflowRegistryTests {
    @Test("a package registers once as an MLflow version with mlpipe's tags, and reads back")
    func registersOnce() async throws {
        let folder = try TemporaryFolder()
        let registry = try mlflowRegistry(folder)
        let first = try await registry.register(registration("once", package: 1, image: 11))
        let again = try await registry.register(registration("once", package: 1, image: 12))
        let second = try await registry.register(registration("once", package: 2))
        #expect(first.created && first.version.version == 1)
        #expect(!again.created && again.version.version == 1)
        #expect(second.created && second.version.version == 2)

        let read = try #require(try await registry.version(name: "once", version: 1))
        var expected = ModelVersion(registration("once", package: 1, image: 11), version: 1, createdAt: read.createdAt)
        expected.source = "docker://127.0.0.1:5000/iris@\(digest(11))"
        #expect(read == expected)
        #expect(abs(read.createdAt.timeIntervalSinceNow) < 600)
        #expect(try await registry.versions(name: "once").map(\.packageDigest) == [digest(1), digest(2)])
        #expect(try await registry.resolve(ModelReference(parsing: "once")).version == 2)
        let summary = try #require(try await registry.models().first { $0.name == "once" })
        #expect(summary.latestVersion == 2 && summary.versionCount == 2)
    }

    @Test("registries that register one package at once end with one version, and all return it")
    func concurrentRegistrations() async throws {
        let folder = try TemporaryFolder()
        let registries = [try mlflowRegistry(folder), try mlflowRegistry(folder)]
        let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
            for attempt in 0..<6 {
                let registry = registries[attempt % 2]
                group.addTask { try await registry.register(registration("race", package: 5)).version.version }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(numbers.count == 1, "every registration returns the same version: \(numbers)")
        let versions = try await registries[0].versions(name: "race")
        #expect(versions.map(\.version) == Array(numbers), "one version is left on the server")
    }

    @Test("aliases move on the server, and their history is kept beside it")
    func aliases() async throws {
        let folder = try TemporaryFolder()
        let clock = TestClock()
        let registry = try mlflowRegistry(folder, clock: clock)
        for package in 1...2 { _ = try await registry.register(registration("aliased", package: package)) }
        let ci = Provenance(runID: 3, commit: String(repeating: "cd", count: 20), user: "ci")
        clock.set(moment(10)); _ = try await registry.setAlias("staging", name: "aliased", version: 1, by: ci)
        clock.set(moment(20)); _ = try await registry.setAlias("staging", name: "aliased", version: 2, by: ci)
        clock.set(moment(30)); _ = try await registry.setAlias("staging", name: "aliased", version: 2, by: ci)

        #expect(try await registry.resolve(ModelReference(parsing: "aliased@staging")).version == 2)
        #expect(try await registry.version(name: "aliased", version: 2)?.aliases == ["staging"])
        #expect(try await registry.version(name: "aliased", version: 1)?.aliases == [])
        let history = try await registry.aliasHistory(name: "aliased", alias: "staging")
        #expect(history.map(\.version) == [1, 2])
        #expect(history.map(\.movedAt) == [moment(10), moment(20)])
        #expect(try await registry.holder(of: "staging", name: "aliased", at: moment(15))?.version == 1)
        #expect(try await registry.holder(of: "staging", name: "aliased", at: moment(9)) == nil)

        // The history is mlpipe's, in the workspace file, under the server's address.
        let local = try LocalModelRegistry(path: folder.file("workspace/mlpipe.db"))
        #expect(try await local.aliasHistory(name: "aliased", alias: "staging").isEmpty)
    }

    @Test("an unknown model, version or alias on the server is an error that lists what it has")
    func unknownNames() async throws {
        let folder = try TemporaryFolder()
        let registry = try mlflowRegistry(folder)
        _ = try await registry.register(registration("listed", package: 1))
        _ = try await registry.setAlias("staging", name: "listed", version: 1, by: Provenance(user: "ci"))

        let model = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "listd")) }
        #expect(model?.code == .unknownModel && model?.known.contains("listed") == true)
        let alias = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "listed@prod")) }
        #expect(alias?.code == .unknownAlias && alias?.known == ["staging"])
        let server = try #require(MLflowServer.current)
        #expect(alias?.message == "model 'listed' has no alias 'prod' in the MLflow registry at \(server.uri)")
        let version = await #expect(throws: RegistryError.self) { try await registry.resolve(ModelReference(parsing: "listed@4")) }
        #expect(version?.code == .unknownVersion && version?.known == ["1"])
    }

    @Test("a tracking server that cannot be reached is named in the error, with what to check")
    func unreachable() async throws {
        let folder = try TemporaryFolder()
        let port = try MLflowServer.freePort()
        let registry = try MLflowModelRegistry(trackingURI: "http://127.0.0.1:\(port)/", token: nil, tokenSource: nil,
                                               historyPath: folder.file("mlpipe.db"))
        let error = await #expect(throws: RegistryError.self) { try await registry.register(registration(package: 1)) }
        #expect(error?.code == .unreachable)
        #expect(error?.message.hasPrefix("cannot reach the MLflow tracking server at http://127.0.0.1:\(port) ") == true)
        #expect(error?.remedy == "check that the server runs and that tracking_uri is right (scheme, host and port)")
    }
}

@Suite("the MLflow model registry, against a real mlflow server that wants credentials", .mlflowServerWithBasicAuth)
struct MLflowAuthTests {
    @Test("a refused token is an error that names its secret and never shows its value")
    func refusedToken() async throws {
        let folder = try TemporaryFolder()
        let server = try #require(MLflowServer.current)
        let registry = try MLflowModelRegistry(trackingURI: server.uri, token: "s3cr3t-token-value",
                                               tokenSource: "secret MLFLOW_TOKEN", historyPath: folder.file("mlpipe.db"))
        let error = await #expect(throws: RegistryError.self) { try await registry.register(registration(package: 1)) }
        #expect(error?.code == .unauthorized)
        #expect(error?.description.contains("refused the token from secret MLFLOW_TOKEN (HTTP 401") == true, "\(String(describing: error))")
        #expect(error?.description.contains("s3cr3t") == false)
        #expect(String(reflecting: error as Any).contains("s3cr3t") == false)
    }
}
