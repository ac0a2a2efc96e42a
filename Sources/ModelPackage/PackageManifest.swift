import Canonical
import Foundation
import ModelFormats

/// `mlpipe-model.json`: what a packaged model is, what it was made from, and the digest
/// and size of each of its files (schema `mlpipe-model/v1`).
///
/// ```json
/// {
///   "createdAt": "2026-11-30T12:00:00Z",
///   "files": [ { "path": "model/model.onnx", "sha256": "sha256:…", "size": 1234 } ],
///   "flavor": "onnx",
///   "format": "onnx",
///   "metadata": {},
///   "model": "model/model.onnx",
///   "name": "iris",
///   "requirements": ["numpy==2.4.6", "onnxruntime==1.32.0"],
///   "scan": { "allow": [], "reportDigest": "sha256:…", "verdict": "safe" },
///   "schema": "mlpipe-model/v1",
///   "signature": { "inputs": [...], "outputs": [...] },
///   "source": { "commit": "…", "pipeline": "iris", "runId": 7, "stage": "package" }
/// }
/// ```
///
/// Its bytes are fixed by `encoded()` (keys sorted, two-space indent, a trailing
/// newline; see `JSONTree`), and their SHA-256 is the package's digest: everything about
/// a package, its files included, is in these bytes. Nothing in it comes from the clock
/// or the machine: `createdAt` is the commit's time and paths are relative to the package.
public struct PackageManifest: Sendable, Codable, Hashable {
    /// The schema this type reads and writes.
    public static let currentSchema = "mlpipe-model/v1"

    /// `mlpipe-model/v1`; a reader refuses any other.
    public var schema: String
    /// The model's name, as the serving app reports it at `/v2/models/{name}`.
    public var name: String
    /// The model's format, detected from its bytes (or the declared family member).
    public var format: ModelFormat
    /// How it is served.
    public var flavor: PackageFlavor
    /// The main file, relative to the package root (`model/model.onnx`).
    public var model: String
    /// Every file but the manifest, sorted by path.
    public var files: [PackageFile]
    /// The model's inputs and outputs; nil (`null`) when unknown.
    public var signature: PackageSignature?
    /// The model runtime's pinned Python packages (`name==version`), sorted by name.
    public var requirements: [String]
    /// The run that made the package.
    public var source: PackageSource
    /// The scan that let the model through.
    public var scan: PackageScan
    /// The pipeline's own labels, string to string.
    public var metadata: [String: String]
    /// The commit's time, ISO 8601 in UTC (`UTCTimestamp`).
    public var createdAt: String

    /// Creates a manifest of the current schema.
    public init(name: String, format: ModelFormat, flavor: PackageFlavor, model: String, files: [PackageFile],
                signature: PackageSignature?, requirements: [String], source: PackageSource, scan: PackageScan,
                metadata: [String: String], createdAt: String) {
        self.schema = Self.currentSchema
        self.name = name
        self.format = format
        self.flavor = flavor
        self.model = model
        self.files = files
        self.signature = signature
        self.requirements = requirements
        self.source = source
        self.scan = scan
        self.metadata = metadata
        self.createdAt = createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case schema, name, format, flavor, model, files, signature, requirements, source, scan, metadata, createdAt
    }

    /// Encodes every key; an unknown signature as `null`, so that every manifest has the
    /// same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(name, forKey: .name)
        try container.encode(format, forKey: .format)
        try container.encode(flavor, forKey: .flavor)
        try container.encode(model, forKey: .model)
        try container.encode(files, forKey: .files)
        try container.encode(signature, forKey: .signature)
        try container.encode(requirements, forKey: .requirements)
        try container.encode(source, forKey: .source)
        try container.encode(scan, forKey: .scan)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(createdAt, forKey: .createdAt)
    }

    /// The bytes of `mlpipe-model.json`: UTF-8, keys sorted by their bytes, two spaces
    /// per level, a trailing newline.
    public func encoded() throws(PackageError) -> [UInt8] {
        do {
            return try JSONTree.of(self).indented
        } catch {
            throw PackageError(.invalidInput, "the manifest of '\(name)' cannot be encoded: \(error)")
        }
    }

    /// The manifest in `bytes`; throws when they are not a manifest of the current schema.
    public static func decode(_ bytes: [UInt8], path: String) throws(PackageError) -> PackageManifest {
        struct SchemaOnly: Decodable { var schema: String? }
        let data = Data(bytes)
        let schema: String?
        do {
            schema = try JSONDecoder().decode(SchemaOnly.self, from: data).schema
        } catch {
            throw PackageError(.corrupt, "\(path) is not JSON (\(error)); rebuild the package with `kind: serialize`",
                               path: path)
        }
        guard schema == currentSchema else {
            throw PackageError(.corrupt, "\(path) has schema \(schema.map { "'\($0)'" } ?? "none"), but this mlpipe "
                               + "reads '\(currentSchema)'; rebuild the package with this mlpipe's `kind: serialize`",
                               path: path)
        }
        do {
            return try JSONDecoder().decode(PackageManifest.self, from: data)
        } catch {
            throw PackageError(.corrupt, "\(path) is not a valid \(currentSchema) manifest: \(Self.describe(error)); "
                               + "rebuild the package with `kind: serialize`", path: path)
        }
    }

    /// A decoding error as a person reads it: the key path and what is wrong there.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "key '\((path(context.codingPath) + "." + key.stringValue).dropFirst())' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath).dropFirst()): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
