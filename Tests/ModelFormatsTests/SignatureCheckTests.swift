import Testing
@testable import ModelFormats

@Suite("signature check")
struct SignatureCheckTests {
    let model = ModelSignature(
        inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, 4])],
        outputs: [TensorSpec(name: "label", dtype: "int64", shape: [-1]),
                  TensorSpec(name: "probabilities", dtype: "float32", shape: [-1, 3])])

    func messages(_ expected: ModelSignature, _ found: ModelSignature?) -> [String] {
        let findings = SignatureCheck.compare(expected: expected, found: found)
        #expect(findings.allSatisfy { $0.kind == "signature-mismatch" && $0.verdict == .invalid })
        return findings.map(\.message)
    }

    @Test("the model's own signature matches, and so does one with -1 for any size")
    func matches() {
        #expect(messages(model, model) == [])
        let loose = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, -1])],
                                   outputs: [TensorSpec(name: "label", dtype: "int64", shape: [-1])])
        #expect(messages(loose, model) == [])
    }

    @Test("a fixed expected size matches a dimension the model leaves dynamic")
    func fixedAgainstDynamic() {
        let fixed = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [1, 4])],
                                   outputs: [])
        #expect(messages(fixed, model) == [])
    }

    @Test("dtype spellings of numpy and the inference protocol are one type; other types differ")
    func dtypes() {
        let v2 = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "FP32", shape: [-1, 4])],
                                outputs: [TensorSpec(name: "label", dtype: "INT64", shape: [-1])])
        #expect(messages(v2, model) == [])
        let wrong = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float64", shape: [-1, 4])],
                                   outputs: [])
        #expect(messages(wrong, model) == ["input 'x' has dtype float32, expected float64"])
    }

    @Test("a different size or rank is a mismatch that shows both shapes")
    func shapes() {
        let size = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, 5])], outputs: [])
        #expect(messages(size, model) == ["input 'x' has shape [-1, 4], expected [-1, 5] (-1 is any size)"])
        let rank = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1])], outputs: [])
        #expect(messages(rank, model) == ["input 'x' has shape [-1, 4], expected [-1] (-1 is any size)"])
    }

    @Test("a missing tensor is named with the ones the model has")
    func missing() {
        let expected = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, 4])],
                                      outputs: [TensorSpec(name: "score", dtype: "float32", shape: [-1])])
        #expect(messages(expected, model)
            == ["expected output 'score' is not in the model; its outputs are 'label', 'probabilities'"])
    }

    @Test("a model input the expectation leaves out is a mismatch; an extra output is not")
    func extraInput() {
        let twoInputs = ModelSignature(
            inputs: model.inputs + [TensorSpec(name: "mask", dtype: "bool", shape: [-1])],
            outputs: model.outputs)
        let expected = ModelSignature(inputs: model.inputs, outputs: [model.outputs[0]])
        #expect(messages(expected, twoInputs)
            == ["the model requires input 'mask' (bool [-1]), which the expected signature does not list"])
    }

    @Test("a model without a signature mismatches any expectation")
    func noSignature() {
        #expect(messages(model, nil) == ["the model declares no signature, but one is expected"])
    }

    @Test("the signature read from a real ONNX file checks against a pipeline's expectation")
    func realModel() throws {
        let path = try FormatsCorpus.path("onnx/mlp.onnx")
        let found = try withFixture("onnx/mlp.onnx") { ONNXReader.inspect($0, modelPath: path).signature }
        let expected = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float", shape: [-1, 4])],
                                      outputs: [TensorSpec(name: "y", dtype: "float32", shape: [-1, 2])])
        #expect(messages(expected, found) == ["output 'y' has shape [-1, 3], expected [-1, 2] (-1 is any size)"])
    }
}
