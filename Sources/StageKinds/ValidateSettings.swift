import ModelFormats
import PipelineSpec

/// The `with:` of a `validate` stage, read and checked.
///
/// ```yaml
/// with:
///   model: ${{ stages.train.outputs.model }}   # a file or a folder; relative to the repository
///   format: onnx                               # default auto; see ExpectedFormat.names
///   allow: [mypkg.models.Net, mypkg.layers.*]  # a global, or a list of them
///   max_size: 200MB                            # bytes, or a number with B, kB, MB, GB, KiB, MiB, GiB
///   sha256: sha256:9f86d0…                     # with or without the sha256: prefix
///   signature:
///     inputs:  [{ name: x, dtype: float32, shape: [-1, 4] }]
///     outputs: [{ name: y, dtype: float32, shape: [-1, 3] }]
/// ```
///
/// Every value is checked before the model is read, and each problem names its key,
/// the bad value and what would be accepted, so that a typo fails the stage at once
/// with a message that says how to fix it.
struct ValidateSettings: Sendable {
    /// A `with:` value that cannot be used, with its key.
    struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        var key: String
        var message: String
        var description: String { "with.\(key): \(message)" }
    }

    /// The `with:` keys, for the kind's schema.
    static let required: Set<String> = ["model"]
    static let optional: Set<String> = ["format", "allow", "max_size", "sha256", "signature"]

    var model: String
    var allow: [String]
    var expectations: ModelValidator.Expectations

    init(_ with: [String: Value]) throws(Problem) {
        guard case .string(let model)? = with["model"], !model.isEmpty else {
            throw Problem(key: "model", message: "\(Self.shown(with["model"])) is not a path; name the model "
                          + "file or folder, for example ${{ stages.train.outputs.model }}")
        }
        self.model = model
        var expectations = ModelValidator.Expectations()
        if let value = with["format"] {
            guard case .string(let name) = value, let format = ExpectedFormat(name) else {
                throw Problem(key: "format", message: "\(Self.shown(value)) is not a model format; use one of "
                              + ExpectedFormat.names.joined(separator: ", "))
            }
            expectations.format = format
        }
        allow = try Self.allowList(with["allow"])
        if let value = with["max_size"] {
            expectations.maxSize = try Self.size(value)
        }
        if let value = with["sha256"] {
            expectations.sha256 = try Self.digest(value)
        }
        if let value = with["signature"] {
            expectations.signature = try Self.signature(value)
        }
        self.expectations = expectations
    }

    /// What is wrong with one `with:` value, checked on its own as `init` would: the
    /// kind's lint-time check (`KindSchema.checkValue`).
    static func problem(key: String, value: Value) -> String? {
        do {
            switch key {
            case "model":
                _ = try Self(["model": value])
            case "format":
                _ = try Self(["model": .string("model"), "format": value])
            case "allow": _ = try allowList(value)
            case "max_size": _ = try size(value)
            case "sha256": _ = try digest(value)
            case "signature": _ = try signature(value)
            default: return nil
            }
        } catch {
            return error.description
        }
        return nil
    }

    private static func allowList(_ value: Value?) throws(Problem) -> [String] {
        let entries: [Value]
        switch value {
        case nil, .null?: return []
        case .string(let text)?: entries = [.string(text)]
        case .array(let list)?: entries = list
        case let other?:
            throw Problem(key: "allow", message: "\(shown(other)) is not a global or a list of globals; "
                          + "write for example [mypkg.models.Net, mypkg.layers.*]")
        }
        var result: [String] = []
        for entry in entries {
            guard case .string(let text) = entry else {
                throw Problem(key: "allow", message: "\(shown(entry)) is not a global; write module.name or module.*")
            }
            if let problem = ScanPolicy.problem(withEntry: text) {
                throw Problem(key: "allow", message: problem)
            }
            result.append(text)
        }
        return result
    }

    /// Units a size may carry: decimal as disk makers and `ls -h --si` count, binary as
    /// memory is counted.
    static let units: [String: Int64] = [
        "b": 1, "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    ]

    static func size(_ value: Value) throws(Problem) -> Int64 {
        let problem = Problem(key: "max_size", message: "\(shown(value)) is not a size; write bytes (1048576) "
                              + "or a number with a unit: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB (200MB, 1.5GiB)")
        switch value {
        case .int(let bytes) where bytes >= 0:
            return Int64(bytes)
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let digits = trimmed.prefix { $0.isNumber || $0 == "." }
            let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
            guard let number = Double(digits), number >= 0,
                  let scale = unit.isEmpty ? 1 : units[unit] else { throw problem }
            let bytes = (number * Double(scale)).rounded(.down)
            guard bytes < 9.2e18 else { throw problem }
            return Int64(bytes)
        default:
            throw problem
        }
    }

    static func digest(_ value: Value) throws(Problem) -> String {
        guard case .string(let text) = value else {
            throw Problem(key: "sha256", message: "\(shown(value)) is not a digest; write the file's sha256 "
                          + "as 64 hex digits, with or without 'sha256:'")
        }
        let hex = (text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text).lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw Problem(key: "sha256", message: "'\(text)' is not a SHA-256 digest; write 64 hex digits, "
                          + "with or without 'sha256:' (`sha256sum FILE` prints them)")
        }
        return "sha256:" + hex
    }

    static func signature(_ value: Value) throws(Problem) -> ModelSignature {
        guard case .object(let sides) = value else {
            throw Problem(key: "signature", message: "\(shown(value)) is not a mapping; write "
                          + "{ inputs: [{ name, dtype, shape }], outputs: [...] }")
        }
        for key in sides.keys where key != "inputs" && key != "outputs" {
            throw Problem(key: "signature", message: "unknown key '\(key)'; a signature has inputs and outputs")
        }
        return ModelSignature(inputs: try tensors(sides["inputs"], side: "inputs"),
                              outputs: try tensors(sides["outputs"], side: "outputs"))
    }

    private static func tensors(_ value: Value?, side: String) throws(Problem) -> [TensorSpec] {
        let key = "signature.\(side)"
        guard let value, value != .null else { return [] }
        guard case .array(let list) = value else {
            throw Problem(key: key, message: "\(shown(value)) is not a list of { name, dtype, shape }")
        }
        var result: [TensorSpec] = []
        for (index, item) in list.enumerated() {
            let at = "\(key)[\(index)]"
            guard case .object(let fields) = item else {
                throw Problem(key: at, message: "\(shown(item)) is not a mapping with name, dtype and shape")
            }
            for field in fields.keys where !["name", "dtype", "shape"].contains(field) {
                throw Problem(key: at, message: "unknown key '\(field)'; a tensor has name, dtype and shape")
            }
            guard case .string(let name)? = fields["name"], !name.isEmpty else {
                throw Problem(key: at + ".name", message: "\(shown(fields["name"])) is not a tensor name")
            }
            guard case .string(let dtype)? = fields["dtype"], !dtype.isEmpty else {
                throw Problem(key: at + ".dtype", message: "\(shown(fields["dtype"])) is not an element type; "
                              + "write for example float32, int64 or FP32")
            }
            guard case .array(let dims)? = fields["shape"] else {
                throw Problem(key: at + ".shape", message: "\(shown(fields["shape"])) is not a list of sizes; "
                              + "write for example [-1, 4] (-1 is any size)")
            }
            var shape: [Int64] = []
            for dim in dims {
                guard case .int(let size) = dim, size >= -1 else {
                    throw Problem(key: at + ".shape", message: "\(shown(dim)) is not a size; use a whole "
                                  + "number, or -1 for any size")
                }
                shape.append(Int64(size))
            }
            result.append(TensorSpec(name: name, dtype: dtype, shape: shape))
        }
        return result
    }

    /// A value as a message shows it: its JSON, or "nothing" when absent.
    static func shown(_ value: Value?) -> String {
        guard let value else { return "nothing" }
        if case .string(let text) = value { return "'\(text)'" }
        return value.canonicalJSON()
    }
}
