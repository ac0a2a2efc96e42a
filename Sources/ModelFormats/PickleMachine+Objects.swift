// Globals, calls and BUILD: where a pickle imports and runs code, and where the
// machine reports it.

extension PickleMachine {
    // MARK: - Globals

    /// GLOBAL and INST: the module and name lines, decoded as Python decodes them.
    mutating func resolve(module: (text: [UInt8], length: Int64, last: UInt8?),
                          name: (text: [UInt8], length: Int64, last: UInt8?),
                          log: inout FindingLog) -> PickleGlobal {
        let tooLong = module.length > Int64(module.text.count) || name.length > Int64(name.text.count)
        return resolve(module: String(decoding: module.text, as: UTF8.self),
                       name: String(decoding: name.text, as: UTF8.self), tooLong: tooLong, log: &log)
    }

    /// Classifies a global and reports it when the policy denies it.
    ///
    /// Python imports the module as soon as the global is named, so a denied
    /// global is a finding whether or not anything calls it afterwards (a call
    /// whose result is dropped with POP still counts).
    mutating func resolve(module rawModule: String, name rawName: String, tooLong: Bool = false,
                          log: inout FindingLog) -> PickleGlobal {
        noteGlobal()
        var (module, name) = (rawModule, rawName)
        if proto < 3 { (module, name) = Self.pythonThreeName(module: module, name: name) }
        let classification: ScanPolicy.Classification = tooLong
            ? .denied(reason: "is longer than \(Self.keepStringBytes) bytes")
            : policy.classify(module: module, name: name)
        let global = PickleGlobal(module: module, name: name, classification: classification)
        if case .denied(let reason) = classification {
            var message = "\(opcode.name) imports \(global.qualified), which \(reason)"
            if (module, name) != (rawModule, rawName) {
                message += " (written as \(rawModule).\(rawName))"
            }
            log.add(finding("unsafe-global", .unsafe, message, global: global.qualified))
        }
        return global
    }

    /// STACK_GLOBAL: module and name come from the stack, so from any string
    /// opcode or from the memo.
    mutating func stackGlobal(module: PickleValue, name: PickleValue, log: inout FindingLog)
        throws(PickleFault) -> PickleValue {
        switch (module, name) {
        case (.string(let module), .string(let name)):
            return .global(resolve(module: module, name: name, log: &log))
        case (.string, .longString), (.longString, .string), (.longString, .longString):
            return .global(resolve(module: "?", name: "?", tooLong: true, log: &log))
        default:
            for value in [module, name] where Self.isDefinitelyNotString(value) {
                throw malformed("STACK_GLOBAL requires str, and got a \(value.typeName)")
            }
            noteGlobal()
            let source = [module, name].first(where: { !Self.isDefinitelyNotString($0) })
            log.add(finding("unresolved-global", .unsafe,
                            "STACK_GLOBAL takes its module or name from a \(source?.typeName ?? "value") computed while loading; the scanner cannot tell what it imports",
                            global: Self.describe(module) + "." + Self.describe(name)))
            return .unknown
        }
    }

    static func isDefinitelyNotString(_ value: PickleValue) -> Bool {
        switch value {
        case .string, .longString, .global, .object, .persistent, .unknown: false
        default: true
        }
    }

    static func describe(_ value: PickleValue) -> String {
        if case .string(let text) = value { return text }
        return "<\(value.typeName)>"
    }

    /// Python 2 names that `pickle` maps to Python 3 ones for protocols below 3
    /// (`_compat_pickle`), so that `__builtin__.eval` is reported as `builtins.eval`
    /// and `__builtin__.set`, which Python 3 itself writes, is allowed.
    static func pythonThreeName(module: String, name: String) -> (String, String) {
        switch (module, name) {
        case ("__builtin__", "xrange"): return ("builtins", "range")
        case ("__builtin__", "unicode"): return ("builtins", "str")
        case ("__builtin__", "long"): return ("builtins", "int")
        case ("__builtin__", "unichr"): return ("builtins", "chr")
        case ("__builtin__", "reduce"): return ("functools", "reduce")
        case ("__builtin__", "intern"): return ("sys", "intern")
        case ("itertools", "izip"): return ("builtins", "zip")
        case ("itertools", "imap"): return ("builtins", "map")
        case ("itertools", "ifilter"): return ("builtins", "filter")
        case ("exceptions", "StandardError"): return ("builtins", "Exception")
        case ("UserDict", "IterableUserDict"): return ("collections", "UserDict")
        default: break
        }
        let modules = [
            "__builtin__": "builtins", "copy_reg": "copyreg", "exceptions": "builtins",
            "cPickle": "pickle", "commands": "subprocess", "UserDict": "collections",
            "UserList": "collections", "UserString": "collections", "StringIO": "io",
            "cStringIO": "io", "thread": "_thread", "Queue": "queue", "urllib2": "urllib.request",
            "httplib": "http.client", "SocketServer": "socketserver", "repr": "reprlib",
        ]
        return (modules[module] ?? module, name)
    }

