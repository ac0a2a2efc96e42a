import SwiftProtobuf

/// What the ONNX reader learns from one walk over a `ModelProto`.
struct ONNXModelSummary: Sendable {
    /// A tensor whose bytes live in another file (`data_location: EXTERNAL`).
    struct ExternalData: Sendable, Equatable {
        var tensor: String
        var location: String?
        var offset: String?
        var length: String?
        /// Byte offset of the tensor's message in the model file.
        var at: Int
    }

    var irVersion: Int64?
    var opsetImports: [(domain: String, version: Int64)] = []
    /// The main graph's inputs that are not initializers, in file order.
    var inputs: [TensorSpec] = []
    var outputs: [TensorSpec] = []
    /// Initializers (dense and sparse) of the main graph.
    var initializerCount = 0
    /// Operator types used from domains outside the standard ones and not defined as
    /// functions inside the model, by domain; with the offset of the first such node.
    var customDomains: [String: (opTypes: Set<String>, firstAt: Int)] = [:]
    var externalData: [ExternalData] = []
    var hasGraph = false
}

/// Walks an ONNX `ModelProto` with `ProtobufWire`, descending into graphs, nodes,
/// attributes (subgraphs of `If`/`Loop`/`Scan`, tensor attributes), functions and
/// training graphs, and stepping over every tensor payload without reading it.
///
/// Memory and time depend on the number of messages, never on the size of the
/// initializers. Small messages (graph inputs and outputs, opset imports, external-data
/// entries) are decoded with the generated SwiftProtobuf types after a bounded copy.
struct ONNXModelWalker {
    /// Domains whose operators every ONNX runtime implements.
    static let standardDomains: Set<String> = ["", "ai.onnx", "ai.onnx.ml"]
    /// Deepest nesting of subgraphs accepted (a hostile file could nest without end).
    static let nestingLimit = 64
    /// Largest small message copied for SwiftProtobuf; larger is treated as hostile.
    static let smallMessageLimit = 16 << 20

    private let wire: ProtobufWire
    private var summary = ONNXModelSummary()
    private var mainInputs: [TensorSpec] = []
    private var mainInitializerNames: Set<String> = []
    /// `(domain, opType)` of every node outside the standard domains, first offset each.
    private var nodeUses: [String: [String: Int]] = [:]
    /// `domain \0 name` of every function the model defines.
    private var localFunctions: Set<String> = []

    private init(_ bytes: UnsafeRawBufferPointer) {
        wire = ProtobufWire(bytes)
    }

    /// Walks the whole model; throws on the first malformed field.
    static func walk(_ bytes: UnsafeRawBufferPointer) throws(ProtobufWire.Error) -> ONNXModelSummary {
        var walker = ONNXModelWalker(bytes)
        try walker.model(0..<bytes.count)
        return walker.finish()
    }

    private mutating func finish() -> ONNXModelSummary {
        summary.inputs = mainInputs.filter { !mainInitializerNames.contains($0.name) }
        for (domain, uses) in nodeUses {
            for (opType, offset) in uses where !localFunctions.contains(domain + "\0" + opType) {
                var entry = summary.customDomains[domain] ?? (opTypes: [], firstAt: offset)
                entry.opTypes.insert(opType)
                entry.firstAt = min(entry.firstAt, offset)
                summary.customDomains[domain] = entry
            }
        }
        return summary
    }

    // MARK: Messages walked in place

