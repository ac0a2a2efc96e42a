// Tar archives, and PyTorch's legacy tar layout (torch.save before 0.4 wrote
// `sys_info`, `pickle`, `storages` and `tensors` members), whose `storages` and
// `tensors` interleave pickles with raw bytes.

extension ScanSession {
    mutating func scanTar(_ bytes: UnsafeRawBufferPointer, prefix: String?, depth: Int,
                          log: inout FindingLog) -> Detected {
        guard depth < limits.maxArchiveDepth else {
            _ = tooDeep(prefix, log: &log)
            return Detected(.unknown)
        }
        let archive = TarArchive(bytes, member: prefix, limits: limits)
        log.add(contentsOf: archive.findings)
        let names = Set(archive.entries.map(\.name))
        let torch = names.contains("pickle") && names.contains("storages")
        for entry in archive.entries where entry.isFile {
            let data = UnsafeRawBufferPointer(rebasing: bytes[Int(entry.dataOffset)..<Int(entry.dataOffset + entry.size)])
            let path = ZipArchive.join(prefix, entry.name)
            var input = BufferInput(data)
            switch (torch, entry.name) {
            case (true, "storages"):
                scanTorchStorages(&input, member: path, log: &log)
            case (true, "tensors"):
                scanTorchTensors(&input, member: path, log: &log)
            case (true, "pickle"), (true, "sys_info"):
                _ = PickleScan.scan(&input, context: context(path), log: &log, sniff: false)
            default:
                _ = scan(data, member: path, depth: depth + 1, log: &log, role: .member)
            }
            release(data)
        }
        return Detected(torch ? .pytorchTar : .unknown)
    }

    /// `storages`: a pickled count, then per storage a pickled
    /// `(key, location, storage_type)`, an 8-byte element count and the raw bytes,
    /// then a pickled list of views.
    private mutating func scanTorchStorages(_ input: inout BufferInput, member: String, log: inout FindingLog) {
        guard let count = pickledCount(&input, member: member, log: &log) else {
            return invalid("the legacy storages member does not start with a pickled count", input, member, &log)
        }
        for index in 0..<max(0, count) {
            let elementSize = onePickle(&input, member: member, log: &log) { value -> Int? in
                guard case .container(let tuple) = value, tuple.kind == .tuple, tuple.items.count == 3,
                      case .global(let type) = tuple.items[2] else { return nil }
                return PickleMachine.torchElementSize(storageType: type.name)
            }
            guard let size = elementSize else {
                return invalid("legacy storage \(index) is not described by (key, location, storage type)",
                               input, member, &log)
            }
            guard skipStorage(&input, elementSize: size) else {
                return invalid("legacy storage \(index) is cut short", input, member, &log)
            }
        }
        guard onePickle(&input, member: member, log: &log) else { return }
        if !input.isAtEnd() {
            invalid("bytes follow the legacy storage views", input, member, &log)
        }
    }

    /// `tensors`: a pickled count, then per tensor a pickled key, a pickled storage
    /// id, and fixed-size metadata (ndim, padding, sizes, strides, offset).
    private mutating func scanTorchTensors(_ input: inout BufferInput, member: String, log: inout FindingLog) {
        guard let count = pickledCount(&input, member: member, log: &log) else {
            return invalid("the legacy tensors member does not start with a pickled count", input, member, &log)
        }
        for index in 0..<max(0, count) {
            guard onePickle(&input, member: member, log: &log),
                  onePickle(&input, member: member, log: &log) else { return }
            guard let header = input.peek(8) else {
                return invalid("legacy tensor \(index) is cut short", input, member, &log)
            }
            let dimensions = Int64(Int32(bitPattern: UInt32(header[0]) | UInt32(header[1]) << 8
                                                        | UInt32(header[2]) << 16 | UInt32(header[3]) << 24))
            guard dimensions >= 0, input.skip(8 + 16 * dimensions + 8) else {
                return invalid("legacy tensor \(index) has unreadable metadata", input, member, &log)
            }
        }
        if !input.isAtEnd() {
            invalid("bytes follow the legacy tensor records", input, member, &log)
        }
    }

    /// One pickle, to its STOP, and what `read` takes from its value; nil (with
    /// the fault logged) when it fails.
    private mutating func onePickle<T>(_ input: inout BufferInput, member: String, log: inout FindingLog,
                                       _ read: (PickleValue) -> T?) -> T? {
        var machine = PickleMachine(policy: policy, limits: limits, member: member)
        defer { machine.releaseAll() }
        switch machine.run(&input, log: &log, keepingResult: true) {
        case .complete(let value): return read(value)
        case .failed(let fault):
            log.add(fault.finding(member: member))
            return nil
        }
    }

    private mutating func onePickle(_ input: inout BufferInput, member: String, log: inout FindingLog) -> Bool {
        onePickle(&input, member: member, log: &log) { _ in true } ?? false
    }

    private mutating func pickledCount(_ input: inout BufferInput, member: String, log: inout FindingLog) -> Int64? {
        onePickle(&input, member: member, log: &log) { value in
            if case .int(let count) = value { return count }
            return nil
        }
    }

    private func skipStorage(_ input: inout BufferInput, elementSize: Int) -> Bool {
        guard let header = input.peek(8) else { return false }
        var count: UInt64 = 0
        for index in stride(from: 7, through: 0, by: -1) { count = count << 8 | UInt64(header[index]) }
        input.advance(8)
        let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(elementSize))
        return !overflow && bytes <= UInt64(Int64.max) && input.skip(Int64(bytes))
    }

    private func invalid(_ message: String, _ input: BufferInput, _ member: String, _ log: inout FindingLog) {
        log.add(Finding(kind: "invalid-pickle", verdict: .invalid, message: message, offset: input.offset,
                        member: member))
    }
}
