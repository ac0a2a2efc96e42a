import Canonical
import Foundation
import ModelFormats

/// Writes a model package: the model's files under `model/` and `mlpipe-model.json`.
///
/// The same inputs give the same bytes in every file on any machine: files are copied in
/// a fixed order (`ModelTree`), nothing records a local path, a file's time or the clock
/// (`createdAt` is the commit's time), and the manifest is written in one fixed form. The
/// package is assembled in a temporary folder beside the destination and renamed into
/// place, so that a reader never sees half a package.
///
/// A model is only packaged when a scan says `safe`: the validate stage's report when one
/// is given (its digests must be those of the files packaged), else the builder's own scan
/// of the copied files with the default policy plus `allow`. Either way the verdict, the
/// report's digest and the allow-list are recorded. An unsafe, invalid or unknown verdict
/// fails with the first finding, naming the file.
///
///     var builder = PackageBuilder(model: "/repo/models/iris.onnx", name: "iris",
///                                  source: PackageSource(commit: sha, pipeline: "iris", stage: "package", runId: 7))
///     builder.commitTime = 1_790_000_000
///     let built = try builder.build(at: "/repo/workspace/runs/7/package/package")
public struct PackageBuilder: Sendable {
    /// The model file or folder (absolute).
    public var model: String
    /// How messages name the model (the path as the pipeline wrote it); `model` by default.
    public var shownModel: String
    /// The model's name (see `PackageBuilder.problem(withName:)`).
    public var name: String
    /// The format the model must be; `auto` takes the detected one.
    public var format: ExpectedFormat = .auto
    /// The signature to record; nil takes the report's or the model's own.
    public var signature: PackageSignature?
    /// `name==version` lines; nil takes the flavor's defaults.
    public var requirements: [String]?
    /// Labels to record.
    public var metadata: [String: String] = [:]
    /// The run that makes the package.
    public var source: PackageSource
    /// The commit's time, seconds since 1970: `createdAt`.
    public var commitTime: Int64 = 0
    /// The validate report to trust (absolute path); nil to scan the model here.
    public var report: String?
    /// How messages name the report.
    public var shownReport: String?
    /// Globals allowed beyond the default policy when the builder scans.
    public var allow: [String] = []

    /// A builder with the defaults: detect the format, scan here, the flavor's pins.
    public init(model: String, name: String, source: PackageSource) {
        self.model = model
        self.shownModel = model
        self.name = name
        self.source = source
    }

    /// What `build(at:)` made.
    public struct Built: Sendable {
        /// The package, as `ModelPackage.load` would read it.
        public var package: ModelPackage
        /// The canonical JSON of the scan report the builder made (whose SHA-256 is the
        /// manifest's `scan.reportDigest`); nil when a validate report was given.
        public var scanReport: [UInt8]?
    }

