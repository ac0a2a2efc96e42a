// What the static pickle interpreter knows about the values on its stack and in
// its memo. It keeps exactly what the safety checks need: the text of strings (to
// resolve STACK_GLOBAL however the names got there), globals with their policy
// classification, the provenance of constructed objects (to find joblib array
// wrappers and numpy dtypes), and a summary of every dict that may become BUILD
// state. Bulk data is a length, never bytes.
//
// Containers and objects are classes so that the memo aliases them as Python does:
// a dict stored with PUT and filled afterwards is the same dict when GET fetches it.

/// A global a pickle imports, with the policy's verdict on it.
final class PickleGlobal {
    let module: String
    let name: String
    let classification: ScanPolicy.Classification

    init(module: String, name: String, classification: ScanPolicy.Classification) {
        self.module = module
        self.name = name
        self.classification = classification
    }

    /// `module.qualname`, as findings and the allow-list spell it.
    var qualified: String { module + "." + name }

    var isAllowed: Bool { classification.isAllowed }

    /// An allowed function, as opposed to an allowed type.
    var isAllowedFunction: Bool { classification == .allowed(.function) }
}

/// A list, tuple, dict, set or frozenset built by the pickle.
final class PickleContainer {
    enum Kind { case list, tuple, dict, set, frozenset }

    let kind: Kind
    /// Elements added so far, whether or not they were kept.
    private(set) var count = 0
    /// The first elements of a list, tuple or set (up to the machine's cap).
    private(set) var items: [PickleValue] = []
    /// The first string-keyed entries of a dict (up to the machine's cap).
    private(set) var entries: [(key: String, value: PickleValue)] = []
    /// The first key that is a dunder name (`__reduce__`, `__class__`, …).
    private(set) var dunderKey: String?
    /// The first value that is an allowed function kept uncalled.
    private(set) var functionValue: PickleGlobal?

    init(_ kind: Kind) {
        self.kind = kind
    }

    init(_ kind: Kind, items: ArraySlice<PickleValue>, cap: Int) {
        self.kind = kind
        count = items.count
        self.items = Array(items.prefix(cap))
        for item in items { note(value: item) }
    }

    func append(_ value: PickleValue, cap: Int) -> Bool {
        count += 1
        note(value: value)
        guard items.count < cap else { return false }
        items.append(value)
        return true
    }

    func set(key: PickleValue, value: PickleValue, cap: Int) -> Bool {
        count += 1
        note(value: value)
        guard case .string(let text) = key else { return false }
        if dunderKey == nil, ScanPolicy.isDunder(Substring(text)) { dunderKey = text }
        guard entries.count < cap else { return false }
        entries.append((text, value))
        return true
    }

    /// The value under a string key, when it was kept.
    func value(forKey key: String) -> PickleValue? {
        entries.last(where: { $0.key == key })?.value
    }

    private func note(value: PickleValue) {
        if functionValue == nil, case .global(let global) = value, global.isAllowedFunction {
            functionValue = global
        }
    }

    /// Drops references so that cycles made through the memo are freed.
    func clear() {
        items.removeAll()
        entries.removeAll()
    }
}

/// What a numpy dtype holds, as far as sizing array data needs.
struct NumpyDType: Equatable {
    var kind: Character
    var itemSize: Int?
    var hasObject: Bool

    /// Parses a dtype string as numpy's `__reduce__` writes it: `f8`, `<i4`, `U5`,
    /// `V12`, `O8`, `M8`.
    init?(typeString raw: String) {
        var text = Substring(raw)
        if let first = text.first, "<>|=".contains(first) { text = text.dropFirst() }
        guard let kind = text.first else { return nil }
        var rest = text.dropFirst()
        if let bracket = rest.firstIndex(of: "[") { rest = rest[..<bracket] }
        let digits = rest.isEmpty ? nil : Int(rest)
        if !rest.isEmpty && digits == nil { return nil }
        self.kind = kind
        hasObject = kind == "O"
        switch kind {
        case "b", "?": itemSize = digits ?? 1
        case "i", "u", "f", "c", "S", "a", "V": itemSize = digits
        case "U": itemSize = digits.map { $0 * 4 }
        case "O", "M", "m": itemSize = digits ?? 8
        default: return nil
        }
        if let size = itemSize, size < 0 { return nil }
    }
}

/// An object a pickle constructs by calling or instantiating a global.
final class PickleObject {
    /// The class or function that made it (for `copyreg._reconstructor` and
    /// `NEWOBJ`, the class argument).
    let origin: PickleGlobal?
    var dtype: NumpyDType?
    var state: PickleValue?

    init(origin: PickleGlobal?, dtype: NumpyDType? = nil) {
        self.origin = origin
        self.dtype = dtype
    }
}

/// One value on the interpreter's stack or in its memo.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer beyond 64 bits.
    case bigInt
    case float
    case string(String)
    /// A string too long to keep; only its byte length is known.
    case longString(Int64)
    case bytes(Int64)
    case container(PickleContainer)
    case global(PickleGlobal)
    case object(PickleObject)
    /// What a persistent-load hook returns (PyTorch storages).
    case persistent
    /// The result of something the scanner cannot follow: a denied call, an
    /// unregistered extension code, an out-of-band buffer.
    case unknown

    /// Whether Python could call this value at all.
    var isCallable: Bool {
        switch self {
        case .global, .object, .persistent, .unknown: true
        default: false
        }
    }

    /// A short name for messages: the type as Python would print it.
    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string, .longString: "str"
        case .bytes: "bytes"
        case .container(let box):
            switch box.kind {
            case .list: "list"
            case .tuple: "tuple"
            case .dict: "dict"
            case .set: "set"
            case .frozenset: "frozenset"
            }
        case .global(let global): global.qualified
        case .object(let object): object.origin.map { "\($0.qualified) object" } ?? "object"
        case .persistent: "persistent object"
        case .unknown: "unknown value"
        }
    }
}
