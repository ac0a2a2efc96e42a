import Foundation
import Hummingbird
import ModelRegistry
import PipelineEngine
import PipelineSpec
import RunStore

/// `/api/v1/…`: the JSON twin of every page, with the objects of the CLI's `--json`
/// (``HistoryJSON``, ``RegistryJSON``). `docs/openapi.yaml` describes each answer.
struct APIRoutes: Sendable {
    let state: ServerState

    func respond(_ request: Request, _ parts: RequestParts) async throws -> Response {
        let path = Array(parts.segments.dropFirst(2))
        switch path.count {
        case 1 where path[0] == "runs":
            return try await runs(parts)
        case 2 where path[0] == "runs":
            return HTTPAnswer.json(HistoryJSON.details(try await details(path[1])))
        case 5 where path[0] == "runs" && path[2] == "stages" && path[4] == "log":
            let log = try await StageLog.find(state, run: try runID(path[1]), stage: path[3])
            return try StageLog.download(log, attachment: false)
        case 6 where path[0] == "runs" && path[2] == "stages" && path[4] == "log" && path[5] == "events":
            let log = try await StageLog.find(state, run: try runID(path[1]), stage: path[3])
            return StageLog.events(log, state: state, offset: try offset(request, parts))
        case 1 where path[0] == "compare":
            guard let a = try parts.runID("a"), let b = try parts.runID("b") else {
                throw HTTPAnswer.badRequest("compare needs two runs: /api/v1/compare?a=41&b=42")
            }
            return HTTPAnswer.json(HistoryJSON.comparison(try await history { h throws(EngineError) in try await h.compare(String(a), String(b)) }))
        case 1 where path[0] == "pipelines":
            return HTTPAnswer.json(.array(try store { s throws(RunStoreError) in try s.pipelineNames() }.map(Value.string)))
        case 3 where path[0] == "pipelines" && path[2] == "metrics":
            let series = try await MetricSeries.load(state, pipeline: path[1], runs: try runsParameter(parts))
            return HTTPAnswer.json(series.json)
        case 1 where path[0] == "models":
            return HTTPAnswer.json(.array(try await registry { r throws(RegistryError) in try await r.models() }.map(RegistryJSON.summary)))
        case 2 where path[0] == "models":
            return HTTPAnswer.json(try await ModelHistory.load(state, name: path[1]).json)
        case 1 where path[0] == "triggers":
            return try triggers(parts)
        default:
            throw HTTPAnswer.notFound("no API at /\(parts.segments.joined(separator: "/")); docs/openapi.yaml lists the paths")
        }
    }

    /// `GET /api/v1/runs`: one page, with a `Link: <…>; rel="next"` header to the next.
    func runs(_ parts: RequestParts) async throws -> Response {
        let query = try RunListQuery(parts)
        await state.sweepInterruptedRuns()
        let runs = try store { s throws(RunStoreError) in try s.runPage(query.store) }
        var headers: HTTPFields = [:]
        if let cursor = query.nextCursor(runs) {
            headers[.init("Link")!] = "</api/v1/runs\(query.queryString(before: cursor))>; rel=\"next\""
        }
        return HTTPAnswer.json(HistoryJSON.runs(runs), headers: headers)
    }

    func details(_ segment: String) async throws -> RunDetails {
        let id = try runID(segment)
        await state.sweepInterruptedRuns()
        return try await history { h throws(EngineError) in try await h.details(String(id)) }
    }

    func runID(_ segment: String) throws(HTTPAnswer) -> Int64 {
        guard let id = Int64(segment), id > 0 else {
            throw .notFound("'\(segment)' is not a run; runs are numbered from 1")
        }
        return id
    }

    func runsParameter(_ parts: RequestParts) throws(HTTPAnswer) -> Int {
        guard let text = parts.parameter("runs") else { return 200 }
        guard let value = Int(text), (1...5000).contains(value) else {
            throw .badRequest("runs=\(text) is not a number of runs; give one from 1 to 5000")
        }
        return value
    }

    /// Where a live log resumes: `Last-Event-ID` (a reconnecting EventSource) or `offset`.
    func offset(_ request: Request, _ parts: RequestParts) throws(HTTPAnswer) -> Int {
        let text = request.headers[.init("Last-Event-ID")!] ?? parts.parameter("offset") ?? "0"
        guard let value = Int(text), value >= 0 else {
            throw .badRequest("offset=\(text) is not a byte offset; give a number from 0")
        }
        return value
    }

    func history<T>(_ body: (RunHistory) async throws(EngineError) -> T) async throws(HTTPAnswer) -> T {
        do { return try await body(state.history) } catch { throw HTTPAnswer(error) }
    }

    func store<T>(_ body: (SQLiteRunStore) throws(RunStoreError) -> T) throws(HTTPAnswer) -> T {
        do { return try body(state.store) } catch { throw HTTPAnswer(status: .serviceUnavailable, message: "\(error)") }
    }

    func registry<T>(_ body: (LocalModelRegistry) async throws(RegistryError) -> T) async throws(HTTPAnswer) -> T {
        do { return try await body(state.registry) } catch { throw HTTPAnswer(error) }
    }
}

extension HTTPAnswer {
    /// An engine error as an answer: a definition error (no such run, no such stage) is
    /// 404, an environment error 503.
    init(_ error: EngineError) {
        self.init(status: error.category == .definition ? .notFound : .serviceUnavailable, message: error.message)
    }

    /// A registry error as an answer: a name that is not known is 404, a registry that
    /// cannot be read 503.
    init(_ error: RegistryError) {
        self.init(status: error.isUsage ? .notFound : .serviceUnavailable, message: "\(error)")
    }
}
