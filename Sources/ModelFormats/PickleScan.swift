/// What scanning one byte stream as pickles found.
struct PickleScanSummary {
    /// False when the stream turned out not to be a pickle at all (only when sniffing).
    var isPickle = true
    /// Pickles read to their STOP.
    var pickles = 0
    /// Globals named, allowed or not.
    var globals = 0
    /// joblib arrays read after a `NumpyArrayWrapper`.
    var joblibArrays = 0
    /// The stream is PyTorch's legacy (pre-zip, non-tar) format.
    var legacyTorch = false
}

/// Where a pickle stream sits and what it is checked against.
struct PickleContext {
    let policy: ScanPolicy
    let limits: ScanLimits
    /// The archive member the stream is, or nil for a plain file.
    let member: String?
}

/// Scans every pickle in a stream, one after the other, as repeated `pickle.load`
/// calls (and PyTorch's legacy loader) would read them.
enum PickleScan {
    /// `torch.save`'s legacy format starts with this pickle: protocol 2, the magic
    /// number 0x1950a86a20f9469cfc6c as LONG1, STOP.
    static let torchMagic: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
    ]

    /// Scans from `input`'s position to its end.
    ///
    /// With `sniff`, a first pickle that fails before naming any global means the
    /// stream is not a pickle (`isPickle` false, nothing logged): protocols 0 and 1
    /// have no magic number, so parsing is the only test. A later stream that fails
    /// that way is trailing data, which makes the file `invalid`.
    static func scan<Input: PickleInput>(_ input: inout Input, context: PickleContext,
                                         log: inout FindingLog, sniff: Bool) -> PickleScanSummary {
        var summary = PickleScanSummary()
        var budget = context.limits.maxOpcodes
        if let head = input.peek(torchMagic.count), head.elementsEqual(torchMagic) {
            summary.legacyTorch = true
            guard scanLegacyTorch(&input, context: context, log: &log, summary: &summary,
                                  budget: &budget) else { return summary }
        }
        while !input.isAtEnd() {
            let start = input.offset
            var trial = FindingLog(limit: context.limits.maxFindings)
            var machine = PickleMachine(policy: context.policy, limits: context.limits, member: context.member)
            machine.opcodeLimit = budget
            let outcome = machine.run(&input, log: &trial)
            budget -= machine.opcodeCount
            summary.globals += machine.globalCount
            summary.joblibArrays += machine.joblibArrays
            let first = summary.pickles == 0 && !summary.legacyTorch
            switch outcome {
            case .complete:
                summary.pickles += 1
                log.add(contentsOf: trial.findings)
            case .failed(let fault):
                if machine.globalCount == 0 && trial.findings.isEmpty {
                    if sniff && first {
                        summary.isPickle = false
                        return summary
                    }
                    if !first {
                        log.add(Finding(
                            kind: "trailing-data", verdict: .invalid,
                            message: "\(input.offset - start) bytes after the last pickle's STOP are not a pickle (\(fault.message))",
                            offset: start, member: context.member))
                        return summary
                    }
                }
                log.add(contentsOf: trial.findings)
                log.add(fault.finding(member: context.member))
                return summary
            }
        }
        if summary.pickles == 0 && !summary.legacyTorch {
            if sniff { summary.isPickle = false } else {
                log.add(Finding(kind: "truncated", verdict: .invalid, message: "the stream holds no pickle",
                                offset: input.offset, member: context.member))
            }
        }
        return summary
    }

    /// PyTorch's legacy format: five pickles (magic, protocol version, system info,
    /// the object, the sorted storage keys), then each storage as an 8-byte element
    /// count and its raw bytes, sized by the storage class its persistent id named.
    /// Returns false when it logged a fault.
    private static func scanLegacyTorch<Input: PickleInput>(
        _ input: inout Input, context: PickleContext, log: inout FindingLog,
        summary: inout PickleScanSummary, budget: inout Int) -> Bool {
        var sizes: [String: Int] = [:]
        var keys: [String] = []
        for index in 0..<5 {
            var machine = PickleMachine(policy: context.policy, limits: context.limits, member: context.member)
            machine.opcodeLimit = budget
            if index == 4 { machine.retainCap = context.limits.maxArchiveMembers }
            let outcome = machine.run(&input, log: &log, keepingResult: true)
            defer { machine.releaseAll() }
            budget -= machine.opcodeCount
            summary.globals += machine.globalCount
            switch outcome {
            case .failed(let fault):
                log.add(fault.finding(member: context.member))
                return false
            case .complete(let value):
                summary.pickles += 1
                if index == 3 { sizes = machine.storageElementSizes }
                if index == 4 {
                    var names: [String] = []
                    var complete = false
                    if case .container(let list) = value, list.kind == .list {
                        for case .string(let text) in list.items { names.append(text) }
                        complete = names.count == list.count
                    }
                    guard complete else {
                        log.add(invalid("the legacy PyTorch storage key list is not a list of strings",
                                        at: input.offset, context))
                        return false
                    }
                    keys = names
                }
            }
        }
        for key in keys {
            let start = input.offset
            guard let size = sizes[key] else {
                log.add(invalid("legacy PyTorch storage '\(key)' is not named by any storage id in the pickle",
                                at: start, context))
                return false
            }
            guard let header = input.peek(8) else {
                log.add(Finding(kind: "truncated", verdict: .invalid,
                                message: "the file ends before legacy PyTorch storage '\(key)'",
                                offset: start, member: context.member))
                return false
            }
            var count: UInt64 = 0
            for index in stride(from: 7, through: 0, by: -1) { count = count << 8 | UInt64(header[index]) }
            input.advance(8)
            let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(size))
            guard !overflow, bytes <= UInt64(Int64.max), input.skip(Int64(bytes)) else {
                log.add(Finding(kind: "truncated", verdict: .invalid,
                                message: "legacy PyTorch storage '\(key)' declares \(count) elements, more than the file holds",
                                offset: start, member: context.member))
                return false
            }
        }
        return true
    }

    static func invalid(_ message: String, at offset: Int64, _ context: PickleContext) -> Finding {
        Finding(kind: "invalid-pickle", verdict: .invalid, message: message, offset: offset,
                member: context.member)
    }
}
