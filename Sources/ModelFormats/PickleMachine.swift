/// Why a pickle stream stopped before its STOP: the file is `invalid`.
struct PickleFault: Error {
    /// `invalid-pickle`, `truncated`, `memo-miss`, `stack-underflow`,
    /// `frame-boundary` or `limit-exceeded`.
    let kind: String
    let message: String
    let opcode: String?
    let offset: Int64

    func finding(member: String?) -> Finding {
        Finding(kind: kind, verdict: .invalid, message: message, opcode: opcode,
                offset: offset, member: member)
    }
}

/// How one pickle stream ended.
enum PickleOutcome {
    /// STOP was reached; the value is what `pickle.load` would return.
    case complete(PickleValue)
    /// The stream stopped early; the fault says where and why.
    case failed(PickleFault)
}

/// A static interpreter for one pickle stream: it runs every opcode of protocols
/// 0 to 5 on a model of Python's stack, mark stack and memo, without importing or
/// calling anything, and reports each global the stream would import or call.
///
/// Each `GLOBAL`, `STACK_GLOBAL`, `INST` and `EXT*` resolves to a module and a
/// qualified name however the strings got there (any string opcode, escapes
/// decoded, fetched back from the memo), and is checked against the policy.
/// `REDUCE`, `NEWOBJ(_EX)`, `OBJ`, `INST` and `BUILD` are checked for what they
/// call and mutate. Whatever Python would reject (unknown opcode, memo miss, stack
/// underflow, truncation, an opcode running across a `FRAME` end) stops the stream
/// with a fault, which makes the file `invalid`.
///
/// joblib files write raw array bytes (or a nested pickle, for object arrays) right
/// after the `BUILD` of a `NumpyArrayWrapper`; the machine sizes and skips them as
/// joblib's unpickler reads them.
struct PickleMachine {
    let policy: ScanPolicy
    let limits: ScanLimits
    let member: String?
    /// Pickles nested in this one (joblib object arrays) so far.
    let depth: Int
    /// Items kept per container; the rest are counted only.
    var retainCap = 256
    /// Opcodes this stream may run (what is left of the file's budget).
    var opcodeLimit: Int
    /// Strings longer than this are kept as lengths only.
    static let keepStringBytes = 4096

