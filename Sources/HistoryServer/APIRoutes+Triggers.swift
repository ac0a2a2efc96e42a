import Foundation
import Hummingbird
import RunStore

extension APIRoutes {
    /// `GET /api/v1/triggers`: the webhook trigger queue, newest first, a page at a time
    /// (`limit`, 1 to 200, 50 by default; `before`, the cursor), with a `Link: <…>;
    /// rel="next"` header while there may be more.
    func triggers(_ parts: RequestParts) throws -> Response {
        let (before, limit) = try Self.triggerCursor(parts)
        let rows = try store { s throws(RunStoreError) in try s.triggers(before: before, limit: limit) }
        var headers: HTTPFields = [:]
        if rows.count == limit, let last = rows.last?.id {
            let size = limit == RunListQuery.pageSize ? nil : String(limit)
            headers[.init("Link")!] = "</api/v1/triggers\(HTML.query([("limit", size), ("before", String(last))]))>; rel=\"next\""
        }
        return HTTPAnswer.json(TriggerJSON.triggers(rows), headers: headers)
    }

    /// The page of the trigger queue a query asks for, the same for the API and the
    /// triggers page: `before` (the cursor, an id) and `limit` (1 to 200; 50 by default).
    static func triggerCursor(_ parts: RequestParts) throws(HTTPAnswer) -> (before: Int64?, limit: Int) {
        var limit = RunListQuery.pageSize
        if let text = parts.parameter("limit") {
            guard let value = Int(text), (1...200).contains(value) else {
                throw .badRequest("limit=\(text) is not a page size; give a number from 1 to 200")
            }
            limit = value
        }
        var before: Int64?
        if let text = parts.parameter("before") {
            guard let value = Int64(text), value > 0 else {
                throw .badRequest("before=\(text) is not a trigger id; give a number such as 42")
            }
            before = value
        }
        return (before, limit)
    }
}
