import Testing
@testable import ModelFormats

@Suite("Keras config scanner")
struct KerasConfigScannerTests {
    func scan(fixture: String, policy: ScanPolicy = .default) throws -> [Finding] {
        try withFixture(fixture) { KerasConfigScanner.scan(json: $0, member: "config.json", policy: policy) }
    }

    func scan(_ json: String, policy: ScanPolicy = .default) -> [Finding] {
        Array(json.utf8).withUnsafeBytes { KerasConfigScanner.scan(json: $0, member: nil, policy: policy) }
    }

    @Test("a benign Keras 3 config with keras modules, a dtype policy and a compile config is clean")
    func benign() throws {
        #expect(try scan(fixture: "keras/config_benign.json") == [])
    }

    @Test("a Keras 3 Lambda layer and its serialized __lambda__ are both unsafe")
    func lambda() throws {
        let findings = try scan(fixture: "keras/config_lambda.json")
        #expect(findings.map(\.kind) == ["keras-lambda", "keras-lambda"])
        #expect(findings.allSatisfy { $0.verdict == .unsafe && $0.member == "config.json" })
        #expect(findings.first?.message.hasPrefix("layer 'double' (Lambda)") == true)
    }

    @Test("the policy cannot allow a Lambda layer")
    func lambdaNotAllowable() {
        let json = #"{"class_name": "Lambda", "module": "keras.layers", "config": {"name": "l"}}"#
        #expect(scan(json, policy: ScanPolicy.default.allowing(["keras.layers.Lambda", "keras.layers.*"]))
            .map(\.kind) == ["keras-lambda"])
    }

    @Test("modules outside Keras are unsafe: a builtins function and a subprocess class")
    func modulesOutside() throws {
        let findings = try scan(fixture: "keras/config_module.json")
        #expect(findings.map(\.global) == ["builtins.exec", "subprocess.Popen"])
        #expect(findings.allSatisfy { $0.kind == "keras-module" && $0.verdict == .unsafe })
    }

    @Test("allowing one global leaves the others reported")
    func partialAllow() throws {
        let findings = try scan(fixture: "keras/config_module.json",
                                policy: ScanPolicy.default.allowing(["subprocess.Popen"]))
        #expect(findings.map(\.global) == ["builtins.exec"])
    }

    @Test("a Keras function that downloads files is unsafe even inside the keras namespace")
    func getFile() throws {
        let findings = try scan(fixture: "keras/config_get_file.json")
        #expect(findings.map(\.global) == ["keras.utils.get_file"])
        #expect(findings.first?.message.contains("fetches or loads code") == true)
    }

    @Test("a registered_name from a package outside Keras is unsafe unless allowed")
    func registeredName() throws {
        let findings = try scan(fixture: "keras/config_registered.json")
        #expect(findings.map(\.kind) == ["keras-registered-name"])
        #expect(findings.first?.global == "evil_pkg.Backdoor")
        #expect(try scan(fixture: "keras/config_registered.json",
                         policy: ScanPolicy.default.allowing(["evil_pkg.Backdoor"])) == [])
    }

    @Test("module names are compared by component, so a look-alike package is outside Keras")
    func lookAlikeModule() {
        #expect(KerasConfigScanner.isKerasModule("keras.src.models.functional"))
        #expect(KerasConfigScanner.isKerasModule("tf_keras.layers"))
        #expect(KerasConfigScanner.isKerasModule("tensorflow.keras.layers"))
        #expect(!KerasConfigScanner.isKerasModule("kerasevil.layers"))
        #expect(!KerasConfigScanner.isKerasModule("tensorflow.kerasx"))
        let findings = scan(#"{"class_name": "Dense", "module": "keras_evil.layers", "config": {}}"#)
        #expect(findings.map(\.global) == ["keras_evil.layers.Dense"])
    }

    @Test("a TFOpLambda calling a file-writing function is unsafe; arithmetic is not")
    func tfOpLambda() {
        let write = #"{"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file"}}"#
        #expect(scan(write).map(\.global) == ["tensorflow.io.write_file"])
        let add = #"{"class_name": "TFOpLambda", "config": {"name": "a", "function": "math.add"}}"#
        #expect(scan(add) == [])
    }

    @Test("a finding's offset points at the object that names the global")
    func offsets() throws {
        let json = #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "x"}}]}}"#
        let offset = Int(try #require(scan(json).first?.offset))
        let utf8 = Array(json.utf8)
        try #require(utf8.indices.contains(offset))
        #expect(String(decoding: utf8[offset...], as: UTF8.self).hasPrefix(#"{"class_name": "Lambda""#))
    }

    @Test("JSON nested a hundred thousand levels deep is invalid instead of exhausting the stack")
    func hostileNesting() {
        let findings = scan(String(repeating: "[", count: 100_000))
        #expect(findings.map(\.message) == ["Keras config is not valid JSON: JSON nests deeper than 256 levels"])
    }

    @Test("a duplicate key, a non-object, a non-model and a bad module are invalid",
          arguments: [
              (#"{"class_name": "Dense", "class_name": "Lambda"}"#, "duplicate key \"class_name\""),
              (#"[{"class_name": "Lambda"}]"#, "no top-level class_name"),
              (#"{"layers": []}"#, "no top-level class_name"),
              (#"{"class_name": "Dense", "module": 3}"#, "module that is not a string"),
              ("{\"class_name\": \"D\u{0001}\"}", "control character"),
          ])
    func invalidConfigs(json: String, expected: String) {
        let findings = scan(json)
        #expect(findings.map(\.verdict) == [.invalid])
        #expect(findings.first?.message.contains(expected) == true, "\(findings.map(\.message))")
    }
}
