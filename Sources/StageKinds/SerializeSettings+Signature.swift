import ModelPackage
import PipelineSpec

extension SerializeSettings {
    /// `signature`: the inputs and outputs the package records, in Open Inference
    /// Protocol terms (`datatype`, not validate's `dtype`, since the package records
    /// the protocol's names).
    struct SignatureSetting: Decodable {
        var signature: PackageSignature

        enum CodingKeys: String, CodingKey, CaseIterable {
            case inputs, outputs
        }

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a mapping; write "
                                    + "{ inputs: [{ name, datatype, shape }], outputs: [...] }")
            }
            let sides = try decoder.container(keyedBy: CodingKeys.self)
            signature = PackageSignature(inputs: try sides.decodeIfPresent(Tensors.self, forKey: .inputs)?.tensors ?? [],
                                         outputs: try sides.decodeIfPresent(Tensors.self, forKey: .outputs)?.tensors ?? [])
        }
    }

    /// `inputs` or `outputs` of a signature.
    struct Tensors: Decodable {
        var tensors: [PackageTensor]

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .array = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a list of { name, datatype, shape }")
            }
            tensors = try decoder.singleValueContainer().decode([Tensor].self).map(\.tensor)
        }
    }

    /// One tensor: `{ name: X, datatype: FP32, shape: [-1, 4] }`.
    struct Tensor: Decodable {
        var tensor: PackageTensor

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, datatype, shape
        }

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .object = value else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a mapping with name, datatype and shape")
            }
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            func field(_ key: CodingKeys) throws -> Value? {
                fields.contains(key) ? try fields.decode(Value.self, forKey: key) : nil
            }
            let name = try field(.name)
            guard case .string(let tensorName)? = name, !tensorName.isEmpty else {
                throw SettingsError("\(ValidateSettings.shown(name)) is not a tensor name",
                                    at: fields.codingPath + [CodingKeys.name])
            }
            let datatype = try field(.datatype)
            guard case .string(let typeName)? = datatype, let oip = OIPDatatype(typeName) else {
                throw SettingsError("\(ValidateSettings.shown(datatype)) is not an Open Inference Protocol datatype; "
                                    + "use one of " + OIPDatatype.names.joined(separator: ", "),
                                    at: fields.codingPath + [CodingKeys.datatype])
            }
            let shape = try field(.shape)
            guard case .array? = shape else {
                throw SettingsError("\(ValidateSettings.shown(shape)) is not a list of sizes; write for example [-1, 4] "
                                    + "(-1 is any size)", at: fields.codingPath + [CodingKeys.shape])
            }
            let sizes = try fields.decode([ValidateSettings.Dimension].self, forKey: .shape)
            tensor = PackageTensor(name: tensorName, datatype: oip, shape: sizes.map(\.size))
        }
    }
}
