import Testing
@testable import ModelFormats

@Suite("ONNX mutations")
struct ONNXFuzzTests {
    @Test("thousands of deterministic mutations of real models never crash or hang the reader",
          .timeLimit(.minutes(1)),
          arguments: ["onnx/mlp.onnx", "onnx/custom_domain.onnx", "onnx/nested_custom.onnx",
                      "onnx/sklearn_logreg.onnx"])
    func mutations(fixture: String) throws {
        let original = try FormatsCorpus.bytes(fixture)
        var rng = SplitMix64(state: UInt64(original.count) &* 0x0123_4567_89AB)
        var invalid = 0
        for round in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes = mutate(bytes, using: &rng)
            }
            _ = bytes.withUnsafeBytes(ONNXReader.looksLike)
            // A path with no folder on disk: external data, if a mutation invents some,
            // must be reported, not followed anywhere.
            let result = bytes.withUnsafeBytes { ONNXReader.inspect($0, modelPath: "/nonexistent/model.onnx") }
            let parseFailed = result.findings.contains { $0.message.hasPrefix("not a valid ONNX model") }
            #expect(parseFailed == (result.signature == nil) || result.findings.contains {
                $0.message == "the model has no graph" }, "round \(round)")
            #expect(result.findings.allSatisfy { ($0.offset ?? 0) >= 0 && ($0.offset ?? 0) <= Int64(bytes.count) },
                    "round \(round)")
            if parseFailed { invalid += 1 }
        }
        // Most mutations break the wire format; if none did, the checks are not running.
        #expect(invalid > 300, "only \(invalid) of 1500 mutations were rejected")
    }
}
