import Foundation
import Testing
@testable import ModelFormats

@Suite("safetensors reader")
struct SafetensorsReaderTests {
    @Test("a file written by the safetensors package is recognised and has no findings")
    func goodFile() throws {
        try withFixture("safetensors/good.safetensors") { bytes in
            #expect(SafetensorsReader.looksLike(bytes))
            #expect(SafetensorsReader.inspect(bytes) == [])
        }
    }

    @Test("each hand-broken file gets an invalid finding that says what is wrong",
          arguments: [
              ("overlap.safetensors", "overlaps tensor 'embedding.weight'"),
              ("gap.safetensors", "bytes [0, 16) of the data section belong to no tensor"),
              ("trailing.safetensors", "bytes after the last tensor belong to no tensor (trailing data)"),
              ("bad_dtype.safetensors", "tensor 'steps': unknown dtype 'F128'"),
              ("wrong_size.safetensors", "F32 [6, 5] needs 120 bytes, data_offsets [8, 104] give 96"),
              ("metadata_not_string.safetensors", "__metadata__ entry 'epochs' is not a string"),
              ("past_end.safetensors", "past the 102-byte data section"),
              ("huge_header_length.safetensors", "header length 1099511627776 is over the 100000000-byte limit"),
              ("header_past_end.safetensors", "runs past the end of the"),
              ("not_json.safetensors", "header is not valid JSON"),
              ("duplicate_key.safetensors", "duplicate key \"w\""),
          ])
    func brokenFiles(file: String, expected: String) throws {
        let findings = try withFixture("safetensors/" + file) { bytes in
            #expect(SafetensorsReader.looksLike(bytes))
            return SafetensorsReader.inspect(bytes)
        }
        #expect(!findings.isEmpty)
        #expect(findings.allSatisfy { $0.verdict == .invalid && $0.kind == "invalid-safetensors" })
        #expect(findings.contains { $0.message.contains(expected) },
                "\(findings.map(\.message))")
    }

    @Test("cutting the good file anywhere leaves it invalid")
    func everyTruncationIsInvalid() throws {
        let bytes = try FormatsCorpus.bytes("safetensors/good.safetensors")
        for cut in 0..<bytes.count {
            let findings = Array(bytes.prefix(cut)).withUnsafeBytes(SafetensorsReader.inspect)
            #expect(!findings.isEmpty, "cut at \(cut) was accepted")
        }
    }

    @Test("any byte appended to the good file is reported as trailing data")
    func appendedByteIsTrailing() throws {
        let bytes = try FormatsCorpus.bytes("safetensors/good.safetensors") + [0x00]
        let findings = bytes.withUnsafeBytes(SafetensorsReader.inspect)
        #expect(findings.map(\.message) == ["1 bytes after the last tensor belong to no tensor (trailing data)"])
        #expect(findings.first?.offset == Int64(bytes.count - 1))
    }

    @Test("sub-byte dtypes must fill whole bytes")
    func subByteDtypes() {
        let whole = Self.file(#"{"q":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#, data: 2)
        #expect(whole.withUnsafeBytes(SafetensorsReader.inspect) == [])
        let odd = Self.file(#"{"q":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, data: 2)
        #expect(odd.withUnsafeBytes(SafetensorsReader.inspect).first?.message
            == "tensor 'q': 3 elements of F4 do not fill whole bytes")
    }

    @Test("a shape whose element count overflows 64 bits is invalid, not a crash")
    func shapeOverflow() {
        let bytes = Self.file(
            #"{"t":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#, data: 0)
        #expect(bytes.withUnsafeBytes(SafetensorsReader.inspect).map(\.message)
            == ["tensor 't': shape [4294967296, 4294967296, 16] overflows 64 bits"])
    }

    @Test("unknown fields, negative offsets and reversed offsets in a tensor entry are invalid")
    func strictEntries() {
        let cases = [
            (#"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}"#, "unknown field 'extra'"),
            (#"{"t":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, "data_offsets must be two"),
            (#"{"t":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}"#, "end before they begin"),
            (#"{"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, "non-negative integer"),
            (#"[1, 2]"#, "header is not a JSON object"),
        ]
        for (header, expected) in cases {
            let findings = Self.file(header, data: 1).withUnsafeBytes(SafetensorsReader.inspect)
            #expect(findings.contains { $0.message.contains(expected) }, "\(header): \(findings.map(\.message))")
        }
    }

    @Test("other formats are not taken for safetensors")
    func detection() throws {
        for fixture in ["onnx/mlp.onnx", "keras/dense.h5", "keras/config_benign.json"] {
            try withFixture(fixture) { #expect(!SafetensorsReader.looksLike($0), "\(fixture)") }
        }
        let pickle: [UInt8] = [0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0x8C, 0x01, 0x61, 0x94, 0x2E]
        #expect(!pickle.withUnsafeBytes(SafetensorsReader.looksLike))
    }

    /// A safetensors file with `header` (padded to 8 bytes) and `data` zero bytes.
    static func file(_ header: String, data: Int) -> [UInt8] {
        var json = Array(header.utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var length = UInt64(json.count)
        let prefix = withUnsafeBytes(of: &length) { Array($0) }
        return prefix + json + [UInt8](repeating: 0, count: data)
    }
}
