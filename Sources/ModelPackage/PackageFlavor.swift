import ModelFormats

/// How a packaged model is served: the `flavor` of `mlpipe-model.json`.
///
/// The serving template loads `onnx` (onnxruntime) and `sklearn` (joblib or pickle, only
/// when the scan said `safe`) and refuses the others, which are recorded so that another
/// serving image can take them. Each flavor has the model runtime's default pins (the
/// package's `requirements` when the pipeline gives none).
public enum PackageFlavor: String, Sendable, Codable, CaseIterable {
    case onnx
    case sklearn
    case pytorch
    case keras
    case safetensors
    case numpy

    /// The flavor that serves a model of `format`; nil for a format nothing serves (a
    /// plain zip archive, bytes of no known format).
    public init?(format: ModelFormat) {
        switch format {
        case .onnx: self = .onnx
        case .pickle, .joblib: self = .sklearn
        case .pytorchZip, .pytorchTar: self = .pytorch
        case .kerasH5, .kerasZip: self = .keras
        case .safetensors: self = .safetensors
        case .numpy: self = .numpy
        case .zip, .unknown: return nil
        }
    }

    /// The model runtime's Python packages when the pipeline names none: the versions the
    /// serving template is tested with (Python 3.11 wheels). Empty for flavors the
    /// template does not serve.
    public var defaultRequirements: [Requirement] {
        switch self {
        case .onnx:
            [Requirement(name: "numpy", version: "2.4.6"), Requirement(name: "onnxruntime", version: "1.32.0")]
        case .sklearn:
            [Requirement(name: "joblib", version: "1.6.0"), Requirement(name: "numpy", version: "2.4.6"),
             Requirement(name: "scikit-learn", version: "1.9.1"), Requirement(name: "scipy", version: "1.17.1"),
             Requirement(name: "threadpoolctl", version: "3.8.0")]
        case .pytorch, .keras, .safetensors, .numpy:
            []
        }
    }
}
