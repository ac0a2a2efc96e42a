import Testing
@testable import ModelFormats

@Suite("safetensors mutations")
struct SafetensorsFuzzTests {
    @Test("thousands of deterministic header mutations never crash and only ever yield invalid findings inside the file",
          .timeLimit(.minutes(1)))
    func headerMutations() throws {
        let original = try FormatsCorpus.bytes("safetensors/good.safetensors")
        var headerLength = 0
        for index in (0..<8).reversed() { headerLength = headerLength << 8 | Int(original[index]) }
        var rng = SplitMix64(state: 0x5AFE_7E45)
        var rejected = 0
        for round in 0..<4000 {
            var bytes = original
            // Mostly the header (length and JSON), sometimes anywhere; 1 to 4 edits.
            let region = round % 4 == 0 ? 0..<original.count : 0..<(8 + headerLength)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes = mutate(bytes, in: region, using: &rng)
            }
            let findings = bytes.withUnsafeBytes(SafetensorsReader.inspect)
            let again = bytes.withUnsafeBytes(SafetensorsReader.inspect)
            #expect(findings == again, "round \(round) is not deterministic")
            #expect(findings.allSatisfy { $0.verdict == .invalid }, "round \(round)")
            #expect(findings.allSatisfy { ($0.offset ?? 0) >= 0 && ($0.offset ?? 0) <= Int64(bytes.count) },
                    "round \(round): \(findings.map { $0.offset ?? -1 })")
            #expect(findings.count <= SafetensorsReader.findingLimit)
            if !findings.isEmpty { rejected += 1 }
        }
        // Most random edits of a header break it; if none did, the checks are not running.
        #expect(rejected > 3000)
    }

    @Test("random bytes after a plausible length never crash the reader", .timeLimit(.minutes(1)))
    func randomHeaders() {
        var rng = SplitMix64(state: 42)
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if bytes.count >= 8 {
                let length = UInt64.random(in: 0...UInt64(bytes.count - 8), using: &rng)
                for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(index))) }
            }
            let findings = bytes.withUnsafeBytes(SafetensorsReader.inspect)
            #expect(findings.allSatisfy { $0.verdict == .invalid })
        }
    }
}
