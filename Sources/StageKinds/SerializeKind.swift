import Foundation
import ModelPackage
import PipelineEngine
import PipelineSpec

/// `kind: serialize`: makes a model package — the model's files and `mlpipe-model.json` —
/// for containerize and register to take.
///
/// Gets its `with:` as `SerializeSettings` and hands the model to `PackageBuilder`, which
/// copies it, checks that a scan said `safe` (validate's report when `report` is given,
/// else its own scan), and writes the manifest. The package is a folder, written to the
/// stage's output named `package` (`outputs: { package: package }`), or to its only
/// declared output, or else to `package/` in the stage's folder; the engine stores a
/// folder output as a tree, so a cache hit restores the package file for file.
///
/// Results: `digest` (`sha256:` of `mlpipe-model.json`'s bytes, which name every file:
/// the package's digest), `format`, `flavor` and `name`. When the builder scanned the
/// model itself, its report is written beside the package as `scan-report.json`, whose
/// SHA-256 is the manifest's `scan.reportDigest`.
///
/// The stage is pure: the same model bytes, settings, commit and run give the same bytes,
/// so it is cached like a command. The package records the run that made it, so a run
/// that rebuilds it (`--force`, `--no-cache`) makes a package that differs in `runId`.
public struct SerializeKind: StageKind {
    public init() {}

    /// `serialize`, with the results `digest`, `format`, `flavor` and `name`.
    public var schema: KindSchema {
        KindSchema(name: "serialize", settings: SerializeSettings.self, results: ["digest", "format", "flavor", "name"])
    }

    /// 1: the first package schema, `mlpipe-model/v1`.
    public var implementationVersion: String { "1" }

    /// Builds the package; on success returns its digest, format, flavor and name.
    public func run(_ context: StageContext, settings: SerializeSettings) async throws -> StageResult {
        let root = context.repositoryRoot
        let destination = Self.destination(context)
        var builder = PackageBuilder(
            model: Self.absolute(settings.model, in: root), name: settings.name,
            source: PackageSource(commit: context.commit, pipeline: context.pipelineName, stage: context.stageName,
                                  runId: context.runID))
        builder.shownModel = ValidateKind.relative(builder.model, to: root)
        builder.format = settings.format
        builder.signature = settings.signature
        builder.requirements = settings.requirements
        builder.metadata = settings.metadata
        builder.commitTime = context.commitTime
        builder.allow = settings.allow
        if let report = settings.report {
            builder.report = Self.absolute(report, in: root)
            builder.shownReport = ValidateKind.relative(Self.absolute(report, in: root), to: root)
        }
        try Task.checkCancellation()

        let built: PackageBuilder.Built
        do {
            built = try builder.build(at: destination)
        } catch {
            throw StageFailure(error.description)
        }
        let manifest = built.package.manifest
        if let scanReport = built.scanReport {
            let path = context.outputDirectory + "/scan-report.json"
            do {
                try Data(scanReport).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw StageFailure("cannot write the scan report \(path): \(error.localizedDescription)")
            }
            context.log.line("scanned \(builder.shownModel): \(manifest.scan.verdict.rawValue) (report: \(path))")
        } else {
            context.log.line("\(builder.shownReport ?? "the report") says \(builder.shownModel) is "
                             + "\(manifest.scan.verdict.rawValue)")
        }
        let bytes = manifest.files.reduce(Int64(0)) { $0 + $1.size }
        context.log.line("packaged \(manifest.name) (\(manifest.format.rawValue), flavor \(manifest.flavor.rawValue)): "
                         + "\(manifest.files.count) file(s), \(bytes) bytes, \(manifest.model)")
        context.log.line("package: \(destination) \(built.package.digest)")
        if !context.outputs.values.contains(destination) {
            // Only declared outputs are stored: without one, a cache hit brings back the
            // results but not the folder, and no later stage can name it.
            context.log.line("note: the stage declares no output for the package; declare `outputs: { package: package }` "
                             + "so that the cache keeps it and later stages can use ${{ stages.\(context.stageName).outputs.package }}")
        }
        return StageResult(results: [
            "digest": .string(built.package.digest.description),
            "format": .string(manifest.format.rawValue),
            "flavor": .string(manifest.flavor.rawValue),
            "name": .string(manifest.name),
        ])
    }

    /// Where the package goes: the output named `package`, the only declared output, or
    /// `package/` in the stage's folder.
    static func destination(_ context: StageContext) -> String {
        if let path = context.outputs["package"] { return path }
        if context.outputs.count == 1, let path = context.outputs.values.first { return path }
        return context.outputDirectory + "/package"
    }

    /// `path` as an absolute path, relative ones taken from the repository root.
    static func absolute(_ path: String, in root: String) -> String {
        path.hasPrefix("/") ? path : root + "/" + path
    }
}
