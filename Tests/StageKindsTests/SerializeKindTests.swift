import Canonical
import Foundation
import PipelineEngine
import PipelineSpec
import StageKinds
import Testing

/// A folder that acts as a repository root and a stage's output folder, for running the
/// serialize kind alone; removed when the value goes away.
private final class KindFolder: @unchecked Sendable {
    // Immutable after init; each test makes its own.
    let root: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-serialize-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        root = url.resolvingSymlinksInPath().path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: root + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// A context for the stage `package` of run 3 of pipeline `iris`, at a fixed commit.
    func context() throws -> StageContext {
        let output = root + "/workspace/runs/3/package"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var context = StageContext(
            runID: 3, pipelineName: "iris", stageName: "package", repositoryRoot: root, outputDirectory: output,
            outputs: ["package": output + "/package"],
            log: try LogSink(path: output + ".log", masker: SecretMasker(values: [])),
            executor: LocalProcessExecutor(), workspace: root + "/workspace")
        context.commit = String(repeating: "c0", count: 20)
        context.commitTime = 1_796_040_000
        return context
    }
}

/// A pickle that calls `os.system` when loaded (what `pickle.dumps` writes for an object
/// whose `__reduce__` returns `(os.system, ('true',))`, protocol 2); the kind never loads it.
private let evilPickle: [UInt8] = Array("\u{80}\u{02}cposix\nsystem\nq\u{00}X\u{04}\u{00}\u{00}\u{00}trueq\u{01}\u{85}q\u{02}Rq\u{03}.".unicodeScalars.map { UInt8($0.value) })

/// A plain pickle of `{'a': 1}`, protocol 2.
private let plainPickle: [UInt8] = [0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01,
                                    0x4b, 0x01, 0x73, 0x2e]

/// Decodes `with` (YAML flow mapping text) as the stage's settings, as the engine does when
/// the stage starts.
private func settings(_ with: String) throws -> SerializeSettings {
    let pipeline = try PipelineLoader.parse(
        source: "version: 1\nname: iris\nstages:\n  package:\n    kind: serialize\n    with: \(with)\n",
        file: "p.yaml", kinds: BuiltinKinds.registry().schemas, secretProviders: ["env"])
    let stage = try #require(pipeline.stages.first)
    return try SettingsDecoder.decode(SerializeSettings.self, from: stage.with.compactMapValues(\.literal), of: stage)
}

/// The diagnostics `mlpipe lint` gives for a serialize stage with `with`.
private func lint(_ with: String) -> [String] {
    do {
        _ = try PipelineLoader.parse(
            source: "version: 1\nname: iris\nstages:\n  package:\n    kind: serialize\n    with: \(with)\n",
            file: "p.yaml", kinds: BuiltinKinds.registry().schemas, secretProviders: ["env"])
        return []
    } catch {
        return error.diagnostics.map(\.rendered)
    }
}

@Suite("the serialize kind")
struct SerializeKindTests {
    @Test("serialize is registered with its results")
    func registered() throws {
        let kind = try #require(BuiltinKinds.registry().kinds["serialize"])
        #expect(kind.schema.results.sorted() == ["digest", "flavor", "format", "name"])
    }

