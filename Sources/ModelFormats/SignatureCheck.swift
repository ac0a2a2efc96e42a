/// Compares a model's declared signature with the one a pipeline expects.
///
/// The `validate` stage's `signature:` says what the service in front of the model will
/// send and read. A model that wants another input name, element type or shape would
/// load, then fail on the first request; this check fails the stage instead, with one
/// `signature-mismatch` finding (verdict `invalid`) per difference.
///
/// Rules:
/// - tensors are matched by name, not position;
/// - every expected input and output must exist; the model must not require an input
///   the expectation leaves out (it could not be fed), but extra outputs are fine;
/// - element types compare after normalising common spellings, so that `float`, `FP32`
///   and `float32` are one type (the Open Inference Protocol's names are accepted);
/// - shapes must have the same rank; a dimension matches when the two are equal or
///   either is -1 (the expectation allows any size, or the model accepts any size);
/// - a model that declares no signature mismatches every expectation.
public enum SignatureCheck {
    /// One finding per difference between `expected` and `found`; empty when they agree.
    public static func compare(expected: ModelSignature, found: ModelSignature?) -> [Finding] {
        guard let found else {
            return [mismatch("the model declares no signature, but one is expected")]
        }
        var findings = compare(expected.inputs, found.inputs, role: "input")
        findings += compare(expected.outputs, found.outputs, role: "output")
        let expectedInputs = Set(expected.inputs.map(\.name))
        for input in found.inputs where !expectedInputs.contains(input.name) {
            findings.append(mismatch("the model requires input '\(input.name)' "
                                     + "(\(describe(input))), which the expected signature does not list"))
        }
        return findings
    }

    private static func compare(_ expected: [TensorSpec], _ found: [TensorSpec],
                                role: String) -> [Finding] {
        var findings: [Finding] = []
        for want in expected {
            guard let have = found.first(where: { $0.name == want.name }) else {
                let names = found.map { "'\($0.name)'" }.joined(separator: ", ")
                findings.append(mismatch("expected \(role) '\(want.name)' is not in the model"
                                         + (names.isEmpty ? "" : "; its \(role)s are \(names)")))
                continue
            }
            if normalizedDType(want.dtype) != normalizedDType(have.dtype) {
                findings.append(mismatch("\(role) '\(want.name)' has dtype \(have.dtype), "
                                         + "expected \(want.dtype)"))
            }
            if !shapesMatch(want.shape, have.shape) {
                findings.append(mismatch("\(role) '\(want.name)' has shape \(shapeText(have.shape)), "
                                         + "expected \(shapeText(want.shape)) (-1 is any size)"))
            }
        }
        return findings
    }

    static func shapesMatch(_ expected: [Int64], _ found: [Int64]) -> Bool {
        guard expected.count == found.count else { return false }
        return zip(expected, found).allSatisfy { want, have in
            want == -1 || have == -1 || want == have
        }
    }

    /// One spelling per element type: numpy's name, lower-cased.
    static func normalizedDType(_ dtype: String) -> String {
        let lowered = dtype.lowercased()
        let aliases: [String: String] = [
            "float": "float32", "fp32": "float32", "f32": "float32", "single": "float32",
            "double": "float64", "fp64": "float64", "f64": "float64",
            "half": "float16", "fp16": "float16", "f16": "float16",
            "bf16": "bfloat16",
            "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
            "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
            "bytes": "string", "str": "string", "boolean": "bool",
        ]
        return aliases[lowered] ?? lowered
    }

    private static func describe(_ spec: TensorSpec) -> String {
        "\(spec.dtype) \(shapeText(spec.shape))"
    }

    private static func shapeText(_ shape: [Int64]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    private static func mismatch(_ message: String) -> Finding {
        Finding(kind: "signature-mismatch", verdict: .invalid, message: message)
    }
}
