import ModelFormats
import PipelineSpec

extension ValidateSettings {
    /// `signature`: the ONNX inputs and outputs the model must declare.
    struct SignatureSetting: Decodable {
        var signature: ModelSignature

        enum CodingKeys: String, CodingKey, CaseIterable {
            case inputs, outputs
        }

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(shown(value)) is not a mapping; write { inputs: [{ name, dtype, shape }], outputs: [...] }")
            }
            let sides = try decoder.container(keyedBy: CodingKeys.self)
            signature = ModelSignature(inputs: try sides.decodeIfPresent(Tensors.self, forKey: .inputs)?.specs ?? [],
                                       outputs: try sides.decodeIfPresent(Tensors.self, forKey: .outputs)?.specs ?? [])
        }
    }

    /// `inputs` or `outputs` of a signature.
    struct Tensors: Decodable {
        var specs: [TensorSpec]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .array = value else {
                throw SettingsError("\(shown(value)) is not a list of { name, dtype, shape }")
            }
            specs = try decoder.singleValueContainer().decode([Tensor].self).map(\.spec)
        }
    }

    /// One tensor of a signature: `{ name: x, dtype: float32, shape: [-1, 4] }`.
    struct Tensor: Decodable {
        var spec: TensorSpec

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, dtype, shape
        }

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(shown(value)) is not a mapping with name, dtype and shape")
            }
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            func field(_ key: CodingKeys) throws -> Value? {
                fields.contains(key) ? try fields.decode(Value.self, forKey: key) : nil
            }
            let name = try field(.name)
            guard case .string(let tensorName)? = name, !tensorName.isEmpty else {
                throw SettingsError("\(shown(name)) is not a tensor name", at: fields.codingPath + [CodingKeys.name])
            }
            let dtype = try field(.dtype)
            guard case .string(let elementType)? = dtype, !elementType.isEmpty else {
                throw SettingsError("\(shown(dtype)) is not an element type; write for example float32, int64 or FP32",
                                    at: fields.codingPath + [CodingKeys.dtype])
            }
            let shape = try field(.shape)
            guard case .array? = shape else {
                throw SettingsError("\(shown(shape)) is not a list of sizes; write for example [-1, 4] "
                                    + "(-1 is any size)", at: fields.codingPath + [CodingKeys.shape])
            }
            let sizes = try fields.decode([Dimension].self, forKey: .shape)
            spec = TensorSpec(name: tensorName, dtype: elementType, shape: sizes.map(\.size))
        }
    }

    /// One size of a shape: a whole number, or -1 for any size.
    struct Dimension: Decodable {
        var size: Int64

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .int(let size) = value, size >= -1 else {
                throw SettingsError("\(shown(value)) is not a size; use a whole number, or -1 for any size")
            }
            self.size = Int64(size)
        }
    }
}
