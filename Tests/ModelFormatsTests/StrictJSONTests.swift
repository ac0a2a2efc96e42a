import Testing
@testable import ModelFormats

@Suite("strict JSON")
struct StrictJSONTests {
    func parse(_ bytes: [UInt8]) throws(StrictJSON.Error) -> StrictJSON.Node {
        var result: Result<StrictJSON.Node, StrictJSON.Error>!
        bytes.withUnsafeBytes { buffer in
            do throws(StrictJSON.Error) { result = .success(try StrictJSON.parse(buffer)) } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    func parse(_ text: String) throws(StrictJSON.Error) -> StrictJSON.Node {
        try parse(Array(text.utf8))
    }

    @Test("integers keep all 64 bits and fractions are not integers")
    func numbers() throws {
        guard case .array(let values) = try parse("[18446744073709551615, -9223372036854775808, 1.5, 2e3]").value
        else { Issue.record("not an array"); return }
        let numbers = values.compactMap { node -> StrictJSON.Number? in
            if case .number(let number) = node.value { return number }
            return nil
        }
        #expect(numbers.map(\.uint64) == [UInt64.max, nil, nil, nil])
        #expect(numbers.map(\.int64) == [nil, Int64.min, nil, nil])
        #expect(numbers[3].double == 2000)
    }

    @Test("escapes decode, surrogate pairs join, and Python's NaN and Infinity are numbers")
    func escapes() throws {
        #expect(try parse(#""a\"\\\/\n\u00e9\ud83d\ude00""#).string == "a\"\\/\né😀")
        guard case .array(let values) = try parse("[NaN, Infinity, -Infinity]").value else {
            Issue.record("not an array"); return
        }
        #expect(values.count == 3)
    }

    @Test("malformed input is rejected with the offset of the problem",
          arguments: [
              (#""\ud800""#, 1, "lone surrogate"),
              ("{\"a\": 1} x", 9, "unexpected data after the JSON value"),
              ("[01]", 1, "must not start with 0"),
              ("[1,]", 3, "unexpected character ']'"),
              (#"{"a" 1}"#, 5, "expected ':'"),
              ("\"abc", 0, "unterminated string"),
              ("tru", 0, "unexpected end of JSON"),
          ] as [(String, Int, String)])
    func malformed(text: String, offset: Int, reason: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            guard let error = error as? StrictJSON.Error else { return false }
            return error.offset == offset && error.reason.contains(reason)
        }
    }

    @Test("bytes that are not UTF-8 inside a string are rejected")
    func invalidUTF8() {
        #expect(throws: StrictJSON.Error.self) { _ = try parse([0x22, 0xC3, 0x28, 0x22]) }
    }
}
