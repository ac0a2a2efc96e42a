import Foundation
import Testing

/// A training script that pickles a benign dict, or with EVIL=1 an object whose
/// `__reduce__` calls `os.system`, with Python's own pickle (protocol 2).
private let trainScript = """
    import os, pickle, sys, types
    class Evil:
        def __reduce__(self):
            return (os.system, ('true',))
    kind = os.environ.get('MODEL', 'benign')
    if kind == 'evil':
        value = Evil()
    elif kind == 'custom':
        for name in ('mypkg', 'mypkg.models'):
            sys.modules[name] = types.ModuleType(name)
        Net = type('Net', (), {})
        Net.__module__ = 'mypkg.models'
        sys.modules['mypkg.models'].Net = Net
        value = Net()
    else:
        value = {'coef': [0.5, 1.5], 'classes': ('a', 'b')}
    with open(sys.argv[1], 'wb') as f:
        f.write(pickle.dumps(value, protocol=2))

    """

/// A pipeline that trains (writes a pickle), validates it with `with`, then packages.
private func pipeline(model: String = "benign", with settings: String) -> String {
    """
    version: 1
    name: gate
    env:
      MODEL: \(model)
    stages:
      train:
        run: python3 scripts/train.py ${{ outputs.model }}
        inputs: [scripts/train.py]
        outputs: { model: model.pkl }
      validate:
        kind: validate
        with: \(settings)
        outputs: { report: report.json }
      package:
        run: echo packaged > ${{ outputs.done }}
        needs: [validate]
        outputs: { done: done.txt }

    """
}

private func gateRepo(model: String = "benign",
                      with settings: String = #"{ model: "${{ stages.train.outputs.model }}" }"#) throws -> TempRepo {
    try TempRepo(files: ["scripts/train.py": trainScript,
                         "pipelines/gate.yaml": pipeline(model: model, with: settings)])
}

