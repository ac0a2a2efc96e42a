import Foundation

/// Reads an ONNX model's structure: signature, operator domains and external data.
///
/// ONNX has no magic number, so detection parses the top level of `ModelProto`. The
/// reader never decodes the model as a whole: `ONNXModelWalker` walks the protobuf wire
/// format in place and steps over tensor payloads, so that a model whose initializers
/// hold gigabytes costs what a small one does, and nothing is copied.
///
/// Findings:
/// - `invalid-onnx` (`invalid`): malformed protobuf, no graph, no `ir_version`;
/// - `custom-op-domain` (`unsafe`): nodes from a domain other than `""`, `ai.onnx` and
///   `ai.onnx.ml`, which run code that ships outside the model (a custom op library);
///   operators defined as functions inside the model are not custom;
/// - `external-data-path` (`unsafe`): an external-data location that is absolute, has a
///   `..` segment, or resolves (through symlinks) outside the model's folder;
/// - `external-data-missing`, `external-data-range` (`invalid`): the file is not there,
///   is not a regular file, or is shorter than `offset + length`.
enum ONNXReader {
    /// ModelProto's field numbers and the wire type each must have.
    private static let modelFields: [Int: WireKind] = [
        1: .varint, 2: .bytes, 3: .bytes, 4: .bytes, 5: .varint, 6: .bytes, 7: .bytes,
        8: .bytes, 14: .bytes, 20: .bytes, 25: .bytes, 26: .bytes,
    ]

    private enum WireKind { case varint, bytes }

    /// Whether `bytes` parse as an ONNX `ModelProto` at the top level.
    ///
    /// Requires a well-formed top level, the right wire type for every known field, an
    /// `ir_version` between 1 and 100 and a graph. Only top-level fields are visited, so
    /// this costs a handful of reads however large the model is.
    static func looksLike(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var fields = ProtobufWire(bytes)
        var irVersion: UInt64?
        var hasGraph = false
        do {
            while let field = try fields.next() {
                switch (modelFields[field.number], field.value) {
                case (.varint?, .varint(let value)):
                    if field.number == 1 { irVersion = value }
                case (.bytes?, .bytes):
                    if field.number == 7 { hasGraph = true }
                case (nil, _):
                    continue
                default:
                    return false
                }
            }
        } catch {
            return false
        }
        guard let irVersion, (1...100).contains(irVersion) else { return false }
        return hasGraph
    }

    /// The model's signature and findings.
    ///
    /// `modelPath` is the model file's path; external-data locations are resolved against
    /// its folder. The signature lists the main graph's inputs that are not initializers,
    /// and its outputs; it is nil when the file does not parse.
    static func inspect(_ bytes: UnsafeRawBufferPointer,
                        modelPath: String) -> (signature: ModelSignature?, findings: [Finding]) {
        let summary: ONNXModelSummary
        do {
            summary = try ONNXModelWalker.walk(bytes)
        } catch {
            return (nil, [invalid("not a valid ONNX model: \(error.reason)", offset: error.offset)])
        }
        var findings: [Finding] = []
        if summary.irVersion == nil || summary.irVersion == 0 {
            findings.append(invalid("the model has no ir_version", offset: 0))
        }
        guard summary.hasGraph else {
            findings.append(invalid("the model has no graph", offset: 0))
            return (nil, findings)
        }
        if summary.opsetImports.isEmpty {
            findings.append(invalid("the model imports no operator set (opset_import is empty)",
                                    offset: 0))
        }
        for domain in summary.customDomains.keys.sorted() {
            guard let uses = summary.customDomains[domain] else { continue }
            let ops = uses.opTypes.sorted().joined(separator: ", ")
            findings.append(Finding(
                kind: "custom-op-domain", verdict: .unsafe,
                message: "nodes use operators \(ops) from custom domain '\(domain)', which run "
                    + "code from outside the model; only ai.onnx and ai.onnx.ml operators are safe",
                global: domain, offset: Int64(uses.firstAt)))
        }
        findings += checkExternalData(summary.externalData, modelPath: modelPath)
        let signature = ModelSignature(inputs: summary.inputs, outputs: summary.outputs)
        return (signature, findings)
    }

