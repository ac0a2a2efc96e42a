import Foundation

/// Reads a smoke test's requests file: JSON Lines, one request per line, blank lines
/// skipped.
///
/// ```json
/// {"body": {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]},
///  "status": 200, "expect": {"outputs.label.data": [0],
///                            "outputs.probabilities.data": {"value": [0.98, 0.02, 0.0], "tolerance": 0.01}}}
/// ```
/// (one line in the file). Keys: `body` (any JSON, sent as written), `path` (default the
/// model's V2 infer path, `/v2/models/MODEL/infer`), `method` (default POST with a body,
/// GET without), `headers` (strings; not `Authorization`: the token comes from secrets),
/// `status` (default 200), `expect` (field → value, or `{"value": V, "tolerance": T}`; see
/// ``SmokeExpectation``). Every bad line is reported, each at FILE:LINE:COL with how to
/// write it, in one ``SmokeError/badRequests(_:)``.
public enum SmokeRequests {
    /// The keys a request line may have.
    static let keys = ["body", "path", "method", "headers", "status", "expect"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    /// More bad lines than this are summarized, not listed.
    static let maximumDiagnostics = 50

    /// The requests of the file at `path`. `model` names the served model, for lines
    /// without a `path`; without it such a line is an error that says to add one.
    public static func load(path: String, model: String? = nil) throws -> [SmokeRequest] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw SmokeError.unreadable(path: path, reason: "no such file")
        }
        guard !isFolder.boolValue else { throw SmokeError.unreadable(path: path, reason: "it is a folder") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SmokeError.unreadable(path: path, reason: "it cannot be read (check its permissions)")
        }
        return try parse(Array(data), file: path, model: model)
    }

    /// The requests of `bytes`, the contents of a requests file named `file` in messages.
    public static func parse(_ bytes: [UInt8], file: String, model: String? = nil) throws -> [SmokeRequest] {
        var requests: [SmokeRequest] = []
        var diagnostics: [SmokeDiagnostic] = []
        var badLines = 0
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            var reader = LineReader(file: file, line: lineNumber, bytes: line, model: model)
            if let request = reader.request() {
                requests.append(request)
            } else {
                badLines += 1
                // In the order they appear on the line, whatever order they were found in.
                diagnostics += reader.diagnostics.sorted { $0.column < $1.column }
                    .prefix(max(0, maximumDiagnostics - diagnostics.count))
            }
        }
        if badLines > 0 {
            if diagnostics.count == maximumDiagnostics {
                diagnostics.append(SmokeDiagnostic(file: file, line: lineNumber, column: 1,
                                                   message: "\(badLines) bad lines in all; the first are listed above"))
            }
            throw SmokeError.badRequests(diagnostics)
        }
        guard !requests.isEmpty else { throw SmokeError.noRequests(path: file) }
        return requests
    }
}

/// Reads one line into a ``SmokeRequest``, collecting every problem it has.
private struct LineReader {
    typealias Node = SmokeJSONParser.Node

    let file: String
    let line: Int
    let bytes: [UInt8]
    let model: String?
    var diagnostics: [SmokeDiagnostic] = []

    init(file: String, line: Int, bytes: [UInt8], model: String?) {
        self.file = file
        self.line = line
        self.bytes = bytes
        self.model = model
    }

