import Foundation
import PipelineEngine
import PipelineSpec
import StageKinds
import Testing

/// The example pipelines the repository ships must always load, with the kinds mlpipe
/// ships (so that every `with:` of the example is checked against its real settings).
@Suite("repository pipelines")
struct RepositoryPipelineTests {
    /// `pipelines/` of the checkout this test file belongs to (symlinks resolved, so it
    /// also works from a package that links the test folder in).
    static let folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("pipelines")

    @Test("pipelines/iris.yaml loads, with its stages in order")
    func iris() throws {
        let path = Self.folder.appendingPathComponent("iris.yaml").path
        let pipeline = try PipelineLoader.load(path: path, displayPath: "pipelines/iris.yaml", kinds: Self.kinds,
                                                secretProviders: ["env", "file"])
        #expect(pipeline.name == "iris")
        #expect(pipeline.topologicalOrder.first == "prepare")
        let export = try #require(pipeline.stage(named: "export"))
        #expect(export.dependencies.contains("train"))
        #expect(pipeline.upstream(of: ["export"]).isSuperset(of: ["prepare", "train", "evaluate"]))
        #expect(pipeline.topologicalOrder.last == "deploy-k8s")
        #expect(pipeline.upstream(of: ["smoke-test"]).isSuperset(of: ["deploy", "register"]))
        #expect(pipeline.upstream(of: ["deploy-k8s"]).contains("smoke-test"))
        #expect(pipeline.stage(named: "deploy-k8s")?.kind == "deploy")
        #expect(pipeline.upstream(of: ["register"]).isSuperset(of: ["validate", "package", "image"]))
    }

    static let kinds = BuiltinKinds.registry().schemas

    func lint(_ yaml: String, file: String) -> [String] {
        do {
            _ = try PipelineLoader.parse(source: yaml, file: file, kinds: Self.kinds, secretProviders: ["env", "file"])
            return []
        } catch {
            return error.diagnostics.map(\.rendered)
        }
    }

    @Test("a typo inside a folded multi-line run: is reported on its own line and column")
    func foldedScalarLocations() throws {
        let path = Self.folder.appendingPathComponent("iris.yaml").path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let broken = source.replacingOccurrences(of: "--out ${{ outputs.model }}\n    inputs: [examples/iris/train.py",
                                                 with: "--out ${{ outputs.modle }}\n    inputs: [examples/iris/train.py")
        try #require(broken != source)
        let lines = broken.split(separator: "\n", omittingEmptySubsequences: false)
        let lineIndex = try #require(lines.firstIndex { $0.contains("outputs.modle") })
        let column = try #require(lines[lineIndex].range(of: "outputs.modle")).lowerBound.utf16Offset(in: lines[lineIndex]) + 1
        #expect(lint(broken, file: "pipelines/iris.yaml") == [
            "pipelines/iris.yaml:\(lineIndex + 1):\(column): error: unknown output 'modle' of stage 'train' in "
                + "expression; did you mean 'model'?",
        ])
    }
}