    @Test("run alone, it writes the package as its output and returns the manifest's digest")
    func runsAlone() async throws {
        let folder = try KindFolder()
        try folder.write("models/model.pkl", plainPickle)
        let context = try folder.context()
        let result = try await SerializeKind().run(context, settings: settings(
            "{ model: models/model.pkl, name: tiny, metadata: { team: ml, epoch: 3 } }"))
        let manifestPath = context.outputDirectory + "/package/mlpipe-model.json"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        #expect(result.results == [
            "digest": .string(SHA256Hasher.digest(of: bytes).description), "format": .string("pickle"),
            "flavor": .string("sklearn"), "name": .string("tiny"),
        ])
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let source = try #require(manifest["source"] as? [String: Any])
        #expect(source["commit"] as? String == String(repeating: "c0", count: 20))
        #expect(source["pipeline"] as? String == "iris" && source["stage"] as? String == "package")
        #expect(source["runId"] as? Int == 3)
        #expect(manifest["createdAt"] as? String == "2026-11-30T12:00:00Z")
        #expect(manifest["metadata"] as? [String: String] == ["team": "ml", "epoch": "3"])
        #expect(manifest["model"] as? String == "model/model.pkl")
        // The builder scanned the model itself; its report is kept beside the package.
        let report = [UInt8](try Data(contentsOf: URL(fileURLWithPath: context.outputDirectory + "/scan-report.json")))
        #expect((manifest["scan"] as? [String: Any])?["reportDigest"] as? String
                == SHA256Hasher.digest(of: report).description)
    }

    @Test("without a declared output the package goes to package/ in the stage's folder, and the log says to declare one")
    func undeclaredOutput() async throws {
        let folder = try KindFolder()
        try folder.write("models/model.pkl", plainPickle)
        var context = try folder.context()
        context.outputs = [:]
        _ = try await SerializeKind().run(context, settings: settings("{ model: models/model.pkl, name: tiny }"))
        #expect(FileManager.default.fileExists(atPath: context.outputDirectory + "/package/mlpipe-model.json"))
        try context.log.close()
        let log = try String(contentsOfFile: context.outputDirectory + ".log", encoding: .utf8)
        #expect(log.contains("note: the stage declares no output for the package; declare `outputs: { package: package }`"),
                "\(log)")
    }

    @Test("an unsafe pickle fails the stage with its first finding, naming the file as the pipeline wrote it")
    func unsafeFails() async throws {
        let folder = try KindFolder()
        try folder.write("models/evil.pkl", evilPickle)
        let context = try folder.context()
        await #expect(throws: StageFailure.self) {
            try await SerializeKind().run(context, settings: settings("{ model: models/evil.pkl, name: evil }"))
        }
        do {
            _ = try await SerializeKind().run(context, settings: settings("{ model: models/evil.pkl, name: evil }"))
        } catch let failure as StageFailure {
            #expect(failure.message.hasPrefix("models/evil.pkl: unsafe: GLOBAL imports posix.system"), "\(failure)")
        }
        #expect(!FileManager.default.fileExists(atPath: context.outputDirectory + "/package"))
    }

    @Test("with: keys and values are checked at lint time, at their line and column")
    func lintsWith() {
        #expect(lint("{ modle: m.onnx, name: iris }") == [
            "p.yaml:6:5: error: stage 'package' is missing `with:` key 'model' required by kind 'serialize'; add it under `with:`",
            "p.yaml:6:13: error: unknown `with:` key 'modle' for kind 'serialize'; did you mean 'model'?",
        ])
        #expect(lint("{ model: m.onnx, name: iris, requirements: [numpy>=2] }") == [
            "p.yaml:6:55: error: with.requirements[0]: 'numpy>=2' is a range, not one pinned version; "
                + "write name==version, for example numpy==2.4.6",
        ])
        #expect(lint("{ model: m.onnx, name: iris, metadata: [a, b] }") == [
            "p.yaml:6:50: error: with.metadata: [\"a\",\"b\"] is not a mapping of labels; write for example "
                + "{ team: vision, dataset: iris-v2 }",
        ])
        #expect(lint("{ model: m.onnx, name: 'iris classifier' }").first?.hasPrefix(
            "p.yaml:6:34: error: with.name: 'iris classifier' is not a model name;") == true)
        #expect(lint("{ model: m.onnx, name: iris, signature: { inputs: [{ name: X, datatype: float99, shape: [-1] }] } }")
                .first?.hasPrefix("p.yaml:6:83: error: with.signature.inputs[0].datatype: 'float99' is not an Open "
                                  + "Inference Protocol datatype; use one of BOOL,") == true)
    }

    @Test("a signature in with: is read with protocol datatypes, and numpy names are taken too")
    func signatureSetting() throws {
        let decoded = try settings("{ model: m.onnx, name: iris, signature: { inputs: [{ name: X, datatype: float32, "
                                   + "shape: [-1, 4] }], outputs: [{ name: label, datatype: INT64, shape: [-1] }] } }")
        #expect(decoded.signature?.inputs.map(\.datatype.rawValue) == ["FP32"])
        #expect(decoded.signature?.outputs.map(\.shape) == [[-1]])
    }
}
