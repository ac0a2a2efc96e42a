/// The format a pipeline declares for its model (`with: format`), and which detected
/// formats satisfy it.
///
/// A declared name is a family, not one byte layout: `pytorch` is satisfied by the zip
/// archive `torch.save` writes today and by the legacy tar and plain-pickle files it
/// wrote before; `joblib` by a plain pickle as much as by joblib's zlib wrapper, since
/// an uncompressed `joblib.dump` is a pickle. `auto` accepts every format the scanner
/// knows and `unknown` accepts only bytes it does not know — the way to pass a model in
/// a format mlpipe cannot read (an XGBoost JSON file, a LightGBM text model) while a
/// pickle renamed to look like one is still caught, as a format mismatch.
public struct ExpectedFormat: Sendable, Hashable, CustomStringConvertible {
    /// The name as the pipeline wrote it.
    public let name: String
    /// Detected formats that satisfy it; nil for `auto` (any recognised format).
    public let accepted: Set<ModelFormat>?

    /// Every recognised format.
    public static let auto = ExpectedFormat(name: "auto", accepted: nil)

    /// Accepted names and what each accepts, in the order a message lists them.
    static let table: [(String, Set<ModelFormat>?)] = [
        ("auto", nil),
        ("pickle", [.pickle, .joblib]),
        ("joblib", [.joblib, .pickle]),
        ("numpy", [.numpy]),
        ("pytorch", [.pytorchZip, .pytorchTar, .pickle]),
        ("pytorch-zip", [.pytorchZip]),
        ("pytorch-tar", [.pytorchTar]),
        ("keras", [.kerasZip, .kerasH5]),
        ("keras-h5", [.kerasH5]),
        ("onnx", [.onnx]),
        ("safetensors", [.safetensors]),
        ("zip", [.zip, .pytorchZip, .kerasZip]),
        ("unknown", [.unknown]),
    ]

    /// The names `init?(_:)` accepts.
    public static var names: [String] { table.map(\.0) }

    private init(name: String, accepted: Set<ModelFormat>?) {
        self.name = name
        self.accepted = accepted
    }

    /// The expectation named `name` (case-insensitive), or nil when there is none.
    public init?(_ name: String) {
        let lowered = name.lowercased()
        guard let entry = Self.table.first(where: { $0.0 == lowered }) else { return nil }
        self.init(name: entry.0, accepted: entry.1)
    }

    /// Whether a file detected as `format` satisfies this expectation.
    public func accepts(_ format: ModelFormat) -> Bool {
        guard let accepted else { return format != .unknown }
        return accepted.contains(format)
    }

    /// Whether bytes the scanner does not know are what the pipeline declared.
    public var acceptsUnknown: Bool { accepted?.contains(.unknown) == true }

    public var description: String { name }
}
