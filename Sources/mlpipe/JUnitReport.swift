import Foundation
import PipelineEngine
import RunStore

/// A JUnit XML report of a run: one testsuite, one testcase per stage, as CI systems
/// (GitHub Actions, GitLab, Jenkins) read it. Failed stages carry their error and last
/// log lines; skipped and cancelled stages are `<skipped/>`.
enum JUnitReport {
    static func xml(_ report: RunReport) -> String {
        let failures = report.count(.failed)
        let skipped = report.count(.skipped) + report.count(.cancelled)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"mlpipe\" tests=\"\(report.stages.count)\" failures=\"\(failures)\" time=\"\(seconds(report.duration))\">\n"
        xml += "  <testsuite name=\"\(escape(report.pipeline))\" id=\"\(report.runID)\" tests=\"\(report.stages.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\" errors=\"0\" time=\"\(seconds(report.duration))\" timestamp=\"\(report.startedAt.formatted(JSONOutput.isoStyle))\">\n"
        for stage in report.stages {
            xml += "    <testcase classname=\"\(escape(report.pipeline))\" name=\"\(escape(stage.name))\" time=\"\(seconds(stage.duration ?? 0))\">\n"
            switch stage.status {
            case .failed:
                xml += "      <failure message=\"\(escape(stage.error ?? "failed"))\" type=\"\(stage.exitCode.map { "exit \($0)" } ?? "failure")\">\(escape(stage.logTail.joined(separator: "\n")))</failure>\n"
            case .skipped, .cancelled:
                xml += "      <skipped message=\"\(escape(stage.status.rawValue + (stage.reason.map { ": " + $0 } ?? "")))\"/>\n"
            case .cached:
                xml += "      <system-out>\(escape("cached from run #\(stage.cachedFrom ?? 0)"))</system-out>\n"
            default:
                if let reason = stage.reason { xml += "      <system-out>\(escape("ran: " + reason))</system-out>\n" }
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
