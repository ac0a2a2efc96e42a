import Foundation
import RunStore

/// The filters of the runs list, read from a query string the same way for the page
/// (`/?pipeline=iris&status=failed`) and the API (`/api/v1/runs?…`), and written back
/// into the links of the next page, so that filters stay in the URL.
struct RunListQuery: Sendable {
    static let pageSize = 50

    var store: RunPageQuery

    /// Reads `pipeline`, `status`, `branch`, `commit` (a hex prefix), `before` (the
    /// cursor) and `limit` (1 to 200; 50 by default).
    init(_ parts: RequestParts) throws(HTTPAnswer) {
        var status: RunStatus?
        if let text = parts.parameter("status") {
            guard let known = RunStatus(rawValue: text) else {
                throw .badRequest("unknown status '\(text)'; use one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = known
        }
        var commit: String?
        if let text = parts.parameter("commit") {
            guard text.count <= 40, text.allSatisfy(\.isHexDigit) else {
                throw .badRequest("commit=\(text) is not a commit prefix; give up to 40 hex digits, such as 3f2a9c1")
            }
            commit = text.lowercased()
        }
        var limit = Self.pageSize
        if let text = parts.parameter("limit") {
            guard let value = Int(text), (1...200).contains(value) else {
                throw .badRequest("limit=\(text) is not a page size; give a number from 1 to 200")
            }
            limit = value
        }
        store = RunPageQuery(pipeline: parts.parameter("pipeline"), status: status, branch: parts.parameter("branch"),
                             commitPrefix: commit, before: try parts.runID("before"), limit: limit)
    }

    /// The query string of this list with `before` set to `cursor` (nil for the first
    /// page); the page size is kept only when it is not the default.
    func queryString(before cursor: Int64?) -> String {
        HTML.query([("pipeline", store.pipeline), ("status", store.status?.rawValue), ("branch", store.branch),
                    ("commit", store.commitPrefix), ("limit", store.limit == Self.pageSize ? nil : String(store.limit)),
                    ("before", cursor.map(String.init))])
    }

    /// The cursor of the page after `runs`, or nil when this page is the last.
    func nextCursor(_ runs: [RunRecord]) -> Int64? {
        runs.count == store.limit ? runs.last?.id : nil
    }
}