    // MARK: - Calls

    /// REDUCE: `callee(*args)`.
    mutating func call(_ callee: PickleValue, args: PickleValue, log: inout FindingLog)
        throws(PickleFault) -> PickleValue {
        guard case .global(let global) = callee else {
            return try indirect(callee, log: &log)
        }
        guard global.isAllowed else { return .unknown }
        switch global.qualified {
        case "numpy.dtype":
            let dtype = Self.firstItem(args).flatMap { value -> NumpyDType? in
                if case .string(let text) = value { return NumpyDType(typeString: text) }
                return nil
            }
            return .object(object(origin: global, dtype: dtype))
        case "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
             "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
            // These build an instance of their first argument.
            if case .global(let cls)? = Self.firstItem(args) {
                return cls.isAllowed ? .object(object(origin: cls)) : .unknown
            }
            return .object(object(origin: global))
        default:
            return .object(object(origin: global))
        }
    }

    /// NEWOBJ, NEWOBJ_EX and OBJ: `cls.__new__(cls, *args)` or `cls(*args)`.
    mutating func newObject(_ cls: PickleValue, args: PickleValue, log: inout FindingLog)
        throws(PickleFault) -> PickleValue {
        guard case .global(let global) = cls else { return try indirect(cls, log: &log) }
        return global.isAllowed ? .object(object(origin: global)) : .unknown
    }

    mutating func construct(_ cls: PickleValue, log: inout FindingLog) throws(PickleFault) -> PickleValue {
        try newObject(cls, args: .none, log: &log)
    }

    /// INST: the class was just resolved from the opcode's own lines.
    mutating func instantiate(_ global: PickleGlobal, args: ArraySlice<PickleValue>) -> PickleValue {
        global.isAllowed ? .object(object(origin: global)) : .unknown
    }

    /// A call of something that is not a global: a value made while loading.
    private mutating func indirect(_ callee: PickleValue, log: inout FindingLog) throws(PickleFault) -> PickleValue {
        guard callee.isCallable else {
            throw malformed("\(opcode.name) calls a \(callee.typeName), which is not callable")
        }
        var origin: String?
        if case .object(let object) = callee { origin = object.origin?.qualified }
        let what = callee.typeName
        let article = what.first.map { "aeiouAEIOU".contains($0) } == true ? "an" : "a"
        log.add(finding("indirect-call", .unsafe,
                        "\(opcode.name) calls \(article) \(what) made while loading, so the scanner cannot tell what runs",
                        global: origin.map { "\($0)()" } ?? "?"))
        return .unknown
    }

    static func firstItem(_ value: PickleValue) -> PickleValue? {
        guard case .container(let box) = value, box.kind == .tuple else { return nil }
        return box.items.first
    }

    // MARK: - BUILD

    /// BUILD: `target.__setstate__(state)`, or an update of its `__dict__` and slots.
    mutating func build<Input: PickleInput>(_ target: PickleValue, state: PickleValue,
                                             log: inout FindingLog, input: inout Input) throws(PickleFault) {
        if case .global(let global) = target {
            log.add(finding("build-on-global", .unsafe,
                            "BUILD sets attributes on \(global.qualified) itself, which changes it for everything that uses it afterwards",
                            global: global.qualified))
        }
        checkState(state, of: target, log: &log)
        guard case .object(let object) = target else { return }
        object.state = state
        switch object.origin?.qualified {
        case "numpy.dtype":
            // (version, byteorder, subarray, names, fields, elsize, alignment, flags…)
            guard case .container(let box) = state, box.kind == .tuple, box.items.count >= 8 else { return }
            if case .int(let size) = box.items[5], size > 0, let dtype = object.dtype,
               "SUVa".contains(dtype.kind) || dtype.itemSize == nil {
                object.dtype?.itemSize = Int(size)
            }
            if case .int(let flags) = box.items[7], flags & 1 != 0 { object.dtype?.hasObject = true }
        case "joblib.numpy_pickle.NumpyArrayWrapper",
             "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper":
            try readJoblibArray(state: state, log: &log, input: &input)
            stack[stack.count - 1] = .unknown
        default:
            break
        }
    }