    mutating func request() -> SmokeRequest? {
        let root: Node
        do throws(SmokeJSONParser.SyntaxError) {
            root = try SmokeJSONParser.parse(bytes)
        } catch {
            report(at: error.offset, "invalid JSON: \(error.message)")
            return nil
        }
        guard case .object(let members) = root.kind else {
            report(at: root.range.lowerBound, "a request line must be a JSON object, e.g. "
                   + #"{"body": {"inputs": [...]}, "status": 200}"#)
            return nil
        }
        for member in members where !SmokeRequests.keys.contains(member.key) {
            let hint = Self.suggestion(for: member.key).map { "; did you mean \"\($0)\"?" } ?? ""
            report(at: member.keyOffset, "unknown key \"\(member.key)\"\(hint) (a request line has: "
                   + SmokeRequests.keys.joined(separator: ", ") + ")")
        }
        let find = { (key: String) in members.first { $0.key == key }?.value }
        let body = find("body")
        let method = self.method(find("method"), hasBody: body != nil)
        let path = self.path(find("path"), at: root.range.lowerBound)
        let headers = self.headers(find("headers"))
        let status = self.status(find("status"))
        let expectations = self.expectations(find("expect"))
        guard diagnostics.isEmpty, let method, let path, let headers, let status, let expectations else { return nil }
        return SmokeRequest(file: file, line: line, method: method, path: path, headers: headers,
                            body: body.map { Array(bytes[$0.range]) }, expectedStatus: status,
                            expectations: expectations)
    }

    private mutating func method(_ node: Node?, hasBody: Bool) -> String? {
        guard let node else { return hasBody ? "POST" : "GET" }
        guard case .string(let text) = node.kind, SmokeRequests.methods.contains(text.uppercased()) else {
            report(at: node.range.lowerBound, "\"method\" must be one of " + SmokeRequests.methods.joined(separator: ", ")
                   + ", not \(text(of: node))")
            return nil
        }
        return text.uppercased()
    }

    private mutating func path(_ node: Node?, at lineStart: Int) -> String? {
        guard let node else {
            guard let model else {
                report(at: lineStart, "the request has no \"path\" and no model was given to default to; add "
                       + #""path": "/v2/models/NAME/infer""#)
                return nil
            }
            return "/v2/models/\(model)/infer"
        }
        guard case .string(let text) = node.kind, text.hasPrefix("/"),
              !text.contains(where: { $0 == " " || $0.isNewline || $0 == "#" }) else {
            report(at: node.range.lowerBound, "\"path\" must be a path on the endpoint starting with '/', without "
                   + #"spaces or '#', e.g. "/v2/models/iris/infer", not "# + text(of: node))
            return nil
        }
        return text
    }

    private mutating func headers(_ node: Node?) -> [String: String]? {
        guard let node else { return [:] }
        guard case .object(let members) = node.kind else {
            report(at: node.range.lowerBound, "\"headers\" must be an object of header names to strings, e.g. "
                   + #"{"X-Request-Id": "smoke-1"}"#)
            return nil
        }
        var headers: [String: String] = [:]
        var good = true
        for member in members {
            let name = member.key
            if name.lowercased() == "authorization" {
                report(at: member.keyOffset, "\"headers\" must not set Authorization: a token in a committed file is "
                       + "a leaked secret; give it as the smoke test's `token` (a secret)")
                good = false
            } else if name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) {
                report(at: member.keyOffset, "\"\(name)\" is not an HTTP header name (printable ASCII, no spaces or ':')")
                good = false
            } else if case .string(let value) = member.value.kind, !value.contains(where: \.isNewline) {
                headers[name] = value
            } else {
                report(at: member.value.range.lowerBound, "header \"\(name)\" must be a string on one line, not "
                       + text(of: member.value))
                good = false
            }
        }
        return good ? headers : nil
    }

    private mutating func status(_ node: Node?) -> Int? {
        guard let node else { return 200 }
        guard case .number(let value) = node.kind, value.rounded() == value, (100...599).contains(value) else {
            report(at: node.range.lowerBound, "\"status\" must be an integer HTTP status from 100 to 599, e.g. 200, "
                   + "not \(text(of: node))")
            return nil
        }
        return Int(value)
    }

    private mutating func expectations(_ node: Node?) -> [SmokeExpectation]? {
        guard let node else { return [] }
        guard case .object(let members) = node.kind else {
            report(at: node.range.lowerBound, "\"expect\" must be an object of fields to values, e.g. "
                   + #"{"outputs.label.data": [0]}"#)
            return nil
        }
        var expectations: [SmokeExpectation] = []
        var good = true
        for member in members {
            let field = member.key
            if field.isEmpty || field.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                report(at: member.keyOffset, "\"\(field)\" is not a field path: write dotted names or indexes, e.g. "
                       + "\"outputs.label.data\" or \"outputs.0.data\"")
                good = false
                continue
            }
            guard let expectation = expectation(field: field, node: member.value) else {
                good = false
                continue
            }
            expectations.append(expectation)
        }
        return good ? expectations : nil
    }

    private mutating func expectation(field: String, node: Node) -> SmokeExpectation? {
        guard case .object(let members) = node.kind, members.contains(where: { $0.key == "tolerance" }) else {
            return SmokeExpectation(field: field, expected: node.value)
        }
        for member in members where member.key != "value" && member.key != "tolerance" {
            report(at: member.keyOffset, "unknown key \"\(member.key)\" in the expectation of \(field): with a "
                   + "tolerance, write {\"value\": V, \"tolerance\": T}")
            return nil
        }
        guard let tolerance = members.first(where: { $0.key == "tolerance" })?.value else { return nil }
        guard case .number(let amount) = tolerance.kind, amount >= 0 else {
            report(at: tolerance.range.lowerBound, "\"tolerance\" of \(field) must be a number 0 or more, not "
                   + text(of: tolerance))
            return nil
        }
        guard let value = members.first(where: { $0.key == "value" })?.value else {
            report(at: node.range.lowerBound, "the expectation of \(field) has a tolerance but no \"value\"; write "
                   + "{\"value\": V, \"tolerance\": \(SmokeValue.format(amount))}")
            return nil
        }
        guard Self.isNumeric(value) else {
            report(at: value.range.lowerBound, "\"value\" of \(field) must be a number or an array of numbers "
                   + "to compare within a tolerance, not \(text(of: value))")
            return nil
        }
        return SmokeExpectation(field: field, expected: value.value, tolerance: amount)
    }

    private static func isNumeric(_ node: Node) -> Bool {
        switch node.kind {
        case .number: true
        case .array(let nodes): !nodes.isEmpty && nodes.allSatisfy(isNumeric)
        default: false
        }
    }

    /// The node's text as the line wrote it, cut to 60 characters.
    private func text(of node: Node) -> String {
        let text = String(decoding: bytes[node.range], as: UTF8.self)
        return text.count > 60 ? String(text.prefix(60)) + "..." : text
    }

    private mutating func report(at offset: Int, _ message: String) {
        diagnostics.append(SmokeDiagnostic(file: file, line: line, column: SmokeJSONParser.column(of: offset, in: bytes),
                                           message: message))
    }

    /// The known key closest to `key` (at most two edits away), for a typo.
    private static func suggestion(for key: String) -> String? {
        let lowered = Array(key.lowercased().unicodeScalars)
        var best: (String, Int)?
        for candidate in SmokeRequests.keys {
            let distance = editDistance(lowered, Array(candidate.unicodeScalars))
            if distance <= 2, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    private static func editDistance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar]) -> Int {
        var previous = Array(0...y.count)
        for (i, a) in x.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: y.count)
            for (j, b) in y.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (a == b ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
}
