/// The verdict a scan gives a file.
///
/// Only `safe` lets a model through. Anything the scanner cannot fully read is
/// `invalid`, never `safe`; a format it does not know is `unknown`.
public enum Verdict: String, Sendable, Codable, Comparable {
    case safe, unknown, invalid, unsafe

    /// Severity order, so that a folder's verdict is the worst of its files.
    var rank: Int {
        switch self {
        case .safe: 0
        case .unknown: 1
        case .invalid: 2
        case .unsafe: 3
        }
    }

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
}

/// A model format, detected from a file's bytes and never from its name.
public enum ModelFormat: String, Sendable, Codable {
    case pickle
    case joblib
    case numpy
    case pytorchZip = "pytorch-zip"
    case pytorchTar = "pytorch-tar"
    case kerasH5 = "keras-h5"
    case kerasZip = "keras"
    case onnx
    case safetensors
    case zip
    case unknown
}

/// One problem found in a file.
///
/// `global` is the `module.qualname` a pickle imports or calls; `opcode` and
/// `offset` say where in the stream; `member` names the archive member (or a
/// nested path `outer.zip/inner.pkl`) the finding comes from.
public struct Finding: Sendable, Codable, Hashable {
    /// What kind of problem: `unsafe-global`, `invalid-pickle`, `zip-bomb`,
    /// `path-traversal`, `format-mismatch`, `signature-mismatch`, …
    public var kind: String
    /// The verdict this finding alone forces on its file.
    public var verdict: Verdict
    /// A sentence for a person: what, and where.
    public var message: String
    public var global: String?
    public var opcode: String?
    public var offset: Int64?
    public var member: String?

    public init(kind: String, verdict: Verdict, message: String, global: String? = nil,
                opcode: String? = nil, offset: Int64? = nil, member: String? = nil) {
        self.kind = kind
        self.verdict = verdict
        self.message = message
        self.global = global
        self.opcode = opcode
        self.offset = offset
        self.member = member
    }

    /// Where the finding is, for a line of text: " (at byte 2 in model/data.pkl)", or
    /// "" when it has neither an offset nor a member. The message already names the
    /// global and the opcode.
    public var placeSuffix: String {
        var place: [String] = []
        if let offset { place.append("at byte \(offset)") }
        if let member { place.append("in \(member)") }
        return place.isEmpty ? "" : " (" + place.joined(separator: " ") + ")"
    }

    private enum CodingKeys: String, CodingKey {
        case kind, verdict, message, global, opcode, offset, member
    }

    /// Encodes every key, absent ones as `null`, so that a reader of `mlpipe scan
    /// --json` or a `report.json` can rely on the same keys in every finding.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(message, forKey: .message)
        try container.encode(global, forKey: .global)
        try container.encode(opcode, forKey: .opcode)
        try container.encode(offset, forKey: .offset)
        try container.encode(member, forKey: .member)
    }
}

/// A tensor in a model's signature: name, element type and shape (-1 for any size).
public struct TensorSpec: Sendable, Codable, Hashable {
    public var name: String
    public var dtype: String
    public var shape: [Int64]

    public init(name: String, dtype: String, shape: [Int64]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// A model's inputs and outputs as the file declares them (ONNX today).
public struct ModelSignature: Sendable, Codable, Hashable {
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]

    public init(inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// What a scan says of one file.
public struct FileReport: Sendable, Codable {
    public var path: String
    public var format: ModelFormat
    public var verdict: Verdict
    public var size: Int64
    /// "sha256:…" of the whole file.
    public var sha256: String?
    public var findings: [Finding]
    /// Declared signature, where the format has one.
    public var signature: ModelSignature?

    public init(path: String, format: ModelFormat, verdict: Verdict, size: Int64,
                sha256: String?, findings: [Finding], signature: ModelSignature? = nil) {
        self.path = path
        self.format = format
        self.verdict = verdict
        self.size = size
        self.sha256 = sha256
        self.findings = findings
        self.signature = signature
    }

    private enum CodingKeys: String, CodingKey {
        case path, format, verdict, size, sha256, findings, signature
    }

    /// Encodes every key, absent ones as `null` (see `Finding.encode(to:)`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(format, forKey: .format)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(size, forKey: .size)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(findings, forKey: .findings)
        try container.encode(signature, forKey: .signature)
    }
}
