import Foundation
import Testing
@testable import ModelFormats

@Suite("ONNX reader")
struct ONNXReaderTests {
    func inspect(_ relative: String) throws -> (signature: ModelSignature?, findings: [Finding]) {
        let path = try FormatsCorpus.path(relative)
        return try withFixture(relative) { ONNXReader.inspect($0, modelPath: path) }
    }

    func summary(_ relative: String) throws -> ONNXModelSummary {
        try withFixture(relative) { try ONNXModelWalker.walk($0) }
    }

    @Test("an MLP with a dynamic batch dimension has its signature read and no findings")
    func mlpSignature() throws {
        try withFixture("onnx/mlp.onnx") { #expect(ONNXReader.looksLike($0)) }
        let result = try inspect("onnx/mlp.onnx")
        #expect(result.findings == [])
        #expect(result.signature == ModelSignature(
            inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, 4])],
            outputs: [TensorSpec(name: "y", dtype: "float32", shape: [-1, 3])]))
    }

    @Test("ir_version, opset imports and the initializer count are read")
    func mlpSummary() throws {
        let summary = try summary("onnx/mlp.onnx")
        #expect(summary.irVersion == 9)
        #expect(summary.opsetImports.map { "\($0.domain):\($0.version)" } == [":17"])
        #expect(summary.initializerCount == 4)
        #expect(summary.customDomains.isEmpty)
        #expect(summary.externalData.isEmpty)
    }

    @Test("an initializer that is also listed as a graph input is not part of the signature")
    func initializerInputs() throws {
        let result = try inspect("onnx/initializer_input.onnx")
        #expect(result.signature?.inputs.map(\.name) == ["x"])
    }

    @Test("a scikit-learn model converted by skl2onnx uses ai.onnx.ml operators and is clean")
    func sklearnModel() throws {
        let result = try inspect("onnx/sklearn_logreg.onnx")
        #expect(result.findings == [])
        #expect(result.signature?.inputs == [TensorSpec(name: "X", dtype: "float32", shape: [-1, 2])])
        #expect(result.signature?.outputs == [
            TensorSpec(name: "output_label", dtype: "int64", shape: [-1]),
            TensorSpec(name: "output_probability", dtype: "sequence(map(int64,float32))", shape: []),
        ])
        let domains = try summary("onnx/sklearn_logreg.onnx").opsetImports.map(\.domain)
        #expect(domains.contains("ai.onnx.ml"))
    }

    @Test("a node from a custom domain is unsafe and names the domain and operator")
    func customDomain() throws {
        let result = try inspect("onnx/custom_domain.onnx")
        #expect(result.findings.count == 1)
        let finding = try #require(result.findings.first)
        #expect(finding.kind == "custom-op-domain")
        #expect(finding.verdict == .unsafe)
        #expect(finding.global == "com.example.evil")
        #expect(finding.message.contains("operators Exec from custom domain 'com.example.evil'"))
        #expect(result.signature?.inputs == [TensorSpec(name: "x", dtype: "int64", shape: [-1, 2])])
    }

    @Test("a custom operator hidden in an If branch is found")
    func nestedCustomDomain() throws {
        let result = try inspect("onnx/nested_custom.onnx")
        #expect(result.findings.map(\.global) == ["org.example.hidden"])
        #expect(result.findings.first?.verdict == .unsafe)
    }

    @Test("an operator defined as a function inside the model is not custom code")
    func localFunction() throws {
        #expect(try inspect("onnx/local_function.onnx").findings == [])
    }

    @Test("external data next to the model is accepted")
    func externalInside() throws {
        let result = try inspect("onnx/external_inside/model.onnx")
        #expect(result.findings == [])
        let references = try summary("onnx/external_inside/model.onnx").externalData
        #expect(references.count == 4)
        #expect(Set(references.compactMap(\.location)) == ["weights.bin"])
    }

    @Test("external data at an absolute path or behind '..' is unsafe, once per location")
    func externalOutside() throws {
        let findings = try inspect("onnx/external_outside/model.onnx").findings
        #expect(findings.map(\.kind) == ["external-data-path", "external-data-path"])
        #expect(findings.allSatisfy { $0.verdict == .unsafe })
        #expect(findings[0].message.contains("'../secret.bin', which climbs out with '..'"))
        #expect(findings[1].message.contains("'/etc/passwd', an absolute path"))
    }

    @Test("external data through a symlink that leaves the folder is unsafe")
    func externalSymlink() throws {
        let findings = try inspect("onnx/external_symlink/model.onnx").findings
        #expect(findings.count == 1)
        #expect(findings.first?.kind == "external-data-path")
        #expect(findings.first?.message.contains("'link.bin', which resolves to") == true)
        #expect(findings.first?.message.hasSuffix("secret.bin' outside the model's folder") == true)
    }

    @Test("missing external data and data shorter than declared are invalid")
    func externalMissingAndShort() throws {
        let missing = try inspect("onnx/external_missing/model.onnx").findings
        #expect(missing.map(\.kind) == ["external-data-missing"])
        #expect(missing.first?.verdict == .invalid)
        let short = try inspect("onnx/external_short/model.onnx").findings
        #expect(short.count == 4)
        #expect(short.allSatisfy { $0.kind == "external-data-range" && $0.verdict == .invalid })
        #expect(short.first?.message.contains("[0, +4096) runs past the end of 'short.bin' (16 bytes)") == true)
    }

    @Test("locations are judged by their text before the file system is asked",
          arguments: [
              ("weights.bin", nil), ("sub/dir/w.bin", nil), ("a..b.bin", nil),
              ("/abs.bin", "an absolute path"), ("\\\\server\\share", "an absolute path"),
              ("C:\\w.bin", "an absolute path"), ("sub/../../w.bin", "which climbs out with '..'"),
              ("..\\w.bin", "which climbs out with '..'"),
          ] as [(String, String?)])
    func escapeReasons(location: String, reason: String?) {
        #expect(ONNXReader.escapeReason(location) == reason)
    }

    @Test("a truncated model is invalid and names the offset where it breaks")
    func truncated() throws {
        let bytes = try FormatsCorpus.bytes("onnx/mlp.onnx")
        let cut = Array(bytes.prefix(bytes.count - 7))
        let result = cut.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "/nonexistent/m.onnx") }
        #expect(result.signature == nil)
        #expect(result.findings.count == 1)
        #expect(result.findings.first?.kind == "invalid-onnx")
        #expect(result.findings.first?.message.hasPrefix("not a valid ONNX model: ") == true)
    }

    @Test("other formats and empty files are not taken for ONNX")
    func detection() throws {
        for fixture in ["safetensors/good.safetensors", "keras/dense.h5", "keras/config_benign.json"] {
            try withFixture(fixture) { #expect(!ONNXReader.looksLike($0), "\(fixture)") }
        }
        #expect(![UInt8]().withUnsafeBytes(ONNXReader.looksLike))
        let graph = Wire.message(7, Wire.string(2, "g"))
        #expect((Wire.varint(1, 9) + graph).withUnsafeBytes(ONNXReader.looksLike))
        #expect(!graph.withUnsafeBytes(ONNXReader.looksLike), "no ir_version")
        #expect(!(Wire.varint(1, 9) + Wire.message(8, [])).withUnsafeBytes(ONNXReader.looksLike), "no graph")
        #expect(!(Wire.varint(1, 9) + Wire.varint(7, 1)).withUnsafeBytes(ONNXReader.looksLike), "graph not a message")
        #expect(!(Wire.varint(1, 9) + graph + Wire.varint(2, 1)).withUnsafeBytes(ONNXReader.looksLike),
                "producer_name not a string")
        let pickle: [UInt8] = [0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0x8C, 0x01, 0x61, 0x94, 0x2E]
        #expect(!pickle.withUnsafeBytes(ONNXReader.looksLike))
    }

    @Test("subgraphs nested past the limit are invalid instead of exhausting the stack")
    func nestingLimit() {
        // graph { node { attribute { g: graph { node { … } } } } }, 200 levels deep.
        var graph = Wire.message(1, Wire.string(4, "Identity"))
        for _ in 0..<200 {
            let attribute = Wire.string(1, "then_branch") + Wire.message(6, graph)
            graph = Wire.message(1, Wire.string(4, "If") + Wire.message(5, attribute))
        }
        let model = Wire.varint(1, 9) + Wire.message(8, Wire.varint(2, 17)) + Wire.message(7, graph)
        let result = model.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "/tmp/m.onnx") }
        #expect(result.findings.map(\.message) == ["not a valid ONNX model: subgraphs nest deeper than 64 levels"])
    }

    @Test("a model without ir_version, opset imports or graph is invalid")
    func missingEssentials() {
        let noGraph = Wire.varint(1, 9) + Wire.message(8, Wire.varint(2, 17))
        #expect(noGraph.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "m.onnx") }.findings.map(\.message)
            == ["the model has no graph"])
        let bare = Wire.message(7, Wire.string(2, "g"))
        #expect(bare.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "m.onnx") }.findings.map(\.message)
            == ["the model has no ir_version",
                "the model imports no operator set (opset_import is empty)"])
    }

    @Test("a tensor payload is stepped over, not parsed: garbage inside raw_data is fine")
    func payloadSkipped() {
        // An initializer whose raw_data is not a protobuf message at all.
        let tensor = Wire.string(8, "W") + Wire.varint(2, 1) + Wire.bytes(9, [0xFF, 0xFF, 0x07, 0x03, 0x04])
        let graph = Wire.message(5, tensor)
            + Wire.message(12, Wire.string(1, "W"))
        let model = Wire.varint(1, 9) + Wire.message(8, Wire.varint(2, 17)) + Wire.message(7, graph)
        let result = model.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "m.onnx") }
        #expect(result.findings == [])
        #expect(result.signature?.outputs == [TensorSpec(name: "W", dtype: "undefined", shape: [])])
    }
}

/// A minimal protobuf encoder for hand-built ONNX messages.
enum Wire {
    static func rawVarint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            let byte = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? byte : byte | 0x80)
        } while value != 0
        return out
    }

    static func varint(_ field: UInt64, _ value: UInt64) -> [UInt8] {
        rawVarint(field << 3) + rawVarint(value)
    }

    static func bytes(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        rawVarint(field << 3 | 2) + rawVarint(UInt64(payload.count)) + payload
    }

    static func message(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        bytes(field, payload)
    }

    static func string(_ field: UInt64, _ text: String) -> [UInt8] {
        bytes(field, Array(text.utf8))
    }
}
