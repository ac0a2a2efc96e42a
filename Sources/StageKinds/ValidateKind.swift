import Foundation
import ModelFormats
import PipelineEngine
import PipelineSpec

/// `kind: validate`: the gate before a model is packaged or deployed.
///
/// Gets its `with:` as `ValidateSettings`, hands the model to `ModelValidator` — which scans
/// every file statically and checks format, size, digest and signature — and writes the
/// result as JSON to the `report` output if the stage declares one, else to
/// `report.json` in the stage's folder. The report is written before the verdict is
/// acted on, so a failed gate leaves it behind to read. A model that is not `safe` fails
/// the stage: its first problems go to the log (and so to stderr) and the first one is
/// the stage's error.
///
/// The stage is pure — the same model bytes and settings give the same report — so it is
/// cached like a command. Scanning is synchronous and not interrupted by cancellation;
/// it reads headers, not tensors, so it finishes in about the time of one read of the
/// model for its digest.
public struct ValidateKind: StageKind {
    /// Problem lines written to the log; the log's tail (20 lines) reaches stderr.
    static let loggedProblems = 15

    public init() {}

    public var schema: KindSchema {
        KindSchema(name: "validate", settings: ValidateSettings.self, results: ["format", "verdict", "sha256"])
    }

    /// 2: the kind returns results (format, verdict, sha256). A result cached by version 1
    /// has none, and a stage reading `stages.NAME.results.sha256` from it would fail.
    public var implementationVersion: String { "2" }

    /// Scans and checks the model; on success returns its results: `format` (the detected
    /// format, as `report.json` has it), `verdict` (`safe`) and `sha256` (`sha256:<hex>` of
    /// a single-file model; null for a folder, which has no one digest).
    public func run(_ context: StageContext, settings: ValidateSettings) async throws -> StageResult {
        let root = context.repositoryRoot
        let path = settings.model.hasPrefix("/") ? settings.model : root + "/" + settings.model
        let name = Self.relative(path, to: root)
        let scanner = ModelFormats.Scanner(policy: ScanPolicy.default.allowing(settings.allow))
        let report = ModelValidator(scanner: scanner)
            .validate(model: path, name: name, base: root, expecting: settings.expectations)
        try Task.checkCancellation()

        let reportPath = context.outputs["report"] ?? context.outputDirectory + "/report.json"
        do {
            try Self.write(report, to: reportPath)
        } catch {
            throw StageFailure("cannot write the validation report \(reportPath): \(error.localizedDescription)")
        }

        let digest = report.sha256.map { ", \($0)" } ?? ""
        context.log.line("\(name): \(report.verdict.rawValue) (\(report.format.rawValue), \(report.size) bytes\(digest))")
        let problems = report.problemLines()
        for line in problems.prefix(Self.loggedProblems) { context.log.line(line) }
        if problems.count > Self.loggedProblems {
            context.log.line("… and \(problems.count - Self.loggedProblems) more")
        }
        context.log.line("report: \(reportPath)")
        guard report.passed else {
            let first = problems.first ?? "\(name): \(report.verdict.rawValue)"
            let more = problems.count > 1 ? "; \(problems.count - 1) more in the report" : ""
            throw StageFailure(first + more)
        }
        return StageResult(results: [
            "format": .string(report.format.rawValue),
            "verdict": .string(report.verdict.rawValue),
            "sha256": report.sha256.map(Value.string) ?? .null,
        ])
    }

    /// `path` relative to `root` when it is inside it.
    static func relative(_ path: String, to root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Writes the report to a temporary name beside `path` and renames it into place,
    /// so that a reader never sees half a report.
    static func write(_ report: ValidationReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(report)
        data.append(0x0A)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
