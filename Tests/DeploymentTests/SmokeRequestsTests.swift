import Foundation
import Testing
@testable import Deployment

@Suite("SmokeRequests: the requests file of a smoke test")
struct SmokeRequestsTests {
    private func parse(_ text: String, model: String? = "iris") throws -> [SmokeRequest] {
        try SmokeRequests.parse(Array(text.utf8), file: "smoke/requests.jsonl", model: model)
    }

    private func diagnostics(_ text: String, model: String? = "iris") -> [String] {
        do {
            _ = try parse(text, model: model)
            return []
        } catch let SmokeError.badRequests(diagnostics) {
            return diagnostics.map(\.description)
        } catch {
            return ["unexpected: \(error)"]
        }
    }

    @Test("a V2 line defaults to POST on the model's infer path, status 200, and keeps its body's bytes")
    func defaults() throws {
        let line = #"{"body": {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.20]}]}, "#
            + #""expect": {"outputs.label.data": [0], "outputs.probabilities.data": {"value": [0.98, 0.02, 0], "tolerance": 0.05}}}"#
        let requests = try parse("\n" + line + "\n\n" + #"{"path": "/v2/health/ready"}"# + "\r\n")
        #expect(requests.count == 2)
        let infer = requests[0]
        #expect(infer.line == 2 && infer.method == "POST" && infer.path == "/v2/models/iris/infer")
        #expect(infer.expectedStatus == 200)
        #expect(String(decoding: infer.body ?? [], as: UTF8.self)
            == #"{"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.20]}]}"#)
        #expect(infer.expectations == [
            SmokeExpectation(field: "outputs.label.data", expected: .array([.number(0)])),
            SmokeExpectation(field: "outputs.probabilities.data",
                             expected: .array([.number(0.98), .number(0.02), .number(0)]), tolerance: 0.05),
        ])
        #expect(requests[1].line == 4 && requests[1].method == "GET" && requests[1].body == nil)
        #expect(requests[1].location == "smoke/requests.jsonl:4")
    }

    @Test("each bad line is reported at its line and column with how to write it")
    func badLines() {
        let text = [
            #"{"body": {"inputs": []}, "status": "200"}"#,
            #"{"body": {"inputs": []}, "stauts": 200}"#,
            #"{"body": {"inputs": [1, 2,]}}"#,
            #"[1, 2]"#,
            #"{"path": "v2/health/ready", "method": "FETCH"}"#,
            #"{"path": "/predict", "headers": {"Authorization": "Bearer abc"}}"#,
            #"{"path": "/predict", "expect": {"outputs..data": 1, "x": {"value": "a", "tolerance": 0.1}}}"#,
            #"{"path": "/predict", "expect": {"y": {"value": 1, "tolerance": -1}}} trailing"#,
        ].joined(separator: "\n")
        #expect(diagnostics(text) == [
            #"smoke/requests.jsonl:1:36: error: "status" must be an integer HTTP status from 100 to 599, e.g. 200, not "200""#,
            #"smoke/requests.jsonl:2:26: error: unknown key "stauts"; did you mean "status"? (a request line has: body, path, method, headers, status, expect)"#,
            #"smoke/requests.jsonl:3:27: error: invalid JSON: expected a value (object, array, string, number, true, false or null), found ']'"#,
            #"smoke/requests.jsonl:4:1: error: a request line must be a JSON object, e.g. {"body": {"inputs": [...]}, "status": 200}"#,
            #"smoke/requests.jsonl:5:10: error: "path" must be a path on the endpoint starting with '/', without spaces or '#', e.g. "/v2/models/iris/infer", not "v2/health/ready""#,
            #"smoke/requests.jsonl:5:39: error: "method" must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, not "FETCH""#,
            #"smoke/requests.jsonl:6:34: error: "headers" must not set Authorization: a token in a committed file is a leaked secret; give it as the smoke test's `token` (a secret)"#,
            #"smoke/requests.jsonl:7:33: error: "outputs..data" is not a field path: write dotted names or indexes, e.g. "outputs.label.data" or "outputs.0.data""#,
            #"smoke/requests.jsonl:7:68: error: "value" of x must be a number or an array of numbers to compare within a tolerance, not "a""#,
            #"smoke/requests.jsonl:8:70: error: invalid JSON: unexpected 't' after the JSON value; a line holds exactly one JSON object"#,
        ])
    }

    @Test("a line without a path needs the model's name, and says so")
    func noModel() {
        #expect(diagnostics(#"{"body": {"inputs": []}}"#, model: nil) == [
            #"smoke/requests.jsonl:1:1: error: the request has no "path" and no model was given to default to; add "path": "/v2/models/NAME/infer""#,
        ])
    }

    @Test("columns count characters, not bytes, after non-ASCII text")
    func unicodeColumns() {
        #expect(diagnostics(#"{"path": "/prédict", "status": true}"#) == [
            #"smoke/requests.jsonl:1:32: error: "status" must be an integer HTTP status from 100 to 599, e.g. 200, not true"#,
        ])
    }

    @Test("an empty file, and a missing one, are errors that name the file")
    func emptyAndMissing() throws {
        #expect(throws: SmokeError.noRequests(path: "smoke/requests.jsonl")) { try parse("\n  \n") }
        let missing = "/nonexistent-\(UUID().uuidString)/requests.jsonl"
        do {
            _ = try SmokeRequests.load(path: missing)
            Issue.record("a missing file loaded")
        } catch {
            #expect("\(error)".hasPrefix("cannot read the smoke-test requests file \(missing): "))
        }
    }

    @Test("the loader reads a file and names it in its errors")
    func loadsFile() throws {
        let folder = try SmokeFolder()
        let file = try folder.write("requests.jsonl", #"{"path": "/v2/health/live", "expect": {"live": true}}"# + "\n{oops}\n")
        do {
            _ = try SmokeRequests.load(path: file)
            Issue.record("a bad file loaded")
        } catch {
            #expect("\(error)" == "\(file):2:2: error: invalid JSON: expected a key in double quotes, found 'o'")
        }
    }
}

