import Foundation
import Hummingbird

/// A request's path and query, decoded once, strictly.
///
/// The path is split on `/` before each segment is percent-decoded, so `%2F` stays
/// inside one segment and can never add a level; a segment that decodes to `.`, `..`,
/// or holds `/`, `\` or NUL is refused outright. No segment is ever joined to a folder
/// to open a file: files are found through the store's records, and then only inside
/// the workspace (``ServerState/fileInsideWorkspace(_:)``).
struct RequestParts: Sendable {
    var segments: [String]
    var query: [String: String]
    /// Whether a parameter given with an empty value counts as given (the API: `status=`
    /// is a bad status) rather than as left out (the pages' filter forms send every field).
    var emptyIsGiven = false

    init(path: String, query rawQuery: String?) throws(HTTPAnswer) {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(raw).removingPercentEncoding else {
                throw .badRequest("the path holds a malformed percent-escape: \(raw)")
            }
            if decoded == "." || decoded == ".." || decoded.contains("/") || decoded.contains("\\") || decoded.contains("\u{0}") {
                throw .notFound("no page at \(path): a path segment may not be '.', '..', or hold a slash")
            }
            segments.append(decoded)
        }
        self.segments = segments
        var query: [String: String] = [:]
        for pair in (rawQuery ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) -> String? in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let key = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else {
                throw .badRequest("the query holds a malformed percent-escape: \(pair)")
            }
            query[key] = value
        }
        self.query = query
    }

    /// A query parameter; nil when missing, or empty unless ``emptyIsGiven``.
    func parameter(_ name: String) -> String? {
        query[name].flatMap { $0.isEmpty && !emptyIsGiven ? nil : $0 }
    }

    /// A positive run id in a query parameter.
    func runID(_ name: String) throws(HTTPAnswer) -> Int64? {
        guard let text = parameter(name) else { return nil }
        let digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
        guard let id = Int64(digits), id > 0 else {
            throw .badRequest("\(name)=\(text) is not a run; give a run number such as 42")
        }
        return id
    }
}

/// Decodes a form body (`application/x-www-form-urlencoded`).
enum FormBody {
    static func read(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        return try RequestParts(path: "/", query: text).query
    }
}
