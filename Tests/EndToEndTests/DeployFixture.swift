import Foundation
import Testing

/// The source tree's root, for the serving template and the venv.
let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The venv with the serving app's and the model runtime's packages: $MLPIPE_VENV, else
/// the source tree's workspace/venv (`make venv`).
let servingVenv: String = ProcessInfo.processInfo.environment["MLPIPE_VENV"] ?? sourceRoot + "/workspace/venv"

/// Writes a model package by hand: an ONNX MatMul by a 4x3 matrix of `SCALE` (so `X =
/// [1, 2, 3, 4]` gives `y = [10·SCALE] * 3`), or, with `SCALE=broken`, bytes that
/// onnxruntime cannot load (the manifest is still right, so the app starts and never
/// becomes ready).
private let packageScript = """
    import hashlib, json, os, sys
    import numpy as np, onnx
    from onnx import TensorProto, helper, numpy_helper
    package, scale = sys.argv[1], os.environ['SCALE']
    os.makedirs(os.path.join(package, 'model'), exist_ok=True)
    path = os.path.join(package, 'model', 'model.onnx')
    if scale == 'broken':
        with open(path, 'wb') as f:
            f.write(b'this is not an onnx model')
    else:
        w = numpy_helper.from_array(np.full((4, 3), float(scale), np.float32), 'W')
        graph = helper.make_graph([helper.make_node('MatMul', ['X', 'W'], ['y'])], 'scale',
            [helper.make_tensor_value_info('X', TensorProto.FLOAT, ['batch', 4])],
            [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 3])], initializer=[w])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        model.ir_version = 9
        onnx.save_model(model, path)
    data = open(path, 'rb').read()
    manifest = {
        'schema': 'mlpipe-model/v1', 'name': 'scaler', 'format': 'onnx', 'flavor': 'onnx', 'model': 'model/model.onnx',
        'files': [{'path': 'model/model.onnx', 'sha256': 'sha256:' + hashlib.sha256(data).hexdigest(), 'size': len(data)}],
        'signature': {'inputs': [{'name': 'X', 'datatype': 'FP32', 'shape': [-1, 4]}],
                      'outputs': [{'name': 'y', 'datatype': 'FP32', 'shape': [-1, 3]}]},
        'requirements': ['numpy==2.4.6', 'onnxruntime==1.32.0'], 'metadata': {'scale': scale},
        'source': {'commit': '', 'pipeline': 'scaler', 'stage': 'package', 'runId': 1},
        'scan': {'verdict': 'safe', 'reportDigest': 'sha256:' + 'e' * 64, 'allow': []},
        'createdAt': '2026-11-30T12:00:00Z',
    }
    with open(os.path.join(package, 'mlpipe-model.json'), 'w') as f:
        f.write(json.dumps(manifest, indent=2, sort_keys=True) + '\\n')

    """

/// package (a command) -> register (alias staging) -> deploy (promote production), then
/// `extra` stages.
func deployPipeline(readyTimeout: Int = 30, extra: String = "") -> String {
    """
    version: 1
    name: scaler
    params:
      scale: "1"
    stages:
      package:
        run: python3 scripts/package.py ${{ outputs.package }}
        env: { SCALE: "${{ params.scale }}" }
        inputs: [scripts/package.py]
        outputs: { package: package }
      register:
        kind: register
        with: { name: scaler, package: "${{ stages.package.outputs.package }}", aliases: [staging] }
      deploy:
        kind: deploy
        needs: [register]
        with:
          model: scaler@staging
          promote: production
          ready_timeout: \(readyTimeout)
          env: { MLPIPE_WORKERS: "1" }
          template: \(sourceRoot)/templates/serving/python
    \(extra)
    """
}

/// A repository with the package script and `pipeline`, and what running it needs.
struct DeployRepo {
    let repo: TempRepo

    init(pipeline: String = deployPipeline(), files: [String: String] = [:]) throws {
        repo = try TempRepo(files: ["scripts/package.py": packageScript, "pipelines/scaler.yaml": pipeline]
            .merging(files) { $1 })
    }

    /// The environment of mlpipe: the venv first on PATH (the package script needs numpy
    /// and onnx), and MLPIPE_VENV for the deployed app.
    var environment: [String: String] {
        ["MLPIPE_VENV": servingVenv,
         "PATH": servingVenv + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    /// `mlpipe run --param scale=SCALE` and `arguments`, with `env` over `environment`.
    func run(scale: String, _ arguments: [String] = [], env: [String: String] = [:]) throws -> Outcome {
        try repo.mlpipe(arguments: ["run", "--param", "scale=\(scale)"] + arguments,
                        env: environment.merging(env) { $1 }, timeout: 180)
    }

    /// `mlpipe deployments list --json`.
    func deployments() throws -> [[String: Any]] {
        let result = try repo.mlpipe("deployments", "list", "--json")
        guard result.status == 0, let list = try result.json() as? [[String: Any]] else {
            throw HarnessError(description: "deployments list --json: \(result)")
        }
        return list
    }

    /// Stops what the test deployed: `deployments stop scaler`, then SIGKILL by pid for
    /// anything that still runs. Call it from a `defer`.
    func stopAll() {
        let pids = ((try? deployments()) ?? []).compactMap { $0["pid"] as? Int }.map { pid_t($0) }
        _ = try? repo.mlpipe("deployments", "stop", "scaler", timeout: 60)
        for pid in pids where isAlive(pid) && (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?
            .contains("mlpipe_serving") == true {
            kill(-pid, SIGKILL)
        }
    }

    /// The `y` a V2 inference of X = [1, 2, 3, 4] gets from `endpoint`, through the venv's
    /// Python.
    func infer(_ endpoint: String) throws -> [Double] {
        let script = """
            import json, sys, urllib.request
            body = json.dumps({'inputs': [{'name': 'X', 'datatype': 'FP32', 'shape': [1, 4], 'data': [1, 2, 3, 4]}]})
            request = urllib.request.Request(sys.argv[1] + '/v2/models/scaler/infer', body.encode(),
                                             {'Content-Type': 'application/json'})
            print(json.dumps(json.load(urllib.request.urlopen(request, timeout=10))['outputs'][0]['data']))
            """
        let result = try runProcess(servingVenv + "/bin/python", ["-c", script, endpoint], in: repo.root)
        guard result.status == 0, let data = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Double]
        else { throw HarnessError(description: "inference at \(endpoint) failed: \(result)") }
        return data
    }
}