    private mutating func model(_ range: Range<Int>) throws(ProtobufWire.Error) {
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 1: summary.irVersion = try wire.int64(field)
            case 7:
                summary.hasGraph = true
                try graph(try wire.message(field), depth: 0, isMain: true)
            case 8:
                let opset = try decode(Onnx_OperatorSetIdProto.self, field, what: "opset_import")
                summary.opsetImports.append((opset.domain, opset.version))
            case 20: try trainingInfo(try wire.message(field))
            case 25: try function(try wire.message(field))
            default: break
            }
        }
    }

    private mutating func graph(_ range: Range<Int>, depth: Int,
                                isMain: Bool) throws(ProtobufWire.Error) {
        guard depth <= Self.nestingLimit else {
            throw ProtobufWire.Error(offset: range.lowerBound,
                                     reason: "subgraphs nest deeper than \(Self.nestingLimit) levels")
        }
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 1: try node(try wire.message(field), depth: depth)
            case 5:
                let name = try tensor(try wire.message(field))
                if isMain {
                    summary.initializerCount += 1
                    mainInitializerNames.insert(name)
                }
            case 15:
                let name = try sparseTensor(try wire.message(field))
                if isMain {
                    summary.initializerCount += 1
                    mainInitializerNames.insert(name)
                }
            case 11 where isMain:
                mainInputs.append(Self.spec(try decode(Onnx_ValueInfoProto.self, field, what: "graph input")))
            case 12 where isMain:
                summary.outputs.append(Self.spec(try decode(Onnx_ValueInfoProto.self, field, what: "graph output")))
            case 11, 12, 13:
                _ = try wire.message(field)
            default: break
            }
        }
    }

    private mutating func node(_ range: Range<Int>, depth: Int) throws(ProtobufWire.Error) {
        var domain = ""
        var opType = ""
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 4: opType = try wire.string(field)
            case 7: domain = try wire.string(field)
            case 5: try attribute(try wire.message(field), depth: depth)
            default: break
            }
        }
        if !Self.standardDomains.contains(domain), nodeUses[domain]?[opType] == nil {
            nodeUses[domain, default: [:]][opType] = range.lowerBound
        }
    }

    private mutating func attribute(_ range: Range<Int>, depth: Int) throws(ProtobufWire.Error) {
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 5, 10: _ = try tensor(try wire.message(field))
            case 6, 11: try graph(try wire.message(field), depth: depth + 1, isMain: false)
            case 22, 23: _ = try sparseTensor(try wire.message(field))
            default: break
            }
        }
    }

    /// Reads a tensor's name and where its data lives; returns the name.
    private mutating func tensor(_ range: Range<Int>) throws(ProtobufWire.Error) -> String {
        var name = ""
        var isExternal = false
        var entries: [(String, String)] = []
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 8: name = try wire.string(field)
            case 14: isExternal = try wire.int64(field) == 1
            case 13:
                let entry = try decode(Onnx_StringStringEntryProto.self, field, what: "external_data entry")
                entries.append((entry.key, entry.value))
            default: break  // dims, data_type, raw_data, *_data: stepped over
            }
        }
        // Loaders only follow `external_data` when `data_location` is EXTERNAL; the paths
        // are checked either way, since a later tool may not be as careful.
        if isExternal || !entries.isEmpty {
            var reference = ONNXModelSummary.ExternalData(tensor: name, at: range.lowerBound)
            for (key, value) in entries {
                switch key {
                case "location": reference.location = value
                case "offset": reference.offset = value
                case "length": reference.length = value
                default: break
                }
            }
            summary.externalData.append(reference)
        }
        return name
    }

    /// Walks a sparse tensor's values and indices; returns its name (that of its values).
    private mutating func sparseTensor(_ range: Range<Int>) throws(ProtobufWire.Error) -> String {
        var name = ""
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 1: name = try tensor(try wire.message(field))
            case 2: _ = try tensor(try wire.message(field))
            default: break
            }
        }
        return name
    }

    private mutating func function(_ range: Range<Int>) throws(ProtobufWire.Error) {
        var name = ""
        var domain = ""
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            switch field.number {
            case 1: name = try wire.string(field)
            case 10: domain = try wire.string(field)
            case 7: try node(try wire.message(field), depth: 1)
            case 11: try attribute(try wire.message(field), depth: 1)
            default: break
            }
        }
        localFunctions.insert(domain + "\0" + name)
    }

    private mutating func trainingInfo(_ range: Range<Int>) throws(ProtobufWire.Error) {
        var fields = ProtobufWire(wire.buffer, range: range)
        while let field = try fields.next() {
            if field.number == 1 || field.number == 2 {
                try graph(try wire.message(field), depth: 1, isMain: false)
            }
        }
    }

    // MARK: Small messages decoded with SwiftProtobuf

    private func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ field: ProtobufWire.Field,
                                                  what: String) throws(ProtobufWire.Error) -> M {
        let range = try wire.message(field)
        guard range.count <= Self.smallMessageLimit else {
            throw ProtobufWire.Error(offset: field.offset,
                                     reason: "\(what) is \(range.count) bytes, over the "
                                     + "\(Self.smallMessageLimit)-byte limit for such a message")
        }
        do {
            return try M(serializedBytes: wire.copy(range), partial: true)
        } catch {
            throw ProtobufWire.Error(offset: field.offset, reason: "\(what) does not decode: \(error)")
        }
    }

    /// A graph input or output as a signature entry.
    static func spec(_ info: Onnx_ValueInfoProto) -> TensorSpec {
        let (dtype, shape) = describe(info.type)
        return TensorSpec(name: info.name, dtype: dtype, shape: shape)
    }

    /// The element type's name and the shape, -1 for a symbolic or missing dimension.
    ///
    /// A tensor without any shape (unknown rank) gets an empty shape. Sequences, maps and
    /// optionals are named after their content: `sequence(float32)`, `map(int64,float32)`.
    static func describe(_ type: Onnx_TypeProto) -> (String, [Int64]) {
        func dims(_ shape: Onnx_TensorShapeProto) -> [Int64] {
            shape.dim.map { dim in
                if case .dimValue(let value)? = dim.value, value >= 0 { return value }
                return -1
            }
        }
        switch type.value {
        case .tensorType(let tensor)?:
            return (dtypeName(tensor.elemType), tensor.hasShape ? dims(tensor.shape) : [])
        case .sparseTensorType(let tensor)?:
            return ("sparse(\(dtypeName(tensor.elemType)))", tensor.hasShape ? dims(tensor.shape) : [])
        case .sequenceType(let sequence)?:
            return ("sequence(\(describe(sequence.elemType).0))", [])
        case .mapType(let map)?:
            return ("map(\(dtypeName(map.keyType)),\(describe(map.valueType).0))", [])
        case .optionalType(let optional)?:
            return ("optional(\(describe(optional.elemType).0))", [])
        case .opaqueType(let opaque)?:
            return ("opaque(\(opaque.domain).\(opaque.name))", [])
        case nil:
            return ("undefined", [])
        }
    }

    /// numpy-style names for `TensorProto.DataType` values.
    static func dtypeName(_ value: Int32) -> String {
        let names: [Int32: String] = [
            0: "undefined", 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16",
            6: "int32", 7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "float64",
            12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
            17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
            21: "uint4", 22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2",
            26: "int2", 27: "float6e2m3", 28: "float6e3m2",
        ]
        return names[value] ?? "dtype(\(value))"
    }
}
