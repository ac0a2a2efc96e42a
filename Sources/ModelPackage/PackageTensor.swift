/// One input or output of a packaged model: its name, Open Inference Protocol datatype,
/// and shape, where -1 is a dimension of any size (the batch, usually).
///
/// Written in `mlpipe-model.json` as `{ "datatype": "FP32", "name": "X", "shape": [-1, 4] }`.
/// A tensor of unknown rank has an empty shape.
public struct PackageTensor: Sendable, Codable, Hashable {
    /// The tensor's name in the model's graph, which requests and responses use.
    public var name: String
    /// Its element type.
    public var datatype: OIPDatatype
    /// Its dimensions; -1 for any size.
    public var shape: [Int64]

    /// Creates a tensor.
    public init(name: String, datatype: OIPDatatype, shape: [Int64]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}
