import Foundation
import PipelineSpec
import Testing

/// `params_files:`: values from YAML or JSON files over the `params:` defaults, and the
/// located errors of a missing file or an undeclared key.
@Suite("params files")
struct ParamsFileTests {
    static let pipeline = """
        version: 1
        name: p
        params_files: [params.yaml, conf/extra.json]
        params:
          lr: 0.1
          epochs: 3
          name: base
        stages:
          a:
            run: echo ${{ params.lr }}

        """

    /// A temporary folder holding `files` (path -> text), removed afterwards.
    func withFolder(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (path, text) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try body(root)
    }

    @Test("files override the defaults in the order listed, and --param overrides them")
    func order() throws {
        try withFolder(["params.yaml": "lr: 0.2\nepochs: 5\n", "conf/extra.json": "{\"epochs\": 7}"]) { root in
            let pipeline = try load(Self.pipeline).applying(paramsFilesIn: root)
            #expect(pipeline.params == ["lr": .double(0.2), "epochs": .int(7), "name": .string("base")])
            let overridden = try pipeline.applying(paramOverrides: [("lr", "0.3")])
            #expect(overridden.params["lr"] == .double(0.3))
        }
    }

    @Test("a missing file is reported at its entry, an undeclared key at its place in the params file")
    func errors() throws {
        try withFolder(["params.yaml": "lr: 0.2\nepoch: 5\n"]) { root in
            let pipeline = try load(Self.pipeline)
            do {
                _ = try pipeline.applying(paramsFilesIn: root)
                Issue.record("an undeclared key and a missing file were accepted")
            } catch let error as SpecErrors {
                #expect(error.diagnostics.map(\.rendered) == [
                    "params.yaml:2:1: error: unknown param 'epoch' in params file (it may set only params declared "
                        + "under `params:` in pipeline.yaml); did you mean 'epochs'?",
                    "pipeline.yaml:3:29: error: params file 'conf/extra.json' does not exist in the repository "
                        + "(\(root)); create it, or remove it from `params_files`",
                ])
            }
        }
    }

    @Test("a params file outside the repository is refused in the pipeline file")
    func outside() {
        #expect(lint("version: 1\nname: p\nparams_files: [../p.yaml, /etc/p.yaml]\nstages:\n  a:\n    run: 'true'\n")
            == ["pipeline.yaml:3:16: error: params file '../p.yaml' is not a file inside the repository; write e.g. 'params.yaml'",
                "pipeline.yaml:3:27: error: params file '/etc/p.yaml' is absolute; write it relative to the repository "
                + "root, e.g. 'params.yaml'"])
    }
}
