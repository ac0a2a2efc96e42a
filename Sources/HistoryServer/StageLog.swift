import Foundation
import Hummingbird
import PipelineEngine
import RunStore

/// A stage's log file, found through the store's records and served only from inside
/// the workspace: downloaded whole, or followed as Server-Sent Events while it grows.
///
/// Logs are masked when written (secret values never reach the file), so they are
/// served as they are, as `mlpipe logs` prints them.
struct StageLog: Sendable {
    var run: Int64
    var stage: StageRecord
    /// The file, inside the workspace.
    var path: String
    /// The run that wrote it, when it is another (a cached stage's log is its maker's).
    var madeBy: Int64?

    /// The log of `stage` in run `run`, or a 404 that says why there is none.
    static func find(_ state: ServerState, run: Int64, stage name: String) async throws -> StageLog {
        let details: RunDetails
        do { details = try await state.history.details(String(run)) } catch { throw HTTPAnswer(error) }
        guard let record = details.stages.first(where: { $0.name == name }) else {
            throw HTTPAnswer.notFound("run #\(run) has no stage '\(name)' (stages: \(details.stages.map(\.name).joined(separator: ", ")))")
        }
        if details.run.prunedAt != nil {
            throw HTTPAnswer.notFound("the folder of run #\(run) was pruned (`mlpipe runs prune`), and its logs with it")
        }
        var path = record.logPath
        var madeBy: Int64?
        if path == nil, let origin = record.cachedFrom, origin != run {
            let logs: [(stage: String, path: String, madeBy: Int64?)]
            do { logs = try await state.history.logs(String(run), stage: name) } catch { throw HTTPAnswer(error) }
            path = logs.first?.path
            madeBy = origin
        }
        if path == nil, record.status == .pending || record.status == .running {
            // Not started yet: where its log will be, so a follower can wait for it.
            path = state.workspace.logPath(run: run, stage: name)
        }
        guard let path else {
            throw HTTPAnswer.notFound("stage '\(name)' of run #\(run) has no log: it was \(record.status.rawValue)")
        }
        guard let inside = state.fileInsideWorkspace(path) else {
            throw HTTPAnswer.notFound("the log of stage '\(name)' of run #\(run) is outside the workspace; it is not served")
        }
        return StageLog(run: run, stage: record, path: inside, madeBy: madeBy)
    }

    /// The whole file as text; `attachment` makes a browser save it.
    static func download(_ log: StageLog, attachment: Bool) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: log.path) else {
            if log.stage.status == .pending || log.stage.status == .running {
                return HTTPAnswer.body("", type: "text/plain; charset=utf-8")
            }
            throw HTTPAnswer.notFound("the log of stage '\(log.stage.name)' of run #\(log.run) is gone (\(log.path))")
        }
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        if attachment {
            headers[.contentDisposition] = "attachment; filename=\"run-\(log.run)-\(HTML.percent(log.stage.name)).log\""
        }
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The log from byte `offset` on as `text/event-stream`: one event per chunk of whole
    /// lines (its `id` the offset after it, so a reconnecting EventSource resumes), until
    /// the stage is no longer pending or running and the file is read to its end; then
    /// an `end` event with the stage's status.
    static func events(_ log: StageLog, state: ServerState, offset start: Int) -> Response {
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            var offset = start
            // Bytes read but not sent yet (a line still being written). An array, whose
            // indices start at 0, not Data, whose slices keep their old indices.
            var pending: [UInt8] = []
            var status = log.stage.status
            var lastCheck = Date.distantPast
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            while true {
                let live = status == .pending || status == .running
                let chunk = readFrom(log.path, offset: offset + pending.count)
                pending.append(contentsOf: chunk)
                // Send whole lines while the stage runs; the rest once it has ended.
                var cut = pending.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                if !live { cut = pending.count }
                if cut > 0 {
                    let lines = String(decoding: pending.prefix(cut), as: UTF8.self)
                    offset += cut
                    pending.removeFirst(cut)
                    try await writer.write(ByteBuffer(string: event(id: offset, name: "log", data: lines)))
                }
                if !live && chunk.isEmpty && pending.isEmpty {
                    try await writer.write(ByteBuffer(string: event(id: offset, name: "end", data: status.rawValue)))
                    break
                }
                if Date().timeIntervalSince(lastCheck) >= 0.5 {
                    lastCheck = Date()
                    await state.sweepInterruptedRuns()
                    status = (try? state.store.stages(runID: log.run).first { $0.name == log.stage.name }?.status) ?? status
                }
                if chunk.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One SSE event; every line of `data` its own `data:` field.
    static func event(id: Int, name: String, data: String) -> String {
        var text = "id: \(id)\nevent: \(name)\n"
        var lines = data.split(separator: "\n", omittingEmptySubsequences: false)
        if data.hasSuffix("\n") { lines.removeLast() }
        // A CR would end an SSE line early: it goes.
        for line in lines { text += "data: \(line.replacingOccurrences(of: "\r", with: ""))\n" }
        return text + "\n"
    }

    /// Up to 256 KiB of `path` from `offset`; nothing when the file is not there yet.
    static func readFrom(_ path: String, offset: Int) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            return try handle.read(upToCount: 256 * 1024) ?? Data()
        } catch {
            return Data()
        }
    }
}
