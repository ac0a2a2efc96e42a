import ModelFormats

/// What a packaged model takes and returns: the `signature` of `mlpipe-model.json`.
///
/// The serving app checks requests against it and reports it at `GET /v2/models/{name}`.
/// A package records it when it is known: declared by the pipeline, taken from the
/// validate report, or read from the model (ONNX declares its graph's inputs and
/// outputs). A pickled scikit-learn model declares none, and its package's signature is
/// `null` unless the pipeline gives one.
public struct PackageSignature: Sendable, Codable, Hashable {
    /// The tensors a request sends, in the model's order.
    public var inputs: [PackageTensor]
    /// The tensors a response carries, in the model's order.
    public var outputs: [PackageTensor]

    /// Creates a signature.
    public init(inputs: [PackageTensor], outputs: [PackageTensor]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The signature a model declares, with its element types mapped to the protocol's
    /// datatypes.
    ///
    /// Throws, naming the tensor and its type, when one has a type the protocol cannot
    /// carry: a float8, a complex number, or the `sequence(map(...))` that skl2onnx
    /// writes for class probabilities unless told `zipmap=False`.
    public init(declared signature: ModelSignature, model: String) throws(PackageError) {
        func map(_ specs: [TensorSpec], _ role: String) throws(PackageError) -> [PackageTensor] {
            var tensors: [PackageTensor] = []
            for spec in specs {
                guard let datatype = OIPDatatype(spec.dtype) else {
                    throw PackageError(.unsupported, "\(model): \(role) '\(spec.name)' has element type \(spec.dtype), "
                        + "which the Open Inference Protocol cannot carry (it takes "
                        + OIPDatatype.names.joined(separator: ", ") + "); export the model with plain tensors "
                        + "(for skl2onnx: options={'zipmap': False}) or declare `signature:` yourself",
                        path: model)
                }
                tensors.append(PackageTensor(name: spec.name, datatype: datatype, shape: spec.shape))
            }
            return tensors
        }
        self.init(inputs: try map(signature.inputs, "input"), outputs: try map(signature.outputs, "output"))
    }

    /// The signature as `ModelFormats` spells one, to compare with a model's own
    /// (`SignatureCheck` reads the protocol's names).
    var modelSignature: ModelSignature {
        func specs(_ tensors: [PackageTensor]) -> [TensorSpec] {
            tensors.map { TensorSpec(name: $0.name, dtype: $0.datatype.rawValue, shape: $0.shape) }
        }
        return ModelSignature(inputs: specs(inputs), outputs: specs(outputs))
    }
}
