/// One named output of one stage of one run: a row of the `output` table, keyed
/// by (`runID`, `stage`, `name`).
///
/// The bytes live in the content-addressed store under ``digest``; this record
/// says which run produced (or reused) them and where the run put them.
public struct OutputRecord: Sendable, Codable, Hashable {
    /// The run that recorded it.
    public var runID: Int64
    /// The stage's name.
    public var stage: String
    /// The output's name, as declared under the stage's `outputs:`.
    public var name: String
    /// The content digest, `sha256:…`; for a folder, the digest of its manifest.
    public var digest: String
    /// `file` or `tree` (a folder).
    public var kind: String
    /// Size in bytes; for a folder, the sum of its files.
    public var size: Int64
    /// Where the run materialised it, relative to the workspace.
    public var path: String

    /// An output record.
    public init(runID: Int64, stage: String, name: String, digest: String, kind: String = "file", size: Int64, path: String) {
        self.runID = runID
        self.stage = stage
        self.name = name
        self.digest = digest
        self.kind = kind
        self.size = size
        self.path = path
    }
}
