// One step of the interpreter per opcode, following CPython's pure-Python
// `pickle._Unpickler` (Lib/pickle.py), which is also what joblib runs.

extension PickleMachine {
    /// Runs the opcode in `opcode`; returns the result on STOP.
    mutating func step<Input: PickleInput>(_ input: inout Input, log: inout FindingLog)
        throws(PickleFault) -> PickleValue? {
        switch opcode {
        case .proto:
            let version = Int(try read(1, &input)[0])
            guard version <= 5 else { throw malformed("unsupported pickle protocol \(version)") }
            setProto(version)
        case .frame:
            let size = try readUInt(8, &input)
            guard size <= UInt64(Int64.max) else { throw malformed("frame size \(size) is too large") }
            if let end = frameEnd, end > input.offset {
                frameViolated("a new FRAME begins before the current frame ends")
            }
            if !ignoresFrames { frameEnd = input.offset + Int64(size) }
        case .stop:
            return try pop()

        // Stack and marks.
        case .mark:
            guard marks.count < limits.maxNestingDepth else {
                throw fault("limit-exceeded", "more than \(limits.maxNestingDepth) nested MARKs")
            }
            marks.append(stack.count)
        case .pop:
            if stack.count > floor {
                stack.removeLast()
            } else if marks.isEmpty {
                throw underflow()
            } else {
                _ = try popMark()
            }
        case .popMark:
            _ = try popMark()
        case .dup:
            try push(try top())

        // Scalars.
        case .none: try push(.none)
        case .newTrue: try push(.bool(true))
        case .newFalse: try push(.bool(false))
        case .int:
            let line = try readLine(keep: 128, &input)
            if line.text == Array("00".utf8) {
                try push(.bool(false))
            } else if line.text == Array("01".utf8) {
                try push(.bool(true))
            } else {
                try push(try integer(line, base0: true))
            }
        case .long:
            var line = try readLine(keep: 128, &input)
            if line.last == UInt8(ascii: "L") {
                if line.length <= Int64(line.text.count) { line.text.removeLast() }
                line.length -= 1
            }
            try push(try integer(line, base0: true))
        case .binInt:
            try push(.int(Int64(Int32(truncatingIfNeeded: try readUInt(4, &input)))))
        case .binInt1:
            try push(.int(Int64(try read(1, &input)[0])))
        case .binInt2:
            try push(.int(Int64(try readUInt(2, &input))))
        case .long1:
            try push(try binaryLong(Int64(try read(1, &input)[0]), &input))
        case .long4:
            let count = Int64(Int32(truncatingIfNeeded: try readUInt(4, &input)))
            guard count >= 0 else { throw malformed("LONG4 has a negative byte count") }
            try push(try binaryLong(count, &input))
        case .float:
            let line = try readLine(keep: 512, &input)
            guard line.length <= 512, PickleText.isFloat(line.text[...]) else {
                throw malformed("FLOAT argument is not a number")
            }
            try push(.float)
        case .binFloat:
            _ = try read(8, &input)
            try push(.float)

        // Strings and bytes.
        case .string:
            let line = try readLine(keep: Self.keepStringBytes + 2, &input)
            guard line.length >= 2, let first = line.text.first, first == line.last,
                  first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") else {
                throw malformed("the STRING opcode argument must be quoted")
            }
            if line.length > Int64(line.text.count) {
                try push(.longString(line.length))
            } else {
                guard let bytes = PickleText.decodeQuotedString(line.text) else {
                    throw malformed("STRING has an invalid escape")
                }
                try push(.string(bytes.withUnsafeBytes { PickleText.latin1($0) }))
            }
        case .binString:
            let count = Int64(Int32(truncatingIfNeeded: try readUInt(4, &input)))
            guard count >= 0 else { throw malformed("BINSTRING pickle has negative byte count") }
            try push(try readString(count, &input, latin1: true))
        case .shortBinString:
            try push(try readString(Int64(try read(1, &input)[0]), &input, latin1: true))
        case .unicode:
            let line = try readLine(keep: Self.keepStringBytes, &input)
            if line.length > Int64(line.text.count) {
                try push(.longString(line.length))
            } else {
                guard let text = PickleText.decodeRawUnicodeEscape(line.text) else {
                    throw malformed("UNICODE has a truncated \\u escape")
                }
                try push(.string(text))
            }
        case .binUnicode:
            try push(try readString(Int64(try readUInt(4, &input)), &input))
        case .shortBinUnicode:
            try push(try readString(Int64(try read(1, &input)[0]), &input))
        case .binUnicode8:
            try push(try readString(try length8(&input), &input))
        case .binBytes:
            let count = Int64(try readUInt(4, &input))
            try skipPayload(count, &input)
            try push(.bytes(count))
        case .shortBinBytes:
            let count = Int64(try read(1, &input)[0])
            try skipPayload(count, &input)
            try push(.bytes(count))
        case .binBytes8, .byteArray8:
            let count = try length8(&input)
            try skipPayload(count, &input)
            try push(.bytes(count))
        case .nextBuffer:
            throw malformed("the stream refers to out-of-band buffers, which no model loader passes")
        case .readonlyBuffer:
            _ = try top()

        // Containers.
        case .emptyTuple: try push(container(.tuple))
        case .tuple: try push(container(.tuple, items: try popMark()))
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            guard stack.count - floor >= count else { throw underflow() }
            // The slice ends with this statement, so that `removeLast` finds the
            // stack's buffer unshared and does not copy it.
            let value = container(.tuple, items: stack[(stack.count - count)...])
            stack.removeLast(count)
            try push(value)
        case .emptyList: try push(container(.list))
        case .list: try push(container(.list, items: try popMark()))
        case .emptyDict: try push(container(.dict))
        case .dict:
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("DICT has an odd number of items") }
            let value = container(.dict)
            try setItems(items, into: value)
            try push(value)
        case .emptySet: try push(container(.set))
        case .frozenSet: try push(container(.frozenset, items: try popMark()))
        case .append:
            let value = try pop()
            try add(items: CollectionOfOne(value), to: try top())
        case .appends:
            let items = try popMark()
            try add(items: items, to: try top())
        case .addItems:
            let items = try popMark()
            try add(items: items, to: try top(), set: true)
        case .setItem:
            let value = try pop()
            let key = try pop()
            try setItems([key, value], into: try top())
        case .setItems:
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("SETITEMS has an odd number of items") }
            try setItems(items, into: try top())

        // Memo.
        case .put:
            let line = try readLine(keep: 64, &input)
            guard case .small(let index)? = PickleText.parseDecimal(line.text[...]), line.length <= 64 else {
                throw malformed("PUT argument is not an index")
            }
            guard index >= 0 else { throw malformed("negative PUT argument") }
            try memoize(index, try top())
        case .binPut:
            try memoize(Int64(try read(1, &input)[0]), try top())
        case .longBinPut:
            try memoize(Int64(try readUInt(4, &input)), try top())
        case .memoize:
            try memoize(Int64(memo.count), try top())
        case .get:
            let line = try readLine(keep: 64, &input)
            guard case .small(let index)? = PickleText.parseDecimal(line.text[...]), line.length <= 64 else {
                throw malformed("GET argument is not an index")
            }
            try push(try recall(index))
        case .binGet:
            try push(try recall(Int64(try read(1, &input)[0])))
        case .longBinGet:
            try push(try recall(Int64(try readUInt(4, &input))))

        // Globals, calls and objects.
        case .global:
            let module = try readLine(keep: Self.keepStringBytes, &input)
            let name = try readLine(keep: Self.keepStringBytes, &input)
            try push(.global(resolve(module: module, name: name, log: &log)))
        case .stackGlobal:
            let name = try pop()
            let module = try pop()
            try push(try stackGlobal(module: module, name: name, log: &log))
        case .inst:
            let module = try readLine(keep: Self.keepStringBytes, &input)
            let name = try readLine(keep: Self.keepStringBytes, &input)
            let global = resolve(module: module, name: name, log: &log)
            let args = try popMark()
            try push(instantiate(global, args: args))
        case .obj:
            let items = try popMark()
            guard let callee = items.first else { throw malformed("OBJ has no class after its MARK") }
            try push(try construct(callee, log: &log))
        case .ext1, .ext2, .ext4:
            let width = opcode == .ext1 ? 1 : opcode == .ext2 ? 2 : 4
            let code = Int64(Int32(truncatingIfNeeded: try readUInt(width, &input)))
            guard code > 0 else { throw malformed("EXT specifies code <= 0") }
            noteGlobal()
            log.add(finding("extension-code", .unsafe,
                            "\(opcode.name) \(code) imports whatever the loading process registered under extension code \(code) with copyreg.add_extension; the file cannot say what that is",
                            global: "copyreg.extension.\(code)"))
            try push(.unknown)
        case .reduce:
            let args = try pop()
            let callee = try pop()
            try push(try call(callee, args: args, log: &log))
        case .newObj:
            let args = try pop()
            let cls = try pop()
            try push(try newObject(cls, args: args, log: &log))
        case .newObjEx:
            _ = try pop()  // kwargs
            let args = try pop()
            let cls = try pop()
            try push(try newObject(cls, args: args, log: &log))
        case .build:
            let state = try pop()
            let target = try top()
            try build(target, state: state, log: &log, input: &input)
        case .persID:
            let line = try readLine(keep: Self.keepStringBytes, &input)
            _ = line
            try push(.persistent)
        case .binPersID:
            let pid = try pop()
            notePersistentID(pid)
            try push(.persistent)
        }
        return nil
    }

    /// An 8-byte length that must fit a signed 64-bit size.
    private mutating func length8<Input: PickleInput>(_ input: inout Input) throws(PickleFault) -> Int64 {
        let count = try readUInt(8, &input)
        guard count <= UInt64(Int64.max) else { throw malformed("\(opcode.name) length \(count) is too large") }
        return Int64(count)
    }

    private func integer(_ line: (text: [UInt8], length: Int64, last: UInt8?), base0: Bool)
        throws(PickleFault) -> PickleValue {
        if line.length > Int64(line.text.count) {
            // More than 128 digits: a big integer; check that it is digits only.
            return .bigInt
        }
        switch PickleText.parseDecimal(line.text[...], base0: base0) {
        case .small(let value)?: return .int(value)
        case .big?: return .bigInt
        case nil: throw malformed("\(opcode.name) argument is not an integer")
        }
    }

    /// LONG1/LONG4: a little-endian two's-complement integer of `count` bytes.
    private mutating func binaryLong<Input: PickleInput>(_ count: Int64, _ input: inout Input)
        throws(PickleFault) -> PickleValue {
        guard count <= 8 else {
            try skipPayload(count, &input)
            return .bigInt
        }
        guard count > 0 else { return .int(0) }
        let bytes = try read(Int(count), &input)
        var value: UInt64 = 0
        for index in stride(from: Int(count) - 1, through: 0, by: -1) {
            value = value << 8 | UInt64(bytes[index])
        }
        let shift = UInt64(64 - 8 * count)
        return .int(Int64(bitPattern: value << shift) >> Int64(shift))
    }

    /// APPEND, APPENDS and ADDITEMS: Python calls the target's `append`/`extend`/`add`.
    private mutating func add<Items: Collection<PickleValue>>(items: Items, to target: PickleValue,
                                                              set: Bool = false) throws(PickleFault) {
        switch target {
        case .container(let box) where set ? box.kind == .set : box.kind == .list:
            for item in items { _ = box.append(item, cap: retainCap) }
        case .object, .persistent, .unknown:
            // A list or set subclass built by NEWOBJ: its own append runs, which
            // the policy allowed with the class.
            break
        case .global(let global):
            throw malformed("\(opcode.name) on \(global.qualified) itself calls a method of a class or function, not of an object")
        default:
            throw malformed("\(opcode.name) on a \(target.typeName), which has no \(set ? "add" : "append")")
        }
    }

    /// SETITEM(S) and DICT: Python calls the target's `__setitem__`.
    private mutating func setItems(_ items: ArraySlice<PickleValue>, into target: PickleValue) throws(PickleFault) {
        switch target {
        case .container(let box) where box.kind == .dict:
            var index = items.startIndex
            while index < items.endIndex {
                _ = box.set(key: items[index], value: items[index + 1], cap: retainCap)
                index += 2
            }
        case .object, .persistent, .unknown:
            break
        case .global(let global):
            throw malformed("\(opcode.name) on \(global.qualified) itself sets an item on a class or function")
        default:
            throw malformed("\(opcode.name) on a \(target.typeName), which has no items to set")
        }
    }
}
