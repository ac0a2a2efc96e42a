import Canonical
import ArgumentParser
import Foundation
import ModelFormats

/// `mlpipe scan PATH…`: the validate stage's scanner on its own, for CI, a downloaded
/// model or a folder of models.
///
/// Prints a verdict per file (folders are walked in sorted order) with its findings,
/// and exits 1 when any file is not `safe`. With `--json`, one JSON object per file
/// and line, with the keys of `FileReport`.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan model files statically for code that would run when they load.",
        discussion: """
            The format of each file is detected from its bytes. Pickles (also inside \
            PyTorch, joblib, numpy and zip files) are interpreted without being executed; \
            every global they import or call must be on the allow-list. Verdicts: safe, \
            unsafe, invalid (could not be read completely), unknown (not a model format). \
            Exit status 1 when any file is not safe.
            """)

    @Argument(help: "Model files or folders (folders are walked; .git is skipped).")
    var paths: [String]

    @Flag(name: .long, help: "Print one JSON object per file.")
    var json = false

    @Flag(name: .long, help: "Fail on files of no model format inside scanned folders too (by default they are skipped).")
    var strict = false

    @Option(name: .long, help: ArgumentHelp(
        "Also allow this Python global (module.name, or module.* for a module); repeatable.",
        valueName: "global"))
    var allow: [String] = []

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one file or folder to scan") }
        for path in paths where !Self.exists(path) {
            throw ValidationError("no such file or folder: \(path)")
        }
        for entry in allow {
            if let problem = ScanPolicy.problem(withEntry: entry) {
                throw ValidationError("--allow \(problem)")
            }
        }
    }

    func run() async throws {
        // The digest is one more read of every byte; only --json reports it.
        let scanner = ModelFormats.Scanner(policy: ScanPolicy.default.allowing(allow), computeDigest: json)
        let console = Console.shared
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var tally: [Verdict: Int] = [:]
        var skipped = 0
        let named = Set(paths)
        try scanner.scan(paths: paths) { report in
            // A file of no model format found by walking a folder (a readme beside the
            // models) is skipped; one named on the command line is `unknown`.
            let skip = !strict && report.verdict == .unknown && report.findings.isEmpty && !named.contains(report.path)
            if skip { skipped += 1 } else { tally[report.verdict, default: 0] += 1 }
            if json {
                console.out(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else if skip {
                console.out("\(report.path): \(console.paint("skipped", .yellow)) (no model format)")
            } else {
                for line in Self.lines(report, console: console) { console.out(line) }
            }
        }
        let count = tally.values.reduce(0, +) + skipped
        guard count > 0 else {
            // An empty folder is more likely a wrong path than a clean model set.
            console.error("mlpipe: error: no files to scan under \(paths.joined(separator: ", "))")
            throw ExitCode(1)
        }
        if !json {
            let order: [Verdict] = [.safe, .unsafe, .invalid, .unknown]
            let parts = order.compactMap { verdict in tally[verdict].map { "\($0) \(verdict.rawValue)" } }
                + (skipped > 0 ? ["\(skipped) skipped"] : [])
            console.out("scanned \(count) file\(count == 1 ? "" : "s"): \(parts.joined(separator: ", "))")
        }
        if tally.keys.contains(where: { $0 != .safe }) { throw ExitCode(1) }
    }

    /// Whether `path` names something, a dangling link included (which the scan reports).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// A file's verdict line, then one indented line per finding.
    static func lines(_ report: FileReport, console: Console) -> [String] {
        let color: Console.Color = switch report.verdict {
        case .safe: .green
        case .unknown: .yellow
        case .invalid, .unsafe: .red
        }
        var lines = ["\(report.path): \(console.paint(report.verdict.rawValue, color)) (\(report.format.rawValue))"]
        for finding in report.findings {
            let label = finding.verdict == .safe ? "note" : finding.verdict.rawValue
            lines.append("  \(label): \(finding.message)\(finding.placeSuffix)")
        }
        return lines
    }
}
