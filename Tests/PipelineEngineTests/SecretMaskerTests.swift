import Foundation
import PipelineEngine
import Testing

@Suite("secret masking")
struct SecretMaskerTests {
    @Test("longer secrets are masked first so that one containing another is hidden whole")
    func longestFirst() {
        let masker = SecretMasker(values: ["abc", "abcdef"])
        #expect(masker.mask("x abcdef y abc") == "x *** y ***")
    }

    @Test("a log sink masks a secret split across two writes")
    func splitWrites() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try LogSink(path: path, masker: SecretMasker(values: ["topsecret"]))
        try Array("value=tops".utf8).withUnsafeBytes { try sink.write(bytes: $0) }
        try Array("ecret\nnext\n".utf8).withUnsafeBytes { try sink.write(bytes: $0) }
        try sink.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "value=***\nnext\n")
        #expect(sink.tail == ["value=***", "next"])
    }
}