    /// What is wrong with a model name, or nil when it is fine: 1 to 128 letters, digits,
    /// `.`, `_` or `-`, starting with a letter or digit, so that it fits a URL path
    /// (`/v2/models/{name}`), an image label and a registry's model name as it is.
    public static func problem(withName name: String) -> String? {
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
        }
        guard let first = bytes.first, alphanumeric(first), bytes.count <= 128,
              bytes.allSatisfy({ alphanumeric($0) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-")].contains($0) })
        else {
            return "'\(name)' is not a model name; use 1 to 128 letters, digits, '.', '_' or '-', "
                + "starting with a letter or digit (for example iris-classifier)"
        }
        return nil
    }

    /// Builds the package at `destination`, replacing what is there.
    public func build(at destination: String) throws(PackageError) -> Built {
        if let problem = Self.problem(withName: name) { throw PackageError(.invalidInput, problem) }
        let pins = try requirements.map(Requirement.pins)
        let tree = try ModelTree.walk(model, display: shownModel)
        if tree.isFolder { try checkOutside(destination) }

        let staging = try Staging(beside: destination)
        do {
            let files = try copy(tree, into: staging.path)
            let scanned = try examine(tree, files: files, staging: staging.path)
            let manifest = try makeManifest(tree, files: files, scanned: scanned, pins: pins)
            let bytes = try manifest.encoded()
            try FileCopy.create(staging.path + "/" + ModelPackage.manifestName, bytes: bytes)
            try staging.commit(to: destination)
            return Built(package: ModelPackage(root: destination, manifest: manifest, digest: SHA256Hasher.digest(of: bytes)),
                         scanReport: scanned.madeReport)
        } catch {
            staging.discard()
            throw error
        }
    }

    /// Refuses a destination inside the model's folder, which the copy would walk into.
    private func checkOutside(_ destination: String) throws(PackageError) {
        guard let root = ModelTree.realPath(model) else { return }
        let parent = (destination as NSString).deletingLastPathComponent
        let resolved = ModelTree.realPath(parent) ?? parent
        if resolved == root || resolved.hasPrefix(root + "/") {
            throw PackageError(.invalidInput, "the package \(destination) would be inside the model's folder "
                               + "\(shownModel); write it elsewhere (the stage's own output folder)", path: destination)
        }
    }

    /// Copies every file under `model/` in the staging folder; the entries in walk order.
    private func copy(_ tree: ModelTree, into staging: String) throws(PackageError) -> [PackageFile] {
        var files: [PackageFile] = []
        let fileManager = FileManager.default
        for entry in tree.entries {
            let path = ModelPackage.modelFolder + "/" + entry.relative
            let target = staging + "/" + path
            do {
                try fileManager.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
            } catch {
                throw PackageError(.io, "cannot create a folder for \(target): \(error.localizedDescription)", path: target)
            }
            let shown = tree.isFolder ? shownModel + "/" + entry.relative : shownModel
            let (digest, size) = try FileCopy.copy(from: entry.source, to: target, shown: shown)
            files.append(PackageFile(path: path, sha256: digest, size: size))
        }
        return files
    }

    /// The manifest of the copied files.
    private func makeManifest(_ tree: ModelTree, files: [PackageFile], scanned: Scanned,
                              pins: [Requirement]?) throws(PackageError) -> PackageManifest {
        let format = recordedFormat(detected: scanned.format)
        guard let flavor = PackageFlavor(format: format) else {
            throw PackageError(.unsupported, "\(shownModel) is \(format.rawValue), which no serving flavor takes; "
                               + "package a model file (onnx, joblib, pickle, pytorch, keras, safetensors, numpy)",
                               path: shownModel)
        }
        // The main file: the model itself, or the first file of the folder in its format.
        let formats = scanned.fileFormats
        guard let main = files.indices.first(where: { $0 < formats.count && formats[$0] == scanned.format }) else {
            throw PackageError(.invalidInput, "no file in \(shownModel) is \(scanned.format.rawValue)", path: shownModel)
        }
        let signature = try resolveSignature(declared: scanned.signature)
        let sorted = files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return PackageManifest(
            name: name, format: format, flavor: flavor, model: files[main].path, files: sorted,
            signature: signature, requirements: (pins ?? flavor.defaultRequirements).map(\.description),
            source: source, scan: scanned.scan, metadata: metadata, createdAt: UTCTimestamp.iso8601(commitTime))
    }

    /// The declared family member when it names a format and the bytes satisfy it (an
    /// uncompressed `joblib.dump` is a pickle, and `format: joblib` records joblib), else
    /// the detected format.
    private func recordedFormat(detected: ModelFormat) -> ModelFormat {
        if let declared = ModelFormat(rawValue: format.name), declared != .unknown, format.accepts(detected) {
            return declared
        }
        return detected
    }

    /// The given signature, checked against the model's own when it declares one; else
    /// the model's own with its types mapped to the protocol's; else none.
    private func resolveSignature(declared: ModelSignature?) throws(PackageError) -> PackageSignature? {
        guard let signature else {
            return try declared.map { (declared) throws(PackageError) in
                try PackageSignature(declared: declared, model: shownModel)
            }
        }
        if let declared {
            let differences = SignatureCheck.compare(expected: signature.modelSignature, found: declared)
            if !differences.isEmpty {
                throw PackageError(.invalidInput, "the signature given does not match the one \(shownModel) declares: "
                                   + differences.map(\.message).joined(separator: "; ")
                                   + "; fix `signature:` or leave it out to take the model's own", path: shownModel)
            }
        }
        return signature
    }
}
