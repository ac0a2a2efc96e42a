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
        Array("value=tops".utf8).withUnsafeBytes { sink.write(bytes: $0) }
        Array("ecret\nnext\n".utf8).withUnsafeBytes { sink.write(bytes: $0) }
        sink.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "value=***\nnext\n")
        #expect(sink.tail == ["value=***", "next"])
    }

    @Test("a process's output reaches the sink, and a timeout ends the whole process group")
    func executorTimeout() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try LogSink(path: path, masker: .none)
        let spec = ProcessSpec(command: "echo started; sleep 30 & sleep 30", workingDirectory: "/tmp",
                               environment: ["PATH": "/usr/bin:/bin"], timeout: 0.5, gracePeriod: 1)
        let outcome = try await LocalProcessExecutor().execute(spec, log: sink)
        sink.close()
        #expect(outcome == .timedOut)
        #expect(sink.tail == ["started"])
    }
}