    /// Reports BUILD state that sets dunder attributes or keeps allowed functions.
    private func checkState(_ state: PickleValue, of target: PickleValue, log: inout FindingLog) {
        var dicts: [PickleContainer] = []
        if case .container(let box) = state {
            if box.kind == .dict {
                dicts.append(box)
            } else if box.kind == .tuple, box.count == 2 {
                for case .container(let part) in box.items where part.kind == .dict { dicts.append(part) }
            }
        }
        if case .global(let function) = state, function.isAllowedFunction {
            log.add(finding("build-callable", .unsafe,
                            "BUILD passes the function \(function.qualified) as the state of a \(target.typeName)",
                            global: function.qualified))
        }
        for dict in dicts {
            if let key = dict.dunderKey {
                log.add(finding("build-dunder", .unsafe,
                                "BUILD sets \(key) on a \(target.typeName); dunder attributes change what Python calls on the object",
                                global: Self.ownerName(target) + "." + key))
            }
            if let function = dict.functionValue {
                log.add(finding("build-callable", .unsafe,
                                "BUILD stores the function \(function.qualified) as an attribute of a \(target.typeName), which can call it later",
                                global: function.qualified))
            }
        }
    }

    static func isNone(_ value: PickleValue) -> Bool {
        if case .none = value { return true }
        return false
    }

    static func ownerName(_ value: PickleValue) -> String {
        switch value {
        case .global(let global): global.qualified
        case .object(let object): object.origin?.qualified ?? "?"
        default: "<\(value.typeName)>"
        }
    }

    // MARK: - Persistent ids

    /// Records PyTorch storage ids (`('storage', torch.FloatStorage, key, …)`) so that
    /// the legacy format's raw storages can be sized.
    mutating func notePersistentID(_ pid: PickleValue) {
        guard case .container(let box) = pid, box.kind == .tuple, box.items.count >= 3,
              case .string("storage") = box.items[0], case .global(let type) = box.items[1],
              case .string(let key) = box.items[2],
              let size = Self.torchElementSize(storageType: type.name) else { return }
        noteStorage(key: key, elementSize: size)
    }

    /// Bytes per element of a `torch.*Storage` class, or nil for anything else.
    static func torchElementSize(storageType name: String) -> Int? {
        let sizes: [String: Int] = [
            "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
            "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
            "ByteStorage": 1, "BoolStorage": 1, "ComplexFloatStorage": 8,
            "ComplexDoubleStorage": 16, "QInt8Storage": 1, "QUInt8Storage": 1,
            "QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
            "UntypedStorage": 1,
        ]
        return sizes[name]
    }

    // MARK: - joblib

    /// Reads what joblib's `NumpyArrayWrapper.read` reads right after the BUILD: an
    /// alignment byte and padding, then the raw array bytes (skipped), or for an
    /// object array a whole nested pickle (scanned).
    private mutating func readJoblibArray<Input: PickleInput>(state: PickleValue, log: inout FindingLog,
                                                               input: inout Input) throws(PickleFault) {
        if let end = frameEnd {
            // joblib commits the frame before writing array bytes; data inside a
            // frame is read by joblib from after the frame, by us from here.
            guard input.offset == end else {
                throw fault("frame-boundary", "joblib array data starts inside a FRAME")
            }
            frameEnd = nil
        }
        guard case .container(let dict) = state, dict.kind == .dict else {
            throw malformed("joblib NumpyArrayWrapper state is not a dict")
        }
        guard case .object(let dtypeObject)? = dict.value(forKey: "dtype"), let dtype = dtypeObject.dtype else {
            throw malformed("joblib NumpyArrayWrapper has no dtype the scanner can read")
        }
        guard case .container(let shape)? = dict.value(forKey: "shape"), shape.kind == .tuple,
              shape.items.count == shape.count else {
            throw malformed("joblib NumpyArrayWrapper has no shape tuple")
        }
        var count: Int64 = 1
        for item in shape.items {
            guard case .int(let dimension) = item, dimension >= 0 else {
                throw malformed("joblib array shape has a dimension that is not a size")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw malformed("joblib array shape overflows") }
            count = product
        }
        noteJoblibArray()
        if dtype.hasObject {
            guard depth + 1 < limits.maxNestingDepth else {
                throw fault("limit-exceeded", "joblib object arrays nested more than \(limits.maxNestingDepth) deep")
            }
            var nested = PickleMachine(policy: policy, limits: limits, member: member, depth: depth + 1)
            if case .failed(let inner) = nested.run(&input, log: &log) { throw inner }
            return
        }
        if let alignment = dict.value(forKey: "numpy_array_alignment_bytes"), !Self.isNone(alignment) {
            guard let padding = input.readByte() else {
                throw fault("truncated", "the stream ends before joblib's alignment byte")
            }
            try skipPayload(Int64(padding), &input)
        }
        guard let itemSize = dtype.itemSize else {
            throw malformed("joblib array dtype has no fixed item size")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: Int64(itemSize))
        guard !overflow else { throw malformed("joblib array size overflows") }
        try skipPayload(bytes, &input)
    }
}
