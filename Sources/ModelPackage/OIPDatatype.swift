/// A tensor element type as the Open Inference Protocol (V2) names it: what KServe,
/// Seldon MLServer and Triton put in `datatype`, and what a package's signature records.
///
/// A model's own files name types their way (ONNX's `TensorProto.DataType`, which
/// `ModelFormats` reports with numpy's names: `float32`, `int64`, `string`); a package
/// records the protocol's name so that the serving app and any V2 client read it as it
/// is. `BF16` is Triton's extension, which KServe accepts.
public enum OIPDatatype: String, Sendable, Codable, CaseIterable, Hashable {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    case bf16 = "BF16"
    case bytes = "BYTES"

    /// numpy's names, as `ModelFormats` reports ONNX element types, for each datatype.
    static let numpyNames: [String: OIPDatatype] = [
        "bool": .bool, "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64,
        "float16": .fp16, "float32": .fp32, "float64": .fp64, "bfloat16": .bf16, "string": .bytes,
    ]

    /// The protocol's names, in the order a message lists them.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// The datatype of an element type named by the protocol (`FP32`, any case) or by
    /// numpy (`float32`, as ONNX models are reported); nil for a type the protocol cannot
    /// carry (`complex64`, `sequence(map(int64,float32))`, a float8).
    public init?(_ name: String) {
        if let value = OIPDatatype(rawValue: name.uppercased()) {
            self = value
        } else if let value = Self.numpyNames[name.lowercased()] {
            self = value
        } else {
            return nil
        }
    }
}
