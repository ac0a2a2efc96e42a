import Foundation

/// What one cache key produced, as the remote keeps it at `ac/sha256/<hex of the key>`:
/// the stage's outputs with their digests, its metrics and results, and where it came
/// from (the run, the host, the time).
///
/// It is the remote's twin of the local `cache_entry` row, as Bazel's `/ac/` entry is
/// beside `/cas/`: every digest it names is an object under `cas/sha256/`, uploaded
/// before the entry, so an entry never points at a missing object. JSON with sorted
/// keys and ISO 8601 times:
///
///     {"format":"mlpipe-action/1","key":"sha256:…","metricsJSON":null,
///      "origin":{"createdAt":"2026-12-01T12:00:00Z","host":"ci-7","pipeline":"iris","run":12},
///      "outputs":[{"digest":"sha256:…","kind":"file","name":"model","path":"model.joblib","size":1024}],
///      "resultsJSON":null,"stage":"train"}
public struct ActionEntry: Sendable, Codable, Hashable {
    /// One declared output of the stage.
    public struct Output: Sendable, Codable, Hashable {
        /// Its name under the stage's `outputs:`.
        public var name: String
        /// Its path in the stage's folder.
        public var path: String
        /// `sha256:…`; a folder's is its manifest's.
        public var digest: String
        /// `file` or `tree`.
        public var kind: String
        /// Bytes; for a folder, the sum of its files.
        public var size: Int64

        /// An output.
        public init(name: String, path: String, digest: String, kind: String, size: Int64) {
            self.name = name
            self.path = path
            self.digest = digest
            self.kind = kind
            self.size = size
        }
    }

    /// Who made the result.
    public struct Origin: Sendable, Codable, Hashable {
        /// The run's number on the machine that made it (meaningful with `host`).
        public var run: Int64
        /// The host name of that machine.
        public var host: String
        /// The pipeline's name.
        public var pipeline: String
        /// When the entry was written.
        public var createdAt: Date

        /// An origin.
        public init(run: Int64, host: String, pipeline: String, createdAt: Date) {
            self.run = run
            self.host = host
            self.pipeline = pipeline
            self.createdAt = createdAt
        }
    }

    /// The format's name and version; readers refuse others.
    public var format: String
    /// The cache key, `sha256:…`.
    public var key: String
    /// The stage's name.
    public var stage: String
    /// The declared outputs, in the stage's order.
    public var outputs: [Output]
    /// The metrics file's JSON, restored on a hit.
    public var metricsJSON: String?
    /// The kind's typed results as JSON, restored on a hit.
    public var resultsJSON: String?
    /// Who made it.
    public var origin: Origin

    /// The only format this version reads and writes.
    public static let currentFormat = "mlpipe-action/1"

    /// An entry in the current format.
    public init(key: String, stage: String, outputs: [Output], metricsJSON: String?, resultsJSON: String?,
                origin: Origin) {
        self.format = Self.currentFormat
        self.key = key
        self.stage = stage
        self.outputs = outputs
        self.metricsJSON = metricsJSON
        self.resultsJSON = resultsJSON
        self.origin = origin
    }

    /// The bytes put at `ac/…`.
    func encoded() throws(S3Error) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return Array(try encoder.encode(self))
        } catch {
            throw S3Error(.unexpected, "cannot encode the cache entry of stage '\(stage)': \(error)")
        }
    }

    /// Reads an entry; throws when the bytes are not one in the current format for `key`.
    static func decode(_ bytes: [UInt8], key: String, at location: String) throws(S3Error) -> ActionEntry {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let entry: ActionEntry
        do {
            entry = try decoder.decode(ActionEntry.self, from: Data(bytes))
        } catch {
            throw S3Error(.unexpected, "\(location) is not a cache entry mlpipe can read (\(error)); delete it from the bucket")
        }
        guard entry.format == currentFormat else {
            throw S3Error(.unexpected, "\(location) is a cache entry in format '\(entry.format)'; this mlpipe reads \(currentFormat)")
        }
        guard entry.key == key else {
            throw S3Error(.unexpected, "\(location) holds the entry of key \(entry.key), not \(key); delete it from the bucket")
        }
        return entry
    }
}
