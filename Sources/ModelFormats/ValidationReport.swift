/// What the `validate` stage found out about one model: the scan of each of its files
/// and the checks of what the pipeline expects (format, size, digest, signature).
///
/// It is written as the stage's `report.json`, whether the stage passes or fails, so that
/// a failed gate can be read afterwards. `findings` holds the checks of the model as a
/// whole; each file's own findings stay in `files`.
public struct ValidationReport: Sendable, Codable {
    /// The model's path as the pipeline named it.
    public var model: String
    /// The worst verdict that counts against the model; only `safe` passes.
    public var verdict: Verdict
    /// Whether the stage passes: the verdict is `safe`.
    public var passed: Bool
    /// The model's format: the file's, or for a folder the first file that satisfies
    /// the declared format (`unknown` when none does).
    public var format: ModelFormat
    /// Bytes, all files of a folder together.
    public var size: Int64
    /// "sha256:…" of a single-file model; nil for a folder.
    public var sha256: String?
    /// The signature the model declares (ONNX), which `signature:` was checked against.
    public var signature: ModelSignature?
    /// Checks of the model as a whole: format, size, digest, signature, an empty folder.
    public var findings: [Finding]
    /// One scan report per file, paths relative to the repository where they are in it.
    public var files: [FileReport]
    /// The globals the stage's `allow:` added to the default policy.
    public var allowed: [String]

    public init(model: String, verdict: Verdict, format: ModelFormat, size: Int64, sha256: String?,
                signature: ModelSignature?, findings: [Finding], files: [FileReport], allowed: [String]) {
        self.model = model
        self.verdict = verdict
        self.passed = verdict == .safe
        self.format = format
        self.size = size
        self.sha256 = sha256
        self.signature = signature
        self.findings = findings
        self.files = files
        self.allowed = allowed
    }

    /// The problems a person should read first, one line each: every file finding that
    /// counts against the model, worst first and in file order within a verdict, then
    /// the checks of the model as a whole. Informational notes are left out.
    public func problemLines() -> [String] {
        var lines: [(Verdict, String)] = []
        for file in files {
            for finding in file.findings where finding.verdict > .safe {
                lines.append((finding.verdict, "\(file.path): \(finding.verdict.rawValue): \(finding.message)\(finding.placeSuffix)"))
            }
        }
        // A stable sort keeps file order among findings of one verdict.
        let ordered = lines.enumerated().sorted { ($0.element.0, -$0.offset) > ($1.element.0, -$1.offset) }
        var result = ordered.map(\.element.1)
        for finding in findings where finding.verdict > .safe {
            result.append("\(model): \(finding.verdict.rawValue): \(finding.message)")
        }
        return result
    }

    private enum CodingKeys: String, CodingKey {
        case model, verdict, passed, format, size, sha256, signature, findings, files, allowed
    }

    /// Encodes every key, absent ones as `null`, as `FileReport` does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(passed, forKey: .passed)
        try container.encode(format, forKey: .format)
        try container.encode(size, forKey: .size)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(signature, forKey: .signature)
        try container.encode(findings, forKey: .findings)
        try container.encode(files, forKey: .files)
        try container.encode(allowed, forKey: .allowed)
    }
}