    /// Checks every external-data reference; one finding per bad location or range.
    static func checkExternalData(_ references: [ONNXModelSummary.ExternalData],
                                  modelPath: String) -> [Finding] {
        guard !references.isEmpty else { return [] }
        let folder = (modelPath as NSString).deletingLastPathComponent
        let base = realPath(folder.isEmpty ? "." : folder)
        var findings: [Finding] = []
        var reported = Set<String>()
        var sizes: [String: Int64] = [:]
        for reference in references {
            guard let location = reference.location, !location.isEmpty else {
                findings.append(invalid("tensor '\(reference.tensor)' is external but names no location",
                                        offset: reference.at, kind: "external-data-missing"))
                continue
            }
            if reported.contains(location) { continue }
            if let reason = escapeReason(location) {
                reported.insert(location)
                findings.append(Finding(
                    kind: "external-data-path", verdict: .unsafe,
                    message: "tensor '\(reference.tensor)' reads its data from '\(location)', "
                        + "\(reason); external data must stay inside the model's folder",
                    offset: Int64(reference.at)))
                continue
            }
            guard let base else {
                reported.insert(location)
                findings.append(invalid("the model's folder '\(folder)' cannot be resolved to check "
                                        + "external data '\(location)'", offset: reference.at,
                                        kind: "external-data-missing"))
                continue
            }
            let size: Int64
            if let known = sizes[location] {
                size = known
            } else {
                switch resolve(location, in: base) {
                case .missing:
                    reported.insert(location)
                    findings.append(invalid("tensor '\(reference.tensor)' reads its data from "
                                            + "'\(location)', which does not exist next to the model",
                                            offset: reference.at, kind: "external-data-missing"))
                    continue
                case .notRegular:
                    reported.insert(location)
                    findings.append(invalid("tensor '\(reference.tensor)' reads its data from "
                                            + "'\(location)', which is not a regular file",
                                            offset: reference.at, kind: "external-data-missing"))
                    continue
                case .outside(let target):
                    reported.insert(location)
                    findings.append(Finding(
                        kind: "external-data-path", verdict: .unsafe,
                        message: "tensor '\(reference.tensor)' reads its data from '\(location)', "
                            + "which resolves to '\(target)' outside the model's folder",
                        offset: Int64(reference.at)))
                    continue
                case .inside(let fileSize):
                    size = fileSize
                    sizes[location] = fileSize
                }
            }
            if let problem = rangeProblem(reference, fileSize: size) {
                findings.append(invalid("tensor '\(reference.tensor)': \(problem)",
                                        offset: reference.at, kind: "external-data-range"))
            }
        }
        return findings
    }

    /// Why a location escapes the model's folder by its text alone, or nil.
    static func escapeReason(_ location: String) -> String? {
        if location.hasPrefix("/") || location.hasPrefix("\\") {
            return "an absolute path"
        }
        let scalars = Array(location.unicodeScalars.prefix(2))
        if scalars.count == 2, scalars[1] == ":", scalars[0].properties.isAlphabetic {
            return "an absolute path"
        }
        let segments = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if segments.contains("..") {
            return "which climbs out with '..'"
        }
        if location.contains("\0") {
            return "which holds a NUL byte"
        }
        return nil
    }

    private enum Resolution {
        case inside(size: Int64)
        case outside(String)
        case missing
        case notRegular
    }

    /// Follows symlinks and checks that the location stays under `base` (already real).
    private static func resolve(_ location: String, in base: String) -> Resolution {
        guard let target = realPath(base + "/" + location) else { return .missing }
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard target.hasPrefix(prefix) else { return .outside(target) }
        var info = stat()
        guard stat(target, &info) == 0 else { return .missing }
        guard info.st_mode & S_IFMT == S_IFREG else { return .notRegular }
        return .inside(size: Int64(info.st_size))
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A sentence when `offset`/`length` are malformed or run past the file's end.
    private static func rangeProblem(_ reference: ONNXModelSummary.ExternalData,
                                     fileSize: Int64) -> String? {
        var offset: Int64 = 0
        if let text = reference.offset {
            guard let value = Int64(text), value >= 0 else { return "external offset '\(text)' is not a byte count" }
            offset = value
        }
        var length = fileSize - min(offset, fileSize)
        if let text = reference.length {
            guard let value = Int64(text), value >= 0 else { return "external length '\(text)' is not a byte count" }
            length = value
        }
        let (end, overflow) = offset.addingReportingOverflow(length)
        if overflow || end > fileSize || offset > fileSize {
            return "external data [\(offset), +\(length)) runs past the end of "
                + "'\(reference.location ?? "")' (\(fileSize) bytes)"
        }
        return nil
    }

    private static func invalid(_ message: String, offset: Int,
                                kind: String = "invalid-onnx") -> Finding {
        Finding(kind: kind, verdict: .invalid, message: message, offset: Int64(offset))
    }
}
