import Testing
import PipelineSpec

/// `with.format`: one of two names.
private struct GateFormat: Decodable, Sendable, Equatable {
    var name: String
    init(from decoder: any Decoder) throws {
        name = try decoder.singleValueContainer().decode(String.self)
        guard ["onnx", "pickle"].contains(name) else {
            throw SettingsError("'\(name)' is not a model format; use one of onnx, pickle")
        }
    }
}

/// One size of a tensor's shape.
private struct Dimension: Decodable, Sendable, Equatable {
    var size: Int
    init(from decoder: any Decoder) throws {
        size = try decoder.singleValueContainer().decode(Int.self)
        guard size >= -1 else { throw SettingsError("\(size) is not a size; use a whole number, or -1 for any size") }
    }
}

private struct Tensor: Decodable, Sendable, Equatable {
    var name: String
    var shape: [Dimension]
}

private struct GateSettings: KindSettings, Equatable {
    var model: String
    var format: GateFormat?
    var max_size: Int?
    var inputs: [Tensor]?
}

/// A required key whose type refuses the placeholder a missing key decodes as.
private struct StrictSettings: KindSettings {
    var format: GateFormat
    var max_size: Int?
}

private let kinds: [String: KindSchema] = [
    "strict": KindSchema(name: "strict", settings: StrictSettings.self),
    "command": KindSchema(name: "command", runAllowed: true, runRequired: true),
    "gate": KindSchema(name: "gate", settings: GateSettings.self),
    "plain": KindSchema(name: "plain"),
]

private func check(_ yaml: String) -> [String] {
    do {
        _ = try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: kinds, secretProviders: testSecretProviders)
        return []
    } catch {
        return error.diagnostics.map(\.rendered)
    }
}

/// A pipeline whose stage `gate` has `with:` as given (indented under `with:`).
private func gate(_ with: String, params: String = "{ f: onnx, n: 4 }") -> String {
    """
    version: 1
    name: t
    params: \(params)
    stages:
      train: { run: train, outputs: { model: m.onnx } }
      gate:
        kind: gate
        with:
    \(with.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))

    """
}

