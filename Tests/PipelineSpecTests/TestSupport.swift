import PipelineSpec

/// The kinds the engine registers, with the same shapes, so that the loader's checks run
/// against something real.
let testKinds: [String: KindSchema] = {
    let schemas = [
        KindSchema(name: "command", runAllowed: true, runRequired: true),
        KindSchema(name: "validate", settings: ValidateTestSettings.self, results: ["format", "verdict", "sha256"]),
        KindSchema(name: "serialize", settings: SerializeTestSettings.self),
        KindSchema(name: "register", settings: RegisterTestSettings.self, results: ["version"]),
        KindSchema(name: "deploy", settings: DeployTestSettings.self, cachedByDefault: false),
        KindSchema(name: "smoke-test", settings: SmokeTestSettings.self, cachedByDefault: false),
    ]
    return Dictionary(uniqueKeysWithValues: schemas.map { ($0.name, $0) })
}()

struct ValidateTestSettings: KindSettings {
    var model: String
    var format: String?
    var signature: Value?
    var checksum: String?
    var max_size: Value?
}

struct SerializeTestSettings: KindSettings {
    var model: String
    var name: String?
    var format: String?
}

struct RegisterTestSettings: KindSettings {
    var package: String
    var alias: String?
    var metrics: Value?
    var password: String?
}

struct DeployTestSettings: KindSettings {
    var package: String
    var target: String?
    var port: Int?
}

struct SmokeTestSettings: KindSettings {
    var endpoint: String
    var requests: Value
    var max_error_rate: Double?
}

/// The secret providers the engine registers, plus a `vault` one, which the loader must
/// take as readily as the built-in ones.
let testSecretProviders: Set<String> = ["env", "file", "vault"]

/// The pipeline of DESIGN.md, written out in full.
let irisPipeline = """
version: 1
name: iris
params:
  min_accuracy: 0.9
  epochs: 3
env:
  PYTHONHASHSEED: "0"
secrets:
  REGISTRY_PASSWORD: { env: REGISTRY_PASSWORD }
stages:
  train:
    kind: command
    run: python3 examples/iris/train.py --epochs ${{ params.epochs }} --out ${{ outputs.model }}
    inputs: [examples/iris/train.py, examples/iris/data.csv]
    outputs: { model: model.onnx }
    metrics: metrics.json
    timeout: 10m
  validate:
    kind: validate
    with: { model: "${{ stages.train.outputs.model }}", format: onnx }
  serialize:
    kind: serialize
    needs: validate
    outputs: { package: package/ }
    with:
      model: "${{ stages.train.outputs.model }}"
  register:
    kind: register
    with:
      package: "${{ stages.serialize.outputs.package }}"
      password: "${{ secrets.REGISTRY_PASSWORD }}"
    secrets: [REGISTRY_PASSWORD]
    retries: 2
  evaluate:
    run: test ${{ stages.train.metrics.accuracy }} '>' ${{ params.min_accuracy }}
    needs: [train]
    cache: false

"""

/// Parses `yaml` as `pipeline.yaml` and returns the rendered diagnostics, or [] when the
/// file is valid.
func lint(_ yaml: String, file: String = "pipeline.yaml") -> [String] {
    do {
        _ = try PipelineLoader.parse(source: yaml, file: file, kinds: testKinds, secretProviders: testSecretProviders)
        return []
    } catch {
        return error.diagnostics.map(\.rendered)
    }
}

/// Parses `yaml`, which must be valid.
func load(_ yaml: String) throws -> Pipeline {
    try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: testKinds, secretProviders: testSecretProviders)
}
