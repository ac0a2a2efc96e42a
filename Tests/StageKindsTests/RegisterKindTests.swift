import Canonical
import Foundation
import ModelRegistry
import PipelineEngine
import PipelineSpec
import StageKinds
import Testing

/// A temporary repository-like folder with a model package and a metrics file, and a
/// context to run a register stage in it (workspace inside it, no git, run #5).
private final class RegisterFixture: @unchecked Sendable {
    // Used by one test at a time.
    let root: String
    var workspace: String { root + "/workspace" }

    init(weights: String = "v1") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("register-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath().path
        try writePackage(weights: weights)
        try Data(#"{"accuracy": 0.96, "eval": {"f1": 0.9}, "n": 150}"#.utf8)
            .write(to: URL(fileURLWithPath: root + "/metrics.json"))
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func writePackage(weights: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/pkg/model", withIntermediateDirectories: true)
        let manifest = """
            {
              "name": "iris",
              "scan": {"allow": [], "reportDigest": "sha256:\(String(repeating: "e", count: 64))", "verdict": "safe"},
              "schema": "mlpipe-model/v1",
              "source": {"commit": "\(String(repeating: "c", count: 40))", "pipeline": "iris", "runId": 5, "stage": "package"},
              "weights": "\(weights)"
            }

            """
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: root + "/pkg/mlpipe-model.json"))
    }

    var manifestDigest: String {
        SHA256Hasher.digest(of: FileManager.default.contents(atPath: root + "/pkg/mlpipe-model.json") ?? Data()).description
    }

    func context() throws -> StageContext {
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
        var context = StageContext(
            runID: 5, pipelineName: "iris", stageName: "register", repositoryRoot: root, outputDirectory: root + "/out",
            log: try LogSink(path: root + "/out/register.log", masker: SecretMasker(values: [])),
            executor: LocalProcessExecutor(), workspace: workspace)
        context.commit = String(repeating: "a", count: 40)
        context.inheritedEnvironment = ["USER": "ci"]
        return context
    }

    var log: String { (try? String(contentsOfFile: root + "/out/register.log", encoding: .utf8)) ?? "" }
}

/// Settings decoded as the engine decodes them.
private func settings(_ with: [String: Value]) throws -> RegisterSettings {
    try JSONDecoder().decode(RegisterSettings.self, from: Data(Value.object(with).canonicalJSON().utf8))
}

@Suite("the register stage kind")
struct RegisterKindTests {
    @Test("a package registers under its manifest's digest, with metrics from a file and its aliases")
    func registers() async throws {
        let fixture = try RegisterFixture()
        let kind = RegisterKind()
        let with = try settings(["name": .string("iris"), "package": .string("pkg"), "metrics": .string("metrics.json"),
                                 "image": .string("sha256:" + String(repeating: "ab", count: 32)),
                                 "aliases": .array([.string("staging")])])
        let result = try await kind.run(try fixture.context(), settings: with)
        #expect(result.results == ["version": .int(1), "name": .string("iris"), "uri": .string("models:/iris/1")])

        let registry = try LocalModelRegistry(path: fixture.workspace + "/mlpipe.db")
        let version = try await registry.resolve(ModelReference(parsing: "iris@staging"))
        #expect(version.packageDigest == fixture.manifestDigest)
        #expect(version.imageDigest == "sha256:" + String(repeating: "ab", count: 32) && version.image == nil)
        #expect(version.metrics == ["accuracy": 0.96, "eval.f1": 0.9, "n": 150])
        #expect(version.provenance == Provenance(runID: 5, commit: String(repeating: "a", count: 40), user: "ci"))
        #expect(version.scanVerdict == "safe" && version.pipeline == "iris" && version.stage == "register")
        #expect(fixture.log.contains("iris: registered version 1 (package \(fixture.manifestDigest)) in the local registry"))
        #expect(fixture.log.contains("alias staging -> iris@1 (new)"))
    }

    @Test("registering again returns the same version, and a cached result is trusted only while it exists")
    func idempotentAndVerified() async throws {
        let fixture = try RegisterFixture()
        let kind = RegisterKind()
        let with = try settings(["name": .string("iris"), "package": .string("pkg"), "aliases": .array([.string("staging")])])
        _ = try await kind.run(try fixture.context(), settings: with)
        let again = try await kind.run(try fixture.context(), settings: with)
        #expect(again.results["version"] == .int(1))
        #expect(fixture.log.contains("is already version 1; nothing registered"))
        #expect(try await kind.verifyCached(again.results, settings: with, context: try fixture.context()))
        #expect(try await !kind.verifyCached(["version": .int(9), "name": .string("iris")], settings: with, context: try fixture.context()))

        try fixture.writePackage(weights: "v2")
        let second = try await kind.run(try fixture.context(), settings: with)
        #expect(second.results["version"] == .int(2))
        #expect(fixture.log.contains("alias staging -> iris@2 (was 1)"))
    }

    @Test("without a run history, the version's inputs are not known and the log says why and what to do")
    func noRunHistory() async throws {
        let fixture = try RegisterFixture()
        let with = try settings(["name": .string("iris"), "package": .string("pkg")])
        _ = try await RegisterKind().run(try fixture.context(), settings: with)
        let version = try await LocalModelRegistry(path: fixture.workspace + "/mlpipe.db").version(name: "iris", version: 1)
        #expect(version?.inputs == [:])
        #expect(fixture.log.contains("note: this stage runs without a run history, so the lineage will say its inputs "
                                     + "are not known; run it in a pipeline (`mlpipe run`) to record them"), "\(fixture.log)")
    }

    @Test("a missing package fails the stage, saying where and what to give")
    func missingPackage() async throws {
        let fixture = try RegisterFixture()
        let with = try settings(["name": .string("iris"), "package": .string("nowhere")])
        let error = await #expect(throws: StageFailure.self) { try await RegisterKind().run(try fixture.context(), settings: with) }
        #expect(error?.message == "the package \(fixture.root)/nowhere does not exist; give the package folder that a "
                + "serialize stage made (${{ stages.NAME.outputs.package }})")
    }

    @Test("settings that cannot work are refused with what to write instead")
    func refusedSettings() throws {
        #expect(throws: (any Error).self) { try settings(["name": .string("iris"), "package": .string("pkg"), "backend": .string("mlflow")]) }
        #expect(throws: (any Error).self) { try settings(["name": .string("iris"), "package": .string("pkg"), "tracking_uri": .string("http://x")]) }
        #expect(throws: (any Error).self) { try settings(["name": .string("iris"), "package": .string("pkg"), "aliases": .array([.string("v1")])]) }
        #expect(throws: (any Error).self) { try settings(["name": .string("iris"), "package": .string("pkg"), "metrics": .object(["acc": .string("high")])]) }
        let mlflow = try settings(["name": .string("iris"), "package": .string("pkg"), "backend": .string("mlflow"),
                                   "tracking_uri": .string("http://127.0.0.1:5000"), "token": .string("MLFLOW_TOKEN")])
        #expect(mlflow.backend == .mlflow(trackingURI: "http://127.0.0.1:5000", token: "MLFLOW_TOKEN"))
        #expect(RegisterKind().secrets(for: mlflow) == ["MLFLOW_TOKEN"])
        #expect(BuiltinKinds.registry().kinds["register"]?.schema.results.sorted() == ["name", "uri", "version"])
    }
}
