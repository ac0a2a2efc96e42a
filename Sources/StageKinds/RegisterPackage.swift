import Canonical
import Foundation
import ModelPackage
import PipelineEngine

/// What `register` reads from a model package: the digest that identifies it (SHA-256 of
/// its `mlpipe-model.json`, byte for byte) and the manifest's lineage fields.
///
/// Only the fields the registry records are decoded, so a manifest with more keys (a
/// later schema) still registers; `schema` must be `mlpipe-model/v1`.
struct RegisterPackage: Sendable, Equatable {
    /// The manifest's path.
    var manifestPath: String
    /// `sha256:<hex>` of the manifest file.
    var digest: String
    /// The manifest's `name`.
    var name: String?
    /// `source.commit`, `source.pipeline`, `source.stage`, `source.runId`.
    var commit: String?
    var pipeline: String?
    var stage: String?
    var runID: Int64?
    /// `scan.verdict` and `scan.reportDigest`.
    var scanVerdict: String?
    var scanReportDigest: String?

    /// The manifest fields read, as the package schema names them.
    private struct Manifest: Decodable {
        struct Source: Decodable {
            var commit: String?
            var pipeline: String?
            var stage: String?
            var runId: Int64?
        }
        struct Scan: Decodable {
            var verdict: String?
            var reportDigest: String?
        }
        var schema: String
        var name: String?
        var source: Source?
        var scan: Scan?
    }

    /// The schema this reader understands.
    static let schema = "mlpipe-model/v1"

    /// Reads the package at `path`: a package folder, or its manifest file.
    init(at path: String) throws(StageFailure) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw StageFailure("the package \(path) does not exist; give the package folder that a serialize stage made "
                               + "(${{ stages.NAME.outputs.package }})")
        }
        manifestPath = isFolder.boolValue ? path + "/" + ModelPackage.manifestName : path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        } catch {
            throw StageFailure("cannot read \(manifestPath): \(error.localizedDescription); "
                               + "a model package has its \(ModelPackage.manifestName) at its root")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: bytes)
        } catch {
            throw StageFailure("\(manifestPath) is not a model package manifest (\(error)); "
                               + "make the package with a serialize stage")
        }
        guard manifest.schema == Self.schema else {
            throw StageFailure("\(manifestPath) has schema '\(manifest.schema)', which this mlpipe does not know "
                               + "(it reads \(Self.schema)); upgrade mlpipe or make the package again")
        }
        digest = SHA256Hasher.digest(of: bytes).description
        name = manifest.name
        commit = manifest.source?.commit
        pipeline = manifest.source?.pipeline
        stage = manifest.source?.stage
        runID = manifest.source?.runId
        scanVerdict = manifest.scan?.verdict
        scanReportDigest = manifest.scan?.reportDigest
    }
}
