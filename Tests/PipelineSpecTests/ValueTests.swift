import Foundation
import PipelineSpec
import Testing

@Suite("values")
struct ValueTests {
    @Test("canonical JSON sorts keys, has no whitespace and formats numbers one way")
    func canonicalJSON() {
        let value = Value.object([
            "b": .array([.int(3), .double(0.9), .double(3.0), .double(1e-7), .bool(true), .null]),
            "a": .string("x \"q\" \\ \n\u{1}"),
            "é": .object([:]),
            "Z": .double(.infinity),
        ])
        #expect(value.canonicalJSON()
            == #"{"Z":".inf","a":"x \"q\" \\ \n\u0001","b":[3,0.9,3.0,1e-07,true,null],"é":{}}"#)
    }

    @Test("interpolated values read as a user wrote them")
    func interpolated() {
        #expect(Value.double(0.9).interpolated == "0.9")
        #expect(Value.int(3).interpolated == "3")
        #expect(Value.bool(true).interpolated == "true")
        #expect(Value.null.interpolated == "")
        #expect(Value.string("a b").interpolated == "a b")
        #expect(Value.array([.int(1), .string("x")]).interpolated == #"[1,"x"]"#)
        #expect(Value.object(["k": .int(1)]).interpolated == #"{"k":1}"#)
    }

    @Test("scalars from the command line follow the YAML 1.2 core schema", arguments: [
        ("42", Value.int(42)), ("-7", .int(-7)), ("+3", .int(3)), ("0x1F", .int(31)), ("0o17", .int(15)),
        ("0.5", .double(0.5)), ("1e3", .double(1000)), (".5", .double(0.5)), ("-.inf", .double(-.infinity)),
        ("true", .bool(true)), ("FALSE", .bool(false)), ("null", .null), ("~", .null), ("", .null),
        ("yes", .string("yes")), ("on", .string("on")), ("1.2.3", .string("1.2.3")), ("0x", .string("0x")),
        ("99999999999999999999", .double(1e20)), (" 12 ", .int(12)), ("'x'", .string("'x'")),
    ])
    func parsingScalar(text: String, expected: Value) {
        #expect(Value(parsingScalar: text) == expected)
    }

    @Test("NaN parses as a double that is not a number")
    func nan() {
        guard case .double(let number) = Value(parsingScalar: ".nan") else {
            Issue.record("'.nan' did not parse as a double")
            return
        }
        #expect(number.isNaN)
    }

    @Test("values round-trip through JSON coding")
    func codable() throws {
        let value = Value.object(["a": .array([.int(1), .double(2.5), .string("s"), .bool(false), .null])])
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(Value.self, from: data) == value)
    }
}
