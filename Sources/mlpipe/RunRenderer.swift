import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// Turns run events into console lines, or into one JSON object per line with --json.
struct RunRenderer: Sendable {
    var json: Bool
    var console: Console = .shared
    var actions: GitHubActions = .current

    func handle(_ event: RunEvent) {
        json ? renderJSON(event) : renderText(event)
        annotate(event)
    }

    /// Under GitHub Actions: an annotation per failed stage and per warning, and the step
    /// summary when the run ends.
    func annotate(_ event: RunEvent) {
        guard actions.enabled else { return }
        switch event {
        case .stageFinished(let summary) where summary.status == .failed:
            actions.emit([GitHubActions.annotation(level: "error", title: "mlpipe: stage \(summary.name) failed",
                                                   message: summary.error ?? "failed")], json: json)
        case .stageWarning(let stage, let message, _):
            actions.emit([GitHubActions.annotation(level: "warning", title: "mlpipe: stage \(stage)", message: message)], json: json)
        case .runFinished(let report):
            actions.writeSummary(of: report)
        default:
            break
        }
    }

    func renderText(_ event: RunEvent) {
        switch event {
        case .runStarted(let header):
            var line = "run #\(header.id) \(header.pipeline) at \(header.commit.prefix(7))"
            if let branch = header.branch { line += " (\(branch))" }
            if header.dirty { line += console.paint(" dirty", .yellow) }
            if let parent = header.parentRun { line += ", re-running #\(parent)" }
            line += ": \(header.stageCount) stage\(header.stageCount == 1 ? "" : "s")"
            console.out(console.paint(line, .bold))
        case .stageStarted(let stage, _, let at):
            console.out("\(LocalTime.clock(at)) \(pad(stage)) \(console.paint("running", .cyan))")
        case .stageRetrying(let stage, let attempt, let message, let at):
            console.out("\(LocalTime.clock(at)) \(pad(stage)) \(console.paint("retrying", .yellow)) attempt \(attempt): \(message)")
        case .stageWarning(let stage, let message, let at):
            console.error("\(LocalTime.clock(at)) \(pad(stage)) \(console.paint("warning", .yellow)): \(message)")
        case .stageFinished(let summary):
            renderStage(summary)
        case .runFinished(let report):
            var parts: [String] = []
            for status in [StageStatus.succeeded, .cached, .failed, .skipped, .cancelled] {
                let n = report.count(status)
                if n > 0 { parts.append("\(n) \(status == .succeeded ? "ran" : status.rawValue)") }
            }
            let color: Console.Color = report.status == .succeeded ? .green : report.status == .failed ? .red : .yellow
            console.out(console.paint("run #\(report.runID) \(report.status.rawValue) in \(duration(report.duration)): \(parts.joined(separator: ", "))", color))
        }
    }

    func renderStage(_ summary: StageSummary) {
        let time = LocalTime.clock(summary.finishedAt ?? Date())
        var line = "\(time) \(pad(summary.name)) "
        switch summary.status {
        case .succeeded:
            line += console.paint("succeeded", .green) + " " + duration(summary.duration ?? 0)
            if summary.attempts > 1 { line += " after \(summary.attempts) attempts" }
        case .cached:
            line += console.paint("cached", .green) + (summary.cachedFrom.map { " from run #\($0)" } ?? "")
        case .failed:
            line += console.paint("failed", .red)
            if let d = summary.duration { line += " " + duration(d) }
            if summary.attempts > 1 { line += " after \(summary.attempts) attempts" }
            if let error = summary.error { line += ": " + error }
        case .skipped:
            line += console.paint("skipped", .yellow) + (summary.reason.map { ": " + $0 } ?? "")
        case .cancelled:
            line += console.paint("cancelled", .yellow)
        case .pending, .running:
            line += summary.status.rawValue
        }
        console.out(line)
        if summary.status == .failed && !summary.logTail.isEmpty {
            var text = "--- last lines of \(summary.name)'s log (\(summary.logPath ?? "")):\n"
            text += summary.logTail.map { "  | " + $0 }.joined(separator: "\n")
            console.error(text)
        }
    }

    func renderJSON(_ event: RunEvent) {
        var object: [String: Value]
        switch event {
        case .runStarted(let header):
            object = ["event": .string("runStarted"), "runId": .int(Int(header.id)), "pipeline": .string(header.pipeline),
                      "pipelineFile": .string(header.pipelineFile), "commit": .string(header.commit),
                      "branch": JSONOutput.string(header.branch), "dirty": .bool(header.dirty),
                      "parentRun": JSONOutput.int(header.parentRun), "stages": .int(header.stageCount),
                      "time": JSONOutput.date(header.startedAt)]
        case .stageStarted(let stage, let attempt, let at):
            object = ["event": .string("stageStarted"), "stage": .string(stage), "attempt": .int(attempt), "time": JSONOutput.date(at)]
        case .stageRetrying(let stage, let attempt, let message, let at):
            object = ["event": .string("stageRetrying"), "stage": .string(stage), "attempt": .int(attempt), "message": .string(message),
                      "time": JSONOutput.date(at)]
        case .stageWarning(let stage, let message, let at):
            object = ["event": .string("stageWarning"), "stage": .string(stage), "message": .string(message),
                      "time": JSONOutput.date(at)]
        case .stageFinished(let s):
            object = ["event": .string("stageFinished"), "results": .object(s.results), "stage": .string(s.name), "kind": .string(s.kind), "status": .string(s.status.rawValue),
                      "cached": .bool(s.status == .cached), "cachedFrom": JSONOutput.int(s.cachedFrom),
                      "cacheKey": JSONOutput.string(s.cacheKey), "durationMs": JSONOutput.milliseconds(s.duration),
                      "attempts": .int(s.attempts), "exitCode": JSONOutput.int32(s.exitCode), "error": JSONOutput.string(s.error),
                      "reason": JSONOutput.string(s.reason), "time": JSONOutput.date(s.finishedAt),
                      "logTail": .array(s.logTail.map { .string($0) })]
        case .runFinished(let report):
            object = ["event": .string("runFinished"), "runId": .int(Int(report.runID)), "status": .string(report.status.rawValue),
                      "durationMs": JSONOutput.milliseconds(report.duration), "time": JSONOutput.date(report.finishedAt)]
        }
        console.out(Value.object(object).canonicalJSON())
    }

    func pad(_ name: String) -> String {
        name.count >= 14 ? name : name + String(repeating: " ", count: 14 - name.count)
    }
}

/// "0.42s", "1m03s".
func duration(_ seconds: Double) -> String {
    if seconds < 60 { return String(format: "%.2fs", seconds) }
    let total = Int(seconds.rounded())
    return String(format: "%dm%02ds", total / 60, total % 60)
}
