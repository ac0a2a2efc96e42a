import Testing
@testable import ModelFormats

@Suite("Keras HDF5 reader")
struct KerasH5ReaderTests {
    func inspect(_ relative: String, policy: ScanPolicy = .default) throws -> [Finding] {
        KerasH5Reader.inspect(path: try FormatsCorpus.path(relative), policy: policy)
    }

    @Test("a benign Dense model written by h5py is recognised and has no findings")
    func benignModel() throws {
        try withFixture("keras/dense.h5") { #expect(KerasH5Reader.looksLike($0)) }
        #expect(try inspect("keras/dense.h5") == [])
    }

    @Test("the root attributes Keras writes are read, fixed-length and variable-length alike")
    func attributes() throws {
        for fixture in ["keras/dense.h5", "keras/dense_vlen.h5"] {
            let attributes = try KerasH5Reader.readAttributes(path: FormatsCorpus.path(fixture)).get()
            #expect(attributes.kerasVersion == "2.15.0")
            #expect(attributes.backend == "tensorflow")
            let config = try #require(attributes.modelConfig)
            #expect(String(decoding: config, as: UTF8.self).hasPrefix(#"{"class_name": "Sequential""#))
        }
        let trained = try KerasH5Reader.readAttributes(path: FormatsCorpus.path("keras/dense.h5")).get()
        #expect(trained.trainingConfig.map { String(decoding: $0, as: UTF8.self) }?.contains("optimizer_config") == true)
        #expect(try inspect("keras/dense_vlen.h5") == [])
    }

    @Test("an HDF5 file with a 512-byte user block is still recognised and read")
    func userBlock() throws {
        let bytes = try FormatsCorpus.bytes("keras/dense_userblock.h5")
        #expect(Array(bytes.prefix(8)) != KerasH5Reader.signature)
        #expect(Array(bytes[512..<520]) == KerasH5Reader.signature)
        #expect(bytes.withUnsafeBytes(KerasH5Reader.looksLike))
        #expect(try inspect("keras/dense_userblock.h5") == [])
    }

    @Test("a weights-only HDF5 file has no model config and no findings")
    func weightsOnly() throws {
        let attributes = try KerasH5Reader.readAttributes(path: FormatsCorpus.path("keras/weights_only.h5")).get()
        #expect(attributes.modelConfig == nil)
        #expect(try inspect("keras/weights_only.h5") == [])
    }

    @Test("a Lambda layer in model_config is unsafe and named")
    func lambdaLayer() throws {
        let findings = try inspect("keras/lambda.h5")
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.kind == "keras-lambda")
        #expect(finding.verdict == .unsafe)
        #expect(finding.member == "model_config")
        #expect(finding.message.hasPrefix("layer 'double' (Lambda) is a Lambda layer"))
    }

    @Test("a layer from a module outside Keras is unsafe unless the policy allows it")
    func moduleOutsideKeras() throws {
        let findings = try inspect("keras/module_outside.h5")
        #expect(findings.map(\.kind) == ["keras-module"])
        #expect(findings.first?.global == "evil_pkg.layers.Backdoor")
        let allowed = ScanPolicy.default.allowing(["evil_pkg.layers.Backdoor"])
        #expect(try inspect("keras/module_outside.h5", policy: allowed) == [])
    }

    @Test("training_config is scanned too, and its findings say so")
    func trainingConfig() throws {
        let findings = try inspect("keras/training_outside.h5")
        #expect(findings.map(\.global) == ["evil_pkg.losses.steal"])
        #expect(findings.first?.member == "training_config")
    }

    @Test("a model_config that is not JSON, or has a duplicate key, is invalid",
          arguments: [("keras/not_json.h5", "not valid JSON"),
                      ("keras/duplicate_key.h5", "duplicate key \"class_name\"")])
    func malformedConfig(fixture: String, expected: String) throws {
        let findings = try inspect(fixture)
        #expect(findings.count == 1)
        #expect(findings.first?.kind == "invalid-keras-config")
        #expect(findings.first?.verdict == .invalid)
        #expect(findings.first?.message.contains(expected) == true)
    }

    @Test("an attribute holding several strings, or a file libhdf5 rejects, is invalid")
    func unreadable() throws {
        #expect(try inspect("keras/config_array.h5").map(\.message)
            == ["root attribute 'model_config' holds more than one string"])
        let broken = try inspect("keras/not_hdf5.h5")
        #expect(broken.map(\.kind) == ["invalid-h5"])
        #expect(broken.first?.message.contains("libhdf5 cannot open") == true)
        #expect(KerasH5Reader.inspect(path: "/nonexistent/model.h5", policy: .default).map(\.kind) == ["invalid-h5"])
    }

    @Test("other formats are not taken for HDF5")
    func detection() throws {
        for fixture in ["onnx/mlp.onnx", "safetensors/good.safetensors", "keras/config_benign.json"] {
            try withFixture(fixture) { #expect(!KerasH5Reader.looksLike($0), "\(fixture)") }
        }
    }
}