@Suite("SmokeExpectation: a field of the answer, exactly or within a tolerance")
struct SmokeExpectationTests {
    private let answer = SmokeValue.object([
        "model_name": .string("iris"),
        "outputs": .array([
            .object(["name": .string("label"), "data": .array([.number(0), .number(2)])]),
            .object(["name": .string("probabilities"), "data": .array([.number(0.97), .number(0.03)])]),
        ]),
    ])

    @Test("V2 outputs are found by name, arrays by index, numbers compare as numbers")
    func matches() {
        #expect(SmokeExpectation(field: "outputs.label.data", expected: .array([.number(0), .number(2.0)]))
            .mismatch(in: answer) == nil)
        #expect(SmokeExpectation(field: "outputs.1.data.0", expected: .number(0.97)).mismatch(in: answer) == nil)
        #expect(SmokeExpectation(field: "outputs.probabilities.data", expected: .array([.number(1), .number(0)]),
                                 tolerance: 0.05).mismatch(in: answer) == nil)
    }

    @Test("a wrong value, a value out of tolerance and a missing field each say what differs")
    func mismatches() {
        let wrong = SmokeExpectation(field: "outputs.label.data", expected: .array([.number(1), .number(2)]))
        #expect(wrong.mismatch(in: answer)?.message == "outputs.label.data is [0,2], expected [1,2]")
        let loose = SmokeExpectation(field: "outputs.probabilities.data", expected: .array([.number(0.9), .number(0.1)]),
                                     tolerance: 0.05)
        #expect(loose.mismatch(in: answer)?.message
            == "outputs.probabilities.data is [0.97,0.03], expected [0.9,0.1] ± 0.05: element 0 0.97 is off by 0.07")
        let missing = SmokeExpectation(field: "outputs.scores.data", expected: .number(1))
        #expect(missing.mismatch(in: answer)?.message
            == "the answer has no element named 'scores' in outputs (names: label, probabilities)")
        #expect(missing.mismatch(in: answer)?.actual == nil)
        let deep = SmokeExpectation(field: "model_name.x", expected: .number(1))
        #expect(deep.mismatch(in: answer)?.message
            == "the answer has no field model_name.x: model_name is a string, not an object or array")
    }
}
