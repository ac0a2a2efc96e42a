import Foundation
import ModelPackage
import Testing

@Suite("package signatures")
struct SignatureTests {
    @Test("an ONNX model's signature is read from its graph, with Open Inference Protocol datatypes")
    func fromONNXGraph() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        let manifest = try builder(model).build(at: folder.path + "/package").package.manifest
        #expect(manifest.format == .onnx && manifest.flavor == .onnx)
        #expect(manifest.signature == PackageSignature(
            inputs: [PackageTensor(name: "X", datatype: .fp32, shape: [-1, 4])],
            outputs: [PackageTensor(name: "label", datatype: .int64, shape: [-1]),
                      PackageTensor(name: "probabilities", datatype: .fp32, shape: [-1, 3])]))
        #expect(manifest.requirements == ["numpy==2.4.6", "onnxruntime==1.32.0"])
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: folder.path + "/package/mlpipe-model.json")),
                          as: UTF8.self)
        #expect(text.contains("\"datatype\": \"INT64\""))
    }

    @Test("a given signature that matches the model is recorded; one that does not is refused, saying how")
    func givenSignature() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        var matching = builder(model)
        matching.signature = PackageSignature(inputs: [PackageTensor(name: "X", datatype: .fp32, shape: [-1, 4])],
                                              outputs: [PackageTensor(name: "label", datatype: .int64, shape: [-1])])
        #expect(try matching.build(at: folder.path + "/a").package.manifest.signature == matching.signature)

        var wrong = builder(model)
        wrong.signature = PackageSignature(inputs: [PackageTensor(name: "X", datatype: .fp64, shape: [-1, 5])], outputs: [])
        let error = packageError { _ = try wrong.build(at: folder.path + "/b") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "the signature given does not match the one \(model) declares: "
                + "input 'X' has dtype float32, expected FP64; input 'X' has shape [-1, 4], expected [-1, 5] (-1 is any size); "
                + "fix `signature:` or leave it out to take the model's own", "\(String(describing: error))")
    }

    @Test("an output the protocol cannot carry (skl2onnx's zipmap) is refused, naming it and the fix")
    func zipmapRefused() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris-zipmap.onnx"), to: "iris.onnx")
        let error = packageError { _ = try builder(model).build(at: folder.path + "/package") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.hasPrefix("\(model): output 'output_probability' has element type "
                                         + "sequence(map(int64,float32)), which the Open Inference Protocol cannot carry")
                == true, "\(String(describing: error))")
        #expect(error?.message.contains("options={'zipmap': False}") == true)
    }

    @Test("element types map to the protocol's datatypes, by either name")
    func datatypeNames() {
        #expect(OIPDatatype("float32") == .fp32)
        #expect(OIPDatatype("FP32") == .fp32)
        #expect(OIPDatatype("fp16") == .fp16)
        #expect(OIPDatatype("string") == .bytes)
        #expect(OIPDatatype("bool") == .bool)
        #expect(OIPDatatype("uint8") == .uint8)
        #expect(OIPDatatype("float64") == .fp64)
        #expect(OIPDatatype("complex64") == nil)
        #expect(OIPDatatype("sequence(float32)") == nil)
    }
}
