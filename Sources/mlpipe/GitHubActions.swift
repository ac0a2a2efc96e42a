import Foundation
import PipelineEngine
import PipelineSpec
import RunStore

/// What mlpipe tells GitHub Actions when it runs there (`GITHUB_ACTIONS=true`): workflow
/// commands that annotate the pipeline file at the failing line
/// (`::error file=F,line=L,col=C::MESSAGE`), one per failed stage, and a Markdown summary
/// of the run appended to `$GITHUB_STEP_SUMMARY`.
///
/// Annotations go to standard output, where the runner reads them, except under `--json`,
/// where standard output is a JSON stream: they go to standard error then. Messages are
/// the ones already printed, so they hold secrets masked, never their values.
struct GitHubActions: Sendable {
    /// The summary file, when set and running under Actions.
    let summaryPath: String?
    let enabled: Bool

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        enabled = environment["GITHUB_ACTIONS"] == "true"
        summaryPath = enabled ? environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 } : nil
    }

    static let current = GitHubActions()

    /// `::error file=…,line=…,col=…::message` for a pipeline-file diagnostic.
    static func annotation(_ diagnostic: Diagnostic) -> String {
        let where_ = diagnostic.location
        return "::error file=\(property(where_.file)),line=\(where_.line),col=\(where_.column)::\(data(diagnostic.message))"
    }

    /// `::error title=…::message` for a failed stage, or `::warning` for a stage's warning.
    static func annotation(level: String, title: String, message: String) -> String {
        "::\(level) title=\(property(title))::\(data(message))"
    }

    /// Prints `lines` where the runner reads them.
    func emit(_ lines: [String], json: Bool) {
        guard enabled else { return }
        for line in lines { json ? Console.shared.error(line) : Console.shared.out(line) }
    }

    /// Appends the run's Markdown summary to `$GITHUB_STEP_SUMMARY`. A summary that cannot
    /// be written is a warning on standard error: the run's result stands.
    func writeSummary(of report: RunReport) {
        guard let summaryPath else { return }
        let text = Self.markdown(report)
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: summaryPath))
            defer { try? handle.close() }  // closing a file opened for append only: nothing to report
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            Console.shared.error("mlpipe: warning: cannot append the run summary to GITHUB_STEP_SUMMARY (\(summaryPath)): "
                + "\(error.localizedDescription)")
        }
    }

    /// The run as a Markdown heading and table: stage, status, duration, detail.
    static func markdown(_ report: RunReport) -> String {
        let icon = report.status == .succeeded ? "✅" : report.status == .failed ? "❌" : "⚠️"
        var lines = ["### \(icon) mlpipe run #\(report.runID) \(report.pipeline): \(report.status.rawValue) in \(duration(report.duration))",
                     "", "| Stage | Status | Duration | Detail |", "| --- | --- | --- | --- |"]
        for stage in report.stages {
            var detail = ""
            switch stage.status {
            case .cached: detail = stage.cachedFrom.map { "from run #\($0)" } ?? ""
            case .failed: detail = stage.error ?? ""
            case .skipped: detail = stage.reason ?? ""
            default: detail = stage.reason ?? ""
            }
            let time = stage.duration.map { duration($0) } ?? ""
            lines.append("| `\(cell(stage.name))` | \(stage.status.rawValue) | \(time) | \(cell(detail)) |")
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// Escapes a workflow command's message.
    static func data(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// Escapes a workflow command's property value.
    static func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