    /// The protocol the last PROTO set (0 until one appears).
    private(set) var proto = 0
    private(set) var opcodeCount = 0
    /// Globals the stream named, allowed or not.
    private(set) var globalCount = 0
    /// joblib array payloads skipped or scanned.
    private(set) var joblibArrays = 0
    /// Storage key → element size, from PyTorch persistent ids.
    private(set) var storageElementSizes: [String: Int] = [:]

    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int64: PickleValue] = [:]
    var frameEnd: Int64?
    /// Set after a frame violation: frames are ignored from then on.
    var ignoresFrames = false
    /// The first frame violation, reported when the stream ends.
    var frameViolation: PickleFault?
    var opcodeOffset: Int64 = 0
    var opcode: PickleOpcode = .stop
    private var made: [AnyObject] = []

    init(policy: ScanPolicy, limits: ScanLimits, member: String?, depth: Int = 0) {
        self.policy = policy
        self.limits = limits
        self.member = member
        self.depth = depth
        opcodeLimit = limits.maxOpcodes
    }

    /// Runs the stream from `input`'s position to its STOP.
    ///
    /// Findings about globals go to `log` as they are met, so that a stream that
    /// fails later still reports what it would have run before failing.
    ///
    /// With `keepingResult`, what the stream built stays intact for the caller to
    /// read, and the caller calls `releaseAll()` when done.
    mutating func run<Input: PickleInput>(_ input: inout Input, log: inout FindingLog,
                                          keepingResult: Bool = false) -> PickleOutcome {
        defer {
            if let frameViolation { log.add(frameViolation.finding(member: member)) }
            if !keepingResult { releaseAll() }
        }
        do throws(PickleFault) {
            while true {
                if let end = frameEnd, input.offset >= end { frameEnd = nil }
                opcodeOffset = input.offset
                guard let byte = input.readByte() else {
                    throw fault("truncated", input.failure ?? "the stream ends before its STOP opcode",
                                named: false)
                }
                opcodeCount += 1
                guard opcodeCount <= opcodeLimit else {
                    throw fault("limit-exceeded", "more than \(limits.maxOpcodes) opcodes", named: false)
                }
                guard let code = PickleOpcode(rawValue: byte) else {
                    throw fault("invalid-pickle", "unknown opcode 0x\(String(byte, radix: 16))",
                                named: false)
                }
                opcode = code
                if let result = try step(&input, log: &log) {
                    return .complete(result)
                }
            }
        } catch let error {
            return .failed(error)
        }
    }

    // MARK: - Faults and findings

    func fault(_ kind: String, _ message: String, named: Bool = true) -> PickleFault {
        PickleFault(kind: kind, message: message, opcode: named ? opcode.name : nil,
                    offset: opcodeOffset)
    }

    func malformed(_ message: String) -> PickleFault {
        fault("invalid-pickle", message)
    }

    /// A finding at the current opcode.
    func finding(_ kind: String, _ verdict: Verdict, _ message: String, global: String?) -> Finding {
        Finding(kind: kind, verdict: verdict, message: message, global: global,
                opcode: opcode.name, offset: opcodeOffset, member: member)
    }

    // MARK: - Reading arguments

    /// The next `count` bytes of the current opcode's argument.
    mutating func read<Input: PickleInput>(_ count: Int, _ input: inout Input) throws(PickleFault)
        -> UnsafeRawBufferPointer {
        if let end = frameEnd, input.offset + Int64(count) > end { frameViolated() }
        guard let bytes = input.peek(count) else {
            throw fault("truncated", input.failure ?? "the stream ends inside a \(opcode.name) argument")
        }
        input.advance(count)
        return bytes
    }

    /// A little-endian unsigned integer of `count` bytes.
    mutating func readUInt<Input: PickleInput>(_ count: Int, _ input: inout Input) throws(PickleFault) -> UInt64 {
        let bytes = try read(count, &input)
        var value: UInt64 = 0
        for index in stride(from: count - 1, through: 0, by: -1) {
            value = value << 8 | UInt64(bytes[index])
        }
        return value
    }

    /// A newline-terminated argument; the first `keep` bytes are returned, the
    /// rest only counted, so that a gigabyte STRING costs no memory.
    mutating func readLine<Input: PickleInput>(keep: Int, _ input: inout Input) throws(PickleFault)
        -> (text: [UInt8], length: Int64, last: UInt8?) {
        var kept: [UInt8] = []
        var length: Int64 = 0
        var last: UInt8?
        while true {
            let chunk = input.peekAvailable(pickleInputWindow)
            guard !chunk.isEmpty else {
                throw fault("truncated", input.failure ?? "the stream ends inside a \(opcode.name) line")
            }
            let newline = firstIndex(of: 10, in: chunk)
            let used = newline ?? chunk.count
            if kept.count < keep {
                kept.append(contentsOf: chunk[0..<min(used, keep - kept.count)])
            }
            if used > 0 { last = chunk[used - 1] }
            length += Int64(used)
            input.advance(newline.map { $0 + 1 } ?? used)
            if let end = frameEnd, input.offset > end { frameViolated() }
            if newline != nil { return (kept, length, last) }
        }
    }

    /// Skips a payload without reading it (tensor bytes, long strings).
    mutating func skipPayload<Input: PickleInput>(_ count: Int64, _ input: inout Input) throws(PickleFault) {
        guard count >= 0 else { throw malformed("negative payload length \(count)") }
        if let end = frameEnd, input.offset + count > end { frameViolated() }
        guard input.skip(count) else {
            throw fault("truncated", input.failure ?? "the stream ends inside a \(opcode.name) payload of \(count) bytes")
        }
    }

    /// A UTF-8 string payload of `count` bytes: kept when short, skipped when long.
    mutating func readString<Input: PickleInput>(_ count: Int64, _ input: inout Input, latin1: Bool = false)
        throws(PickleFault) -> PickleValue {
        guard count >= 0 else { throw malformed("negative string length \(count)") }
        guard count <= Self.keepStringBytes else {
            try skipPayload(count, &input)
            return .longString(count)
        }
        let bytes = try read(Int(count), &input)
        return .string(latin1 ? PickleText.latin1(bytes) : String(decoding: bytes, as: UTF8.self))
    }

    /// An opcode ran past the end of its frame. `pickle.py` refuses that; the C
    /// `_pickle` that `pickle.load` and `torch.load` use reads on. The violation is
    /// reported (`invalid`), and the rest of the stream is read as the C unpickler
    /// reads it, ignoring frames, so that whatever it would import is reported too.
    mutating func frameViolated(_ message: String? = nil) {
        if frameViolation == nil {
            frameViolation = fault("frame-boundary", message ?? "\(opcode.name) runs past the end of its FRAME")
        }
        frameEnd = nil
        ignoresFrames = true
    }

    // MARK: - Stack

    mutating func push(_ value: PickleValue) throws(PickleFault) {
        guard stack.count < limits.maxStackDepth else {
            throw fault("limit-exceeded", "more than \(limits.maxStackDepth) values on the stack")
        }
        stack.append(value)
    }

    /// The floor of the current mark segment: values below it belong to outer marks.
    var floor: Int { marks.last ?? 0 }

    mutating func pop() throws(PickleFault) -> PickleValue {
        guard stack.count > floor else { throw underflow() }
        return stack.removeLast()
    }

    func top() throws(PickleFault) -> PickleValue {
        guard stack.count > floor else { throw underflow() }
        return stack[stack.count - 1]
    }

    /// Pops everything above the last MARK, and the MARK.
    mutating func popMark() throws(PickleFault) -> ArraySlice<PickleValue> {
        guard let mark = marks.popLast() else {
            throw malformed("\(opcode.name) needs a MARK and there is none")
        }
        // Copy the marked items out before shrinking the stack: a slice still sharing
        // the stack's buffer would make `removeSubrange` copy the whole stack, at every
        // MARK a hostile file closes above a deep one.
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items[...]
    }

    func underflow() -> PickleFault {
        fault("stack-underflow", "\(opcode.name) pops from an empty stack")
    }

    // MARK: - Values

    /// A new container, remembered so that memo cycles can be broken at the end.
    mutating func container(_ kind: PickleContainer.Kind, items: ArraySlice<PickleValue> = []) -> PickleValue {
        let box = PickleContainer(kind, items: items, cap: retainCap)
        made.append(box)
        return .container(box)
    }

    mutating func object(origin: PickleGlobal?, dtype: NumpyDType? = nil) -> PickleObject {
        let object = PickleObject(origin: origin, dtype: dtype)
        made.append(object)
        return object
    }

    /// Frees what the stream built, cycles included.
    mutating func releaseAll() {
        for item in made {
            if let box = item as? PickleContainer {
                box.clear()
            } else if let object = item as? PickleObject {
                object.state = nil
            }
        }
        made.removeAll()
        stack.removeAll()
        memo.removeAll()
    }

    mutating func memoize(_ index: Int64, _ value: PickleValue) throws(PickleFault) {
        if memo[index] == nil, memo.count >= limits.maxMemoSize {
            throw fault("limit-exceeded", "more than \(limits.maxMemoSize) memo entries")
        }
        memo[index] = value
    }

    func recall(_ index: Int64) throws(PickleFault) -> PickleValue {
        guard let value = memo[index] else {
            throw fault("memo-miss", "\(opcode.name) \(index) reads a memo entry that was never stored")
        }
        return value
    }

    mutating func noteStorage(key: String, elementSize: Int) {
        if storageElementSizes.count < limits.maxArchiveMembers {
            storageElementSizes[key] = elementSize
        }
    }

    mutating func noteJoblibArray() {
        joblibArrays += 1
    }

    mutating func noteGlobal() {
        globalCount += 1
    }

    mutating func setProto(_ value: Int) {
        proto = value
    }
}