/// The stage's report.json of the latest run, as a JSON object.
private func report(_ repo: TempRepo, run: Int = 1) throws -> [String: Any] {
    let text = try #require(repo.read("workspace/runs/\(run)/validate/report.json"))
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite("the validate stage")
struct ValidateStageTests {
    @Test("a benign model passes the gate, writes its report as an output, and the next run is cached")
    func benignPasses() throws {
        let repo = try gateRepo()
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        #expect(try repo.statuses() == ["train": "succeeded", "validate": "succeeded", "package": "succeeded"])
        let object = try report(repo)
        #expect(object["verdict"] as? String == "safe")
        #expect(object["passed"] as? Bool == true)
        #expect(object["format"] as? String == "pickle")
        #expect(object["model"] as? String == "workspace/runs/1/train/model.pkl")
        #expect((object["sha256"] as? String)?.hasPrefix("sha256:") == true)
        let outputs = try #require(try repo.stages()["validate"]?["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["name"] as? String } == ["report"])
        let second = try repo.mlpipe("run")
        #expect(second.status == 0)
        #expect(try repo.statuses("latest")["validate"] == "cached")
    }

    @Test("validate's sha256 result reaches a later stage as ${{ stages.validate.results.sha256 }}, also from a cache hit")
    func sha256ResultDownstream() throws {
        let source = pipeline(with: #"{ model: "${{ stages.train.outputs.model }}" }"#)
            .replacingOccurrences(of: "run: echo packaged > ${{ outputs.done }}\n    needs: [validate]",
                                  with: "run: echo ${{ stages.validate.results.sha256 }} > ${{ outputs.done }}")
        #expect(source.contains("stages.validate.results.sha256"))
        let repo = try TempRepo(files: ["scripts/train.py": trainScript, "pipelines/gate.yaml": source])
        let first = try repo.mlpipe("run")
        #expect(first.status == 0, "\(first)")
        let digest = try #require(try report(repo)["sha256"] as? String)
        #expect(repo.read("workspace/runs/1/package/done.txt") == digest + "\n")
        let results = try #require(try repo.stages()["validate"]?["results"] as? [String: Any])
        #expect(results["sha256"] as? String == digest)
        #expect(results["verdict"] as? String == "safe" && results["format"] as? String == "pickle")

        // From the cache: validate is a hit, its results come back, and a forced package reads them.
        let second = try repo.mlpipe("run", "--force", "package")
        #expect(second.status == 0, "\(second)")
        #expect(try repo.statuses() == ["train": "cached", "validate": "cached", "package": "succeeded"])
        #expect(repo.read("workspace/runs/2/package/done.txt") == digest + "\n")
    }

    @Test("an unsafe model fails the stage with its global and offset, on stdout and stderr; the report stays and nothing downstream runs")
    func unsafeFails() throws {
        let repo = try gateRepo(model: "evil")
        let result = try repo.mlpipe("run")
        #expect(result.status == 1, "\(result)")
        let finding = "workspace/runs/1/train/model.pkl: unsafe: GLOBAL imports posix.system, which runs code or commands (at byte 2)"
        #expect(result.lines.contains { $0.contains(" validate ") && $0.contains("failed") && $0.hasSuffix(": " + finding) },
                "\(result)")
        #expect(result.errorLines.contains("  | " + finding), "\(result)")
        #expect(try repo.statuses() == ["train": "succeeded", "validate": "failed", "package": "skipped"])
        #expect(repo.read("workspace/runs/1/package/done.txt") == nil)
        let object = try report(repo)
        #expect(object["verdict"] as? String == "unsafe")
        #expect(object["passed"] as? Bool == false)
        let files = try #require(object["files"] as? [[String: Any]])
        let first = try #require((files.first?["findings"] as? [[String: Any]])?.first)
        #expect(first["global"] as? String == "posix.system")
        #expect(first["opcode"] as? String == "GLOBAL")
        #expect(first["offset"] as? Int == 2)
    }

    @Test("allow: names a global the default policy refuses, and the model passes")
    func allowExtends() throws {
        let refused = try gateRepo(model: "custom")
        #expect(try refused.mlpipe("run").status == 1)
        #expect(try report(refused)["verdict"] as? String == "unsafe")
        let allowed = try gateRepo(model: "custom", with: """
            { model: "${{ stages.train.outputs.model }}", allow: [mypkg.models.Net] }
            """)
        let result = try allowed.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        #expect(try report(allowed)["allowed"] as? [String] == ["mypkg.models.Net"])
    }

    @Test("a wrong format, size or digest fails the stage and says which")
    func expectations() throws {
        let cases: [(String, String)] = [
            ("format: onnx", "invalid: expected onnx, but the bytes are pickle"),
            ("max_size: 10", "invalid: the model is "),
            ("sha256: \"" + String(repeating: "ab", count: 32) + "\"", "invalid: the model's digest is sha256:"),
        ]
        for (setting, message) in cases {
            let repo = try gateRepo(with: #"{ model: "${{ stages.train.outputs.model }}", "# + setting + " }")
            let result = try repo.mlpipe("run")
            #expect(result.status == 1, "\(setting): \(result)")
            #expect(result.lines.contains { $0.contains("validate") && $0.contains(message) }, "\(setting): \(result)")
        }
    }

    @Test("a with: value that comes from an expression is checked when the stage starts, naming the key")
    func badValueFromExpression() throws {
        let repo = try gateRepo(with: #"{ model: "${{ stages.train.outputs.model }}", format: "${{ env.MODEL }}" }"#)
        #expect(try repo.mlpipe("lint").status == 0)
        let result = try repo.mlpipe("run")
        #expect(result.status == 1, "\(result)")
        #expect(result.lines.contains { $0.contains("validate")
                    && $0.contains("with.format: 'benign' is not a model format") }, "\(result)")
    }

    @Test("the with: keys are checked at lint time, with a did-you-mean and the missing required key")
    func lintChecksKeys() throws {
        let repo = try gateRepo(with: "{ modle: x, format: onnx }")
        let result = try repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.contains { $0.hasPrefix("pipelines/gate.yaml:") && $0.contains("'modle'")
                    && $0.contains("did you mean 'model'") }, "\(result)")
        #expect(result.errorLines.contains { $0.hasPrefix("pipelines/gate.yaml:") && $0.contains("model") 
                    && ($0.contains("required") || $0.contains("missing")) }, "\(result)")
        let run = try repo.mlpipe("run")
        #expect(run.status == 2)
        #expect(repo.read("workspace/runs/1/train/model.pkl") == nil, "nothing ran")
    }

    @Test("a with: value that cannot be used is reported by lint at its line and column, before anything runs")
    func badValues() throws {
        let cases: [(String, String)] = [
            ("format: onx", "with.format: 'onx' is not a model format; use one of auto, pickle, joblib, numpy, pytorch,"),
            ("max_size: lots", "with.max_size: 'lots' is not a size;"),
            ("allow: [os]", "with.allow[0]: 'os' is not module.name or module.*;"),
            ("sha256: abc", "with.sha256: 'abc' is not a SHA-256 digest;"),
            ("signature: { inputs: [{ name: x, dtype: float32, shape: [any] }] }",
             "with.signature.inputs[0].shape[0]: 'any' is not a size; use a whole number, or -1 for any size"),
        ]
        for (setting, message) in cases {
            let repo = try gateRepo(with: #"{ model: "${{ stages.train.outputs.model }}", "# + setting + " }")
            let result = try repo.mlpipe("run")
            #expect(result.status == 2, "\(setting): \(result)")
            #expect(result.errorLines.contains { $0.hasPrefix("pipelines/gate.yaml:12:") && $0.contains(": error: " + message) },
                    "\(setting): \(result)")
            #expect(repo.read("workspace/runs/1/train/model.pkl") == nil, "nothing ran")
            if setting == "format: onx" {
                #expect(result.errorLines.first?.hasPrefix("pipelines/gate.yaml:12:65: error: with.format:") == true, "\(result)")
            }
        }
    }

    @Test("an ONNX model in the repository is held to its declared signature")
    func onnxSignature() throws {
        let repo = try TempRepo()
        try makeONNX(at: repo.path("models/mlp.onnx"))
        let matching = """
            { model: models/mlp.onnx, format: onnx,
              signature: { inputs: [{ name: x, dtype: FP32, shape: [-1, 4] }],
                           outputs: [{ name: y, dtype: float32, shape: [-1, 3] }] } }
            """
        let wrong = """
            { model: models/mlp.onnx, format: onnx,
              signature: { inputs: [{ name: x, dtype: float32, shape: [-1, 5] }], outputs: [] } }
            """
        for (name, settings) in [("ok", matching), ("wrong", wrong)] {
            try repo.write("pipelines/\(name).yaml", """
                version: 1
                name: \(name)
                stages:
                  validate:
                    kind: validate
                    inputs: [models/mlp.onnx]
                    with: \(settings)

                """)
        }
        try repo.commit("models")
        let passed = try repo.mlpipe("run", "ok")
        #expect(passed.status == 0, "\(passed)")
        let failed = try repo.mlpipe("run", "wrong")
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.lines.contains { $0.hasSuffix(
            ": models/mlp.onnx: invalid: input 'x' has shape [-1, 4], expected [-1, 5] (-1 is any size)") }, "\(failed)")
        let reportText = try #require(repo.read("workspace/runs/2/validate/report.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reportText.utf8)) as? [String: Any])
        let signature = try #require(object["signature"] as? [String: Any])
        #expect((signature["inputs"] as? [[String: Any]])?.first?["name"] as? String == "x")
    }
}

/// Writes a small ONNX model (x[batch, 4] -> y[batch, 3]) with the onnx package from the
/// venv that `make venv` makes (or $MLPIPE_PYTHON).
func makeONNX(at path: String) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let python = ProcessInfo.processInfo.environment["MLPIPE_PYTHON"] ?? root + "/workspace/venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw HarnessError(description: "no python at \(python); run `make venv` (or set MLPIPE_PYTHON)")
    }
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    let script = """
        import sys, numpy as np, onnx
        from onnx import TensorProto, helper, numpy_helper
        w = numpy_helper.from_array(np.ones((4, 3), np.float32), 'W')
        graph = helper.make_graph([helper.make_node('MatMul', ['x', 'W'], ['y'])], 'mlp',
            [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 4])],
            [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 3])], initializer=[w])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        model.ir_version = 9
        onnx.checker.check_model(model)
        onnx.save_model(model, sys.argv[1])
        """
    let result = try runProcess(python, ["-c", script, path], in: NSTemporaryDirectory())
    guard result.status == 0 else { throw HarnessError(description: "making the ONNX model failed: \(result)") }
}