@Suite("with: decoded into the kind's settings type")
struct SettingsDecoderTests {
    @Test("an unknown key is reported at its line and column with a did-you-mean, beside a bad value of another key")
    func unknownKeyBesideBadValue() {
        // Line 9 is the first line under `with:`; keys start at column 7.
        #expect(check(gate("model: m.onnx\nfromat: onnx\nformat: onx")) == [
            "pipeline.yaml:10:7: error: unknown `with:` key 'fromat' for kind 'gate'; did you mean 'format'?",
            "pipeline.yaml:11:15: error: with.format: 'onx' is not a model format; use one of onnx, pickle",
        ])
    }

    @Test("a value of the wrong type is reported with what was expected and what was found")
    func wrongType() {
        #expect(check(gate("model: m.onnx\nmax_size: [1, 2]")) == [
            "pipeline.yaml:10:17: error: with.max_size: expected a whole number, found a list",
        ])
        #expect(check(gate("model: 3")) == [
            "pipeline.yaml:9:14: error: with.model: expected a string, found the number 3; put it in quotes if you mean text",
        ])
    }

    @Test("a missing key is reported at with:, a missing nested key at its mapping")
    func missingKeys() {
        #expect(check(gate("format: onnx\ninputs: [{ shape: [1] }]")) == [
            "pipeline.yaml:8:5: error: stage 'gate' is missing `with:` key 'model' required by kind 'gate'; add it under `with:`",
            "pipeline.yaml:10:16: error: with.inputs[0]: missing key 'name'; add it",
        ])
    }

    @Test("a misspelt required key is reported as missing and as unknown, with a did-you-mean but no list of keys")
    func misspeltRequiredKey() {
        let yaml = "version: 1\nname: t\nstages:\n  a:\n    kind: strict\n    with: { fromat: onnx, max_size: 3, colour: red }\n"
        #expect(check(yaml) == [
            "pipeline.yaml:6:5: error: stage 'a' is missing `with:` key 'format' required by kind 'strict'; add it under `with:`",
            "pipeline.yaml:6:13: error: unknown `with:` key 'fromat' for kind 'strict'; did you mean 'format'?",
            "pipeline.yaml:6:40: error: unknown `with:` key 'colour' for kind 'strict'",
        ])
    }

    @Test("every problem of one with: is reported, not only the first")
    func everyProblem() {
        #expect(check(gate("format: onx\nmax_size: big\nmodle: m.onnx\ninputs: [{ name: x, shape: [-2, 4, -3] }]")) == [
            "pipeline.yaml:8:5: error: stage 'gate' is missing `with:` key 'model' required by kind 'gate'; add it under `with:`",
            "pipeline.yaml:9:15: error: with.format: 'onx' is not a model format; use one of onnx, pickle",
            "pipeline.yaml:10:17: error: with.max_size: expected a whole number, found the string 'big'",
            "pipeline.yaml:11:7: error: unknown `with:` key 'modle' for kind 'gate'; did you mean 'model'?",
            "pipeline.yaml:12:35: error: with.inputs[0].shape[0]: -2 is not a size; use a whole number, or -1 for any size",
            "pipeline.yaml:12:42: error: with.inputs[0].shape[2]: -3 is not a size; use a whole number, or -1 for any size",
        ])
    }

    @Test("a value inside a list and a mapping is reported at its own line and column")
    func nestedValueLocated() {
        let with = """
            model: m.onnx
            inputs:
              - name: x
                shape: [-1, 4]
              - name: y
                shape:
                  - 3
                  - -9
            """
        #expect(check(gate(with)) == [
            "pipeline.yaml:16:15: error: with.inputs[1].shape[1]: -9 is not a size; use a whole number, or -1 for any size",
        ])
    }

    @Test("a value from an expression is not judged at lint time, and a required one passes")
    func deferredValuesPassLint() {
        let with = """
            model: ${{ stages.train.outputs.model }}
            format: "${{ params.f }}"
            max_size: "${{ params.n }}"
            inputs: [{ name: "${{ params.f }}", shape: ["${{ params.n }}", -5] }, "${{ params.t }}"]
            """
        #expect(check(gate(with, params: "{ f: onnx, n: 4, t: x }")) == [
            "pipeline.yaml:12:70: error: with.inputs[0].shape[1]: -5 is not a size; use a whole number, or -1 for any size",
        ])
        // A required value whose type refuses the placeholder: dropped, and the rest is checked.
        let strict = "version: 1\nname: t\nparams: { f: onnx }\nstages:\n  a:\n    kind: strict\n"
            + "    with: { format: \"${{ params.f }}\", colour: red }\n"
        #expect(check(strict) == ["pipeline.yaml:7:40: error: unknown `with:` key 'colour' for kind 'strict'"])
    }

    @Test("a value from an expression is checked when the stage starts, with the lint message at the expression")
    func deferredValuesAtStart() throws {
        let pipeline = try PipelineLoader.parse(
            source: gate("model: ${{ stages.train.outputs.model }}\nformat: \"${{ params.f }}\"\nmax_size: \"${{ params.n }}\""),
            file: "pipeline.yaml", kinds: kinds, secretProviders: testSecretProviders)
        let stage = try #require(pipeline.stage(named: "gate"))
        let rendered: [String: Value] = [
            "model": .string("/runs/1/train/m.onnx"), "format": .string("onx"), "max_size": .string("${{ params.n }}"),
        ]
        #expect(throws: SettingsFailure.self) { try SettingsDecoder.decode(GateSettings.self, from: rendered, of: stage) }
        do {
            _ = try SettingsDecoder.decode(GateSettings.self, from: rendered, of: stage)
        } catch {
            #expect(error.diagnostics.map(\.rendered) == [
                "pipeline.yaml:10:15: error: with.format: 'onx' is not a model format; use one of onnx, pickle",
                "pipeline.yaml:11:17: error: with.max_size: expected a whole number, found the string '${{ params.n }}'",
            ])
        }
        let good: [String: Value] = [
            "model": .string("/runs/1/train/m.onnx"), "format": .string("onnx"), "max_size": .int(4),
        ]
        let settings = try SettingsDecoder.decode(GateSettings.self, from: good, of: stage)
        #expect(settings.model == "/runs/1/train/m.onnx")
        #expect(settings.format?.name == "onnx")
        #expect(settings.max_size == 4)
        #expect(settings.inputs == nil)
    }

    @Test("a kind that takes no settings refuses any with: key")
    func noSettings() {
        let yaml = "version: 1\nname: t\nstages:\n  a:\n    kind: plain\n    with: { x: 1 }\n  b:\n    kind: plain\n    with: {}\n"
        #expect(check(yaml) == ["pipeline.yaml:6:5: error: kind 'plain' takes no `with:` settings; remove `with:`"])
    }
}
