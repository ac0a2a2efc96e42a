import Foundation

/// What a scan found a file, member or stream to be.
struct Detected {
    var format: ModelFormat
    var signature: ModelSignature?

    init(_ format: ModelFormat, signature: ModelSignature? = nil) {
        self.format = format
        self.signature = signature
    }
}

/// How the bytes being scanned were reached, which decides what "not recognised"
/// means: a file of unknown format is `unknown`; an archive member that is not a
/// model (a `version` text, a JSON file) is simply not scanned further; tensor data
/// is only scanned when it starts like a pickle.
enum ScanRole {
    case file
    case member
    case tensorData
}

/// What the first bytes of a region say it is.
enum Sniffed: Equatable {
    case zip, npy, tar, gzip, zlib, hdf5, pickle, other
    case unsupportedCompression(String)

    /// How many leading bytes sniffing looks at.
    static let headLength = 512

    static func of(_ head: UnsafeRawBufferPointer) -> Sniffed {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count
                && head[offset..<(offset + prefix.count)].elementsEqual(prefix)
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return .zip }
        if starts(NpyHeader.magic) { return .npy }
        if starts(KerasH5Reader.signature) { return .hdf5 }
        if starts(Array("ustar".utf8), at: 257) { return .tar }
        if starts([0x1F, 0x8B]) { return .gzip }
        // zlib with a 32 KiB window, as zlib.compress and joblib write it; 0x78 is
        // no pickle opcode, where looser zlib headers collide with protocol 0 text.
        if head.count >= 2, head[0] == 0x78, (UInt16(head[0]) << 8 | UInt16(head[1])) % 31 == 0,
           head[1] & 0x20 == 0 { return .zlib }
        if starts(Array("BZh".utf8)) { return .unsupportedCompression("bzip2") }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .unsupportedCompression("xz") }
        if starts([0x5D, 0x00, 0x00]) { return .unsupportedCompression("lzma") }
        if starts([0x04, 0x22, 0x4D, 0x18]) { return .unsupportedCompression("lz4") }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .unsupportedCompression("zstd") }
        if head.count >= 2, head[0] == PickleOpcode.proto.rawValue, head[1] <= 5 { return .pickle }
        return .other
    }
}

/// One file's scan: format dispatch by bytes, and recursion into archives and
/// compressed streams with the member path of everything found inside.
struct ScanSession {
    let scanner: Scanner
    /// The scanned file's path; ONNX external data and HDF5 are read relative to it.
    let rootPath: String
    /// The whole file when it is memory-mapped, so that archive members can hand their
    /// pages back once scanned (`MappedFile.release`); empty for bytes in memory.
    let mapping: UnsafeRawBufferPointer

    var policy: ScanPolicy { scanner.policy }
    var limits: ScanLimits { scanner.limits }

    init(scanner: Scanner, rootPath: String, mapping: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.scanner = scanner
        self.rootPath = rootPath
        self.mapping = mapping
    }

    /// Unmaps the pages of a member that has been scanned, if they are the file's own.
    func release(_ region: UnsafeRawBufferPointer) {
        MappedFile.release(region, in: mapping)
    }

    func context(_ member: String?) -> PickleContext {
        PickleContext(policy: policy, limits: limits, member: member)
    }

    /// Scans bytes that are all in memory (the mapped file, or a stored member).
    mutating func scan(_ bytes: UnsafeRawBufferPointer, member: String?, depth: Int,
                       log: inout FindingLog, role: ScanRole = .file) -> Detected {
        let head = UnsafeRawBufferPointer(rebasing: bytes.prefix(Sniffed.headLength))
        if role == .tensorData {
            // Tensor bytes are read by offset, never unpickled; only a member that
            // starts as a pickle would is looked at, and only if it parses as one.
            guard Sniffed.of(head) == .pickle else { return Detected(.unknown) }
            var input = BufferInput(bytes)
            let summary = PickleScan.scan(&input, context: context(member), log: &log, sniff: true)
            return Detected(summary.isPickle ? .pickle : .unknown)
        }
        switch Sniffed.of(head) {
        case .zip:
            return scanZip(bytes, prefix: member, depth: depth, log: &log)
        case .npy:
            var input = BufferInput(bytes)
            return scanNpy(&input, member: member, log: &log)
        case .tar:
            return scanTar(bytes, prefix: member, depth: depth, log: &log)
        case .gzip, .zlib:
            guard depth < limits.maxArchiveDepth else { return tooDeep(member, log: &log) }
            let inflater = ZipInflater(source: bytes, wrapper: .zlibOrGzip, maxOutput: limits.maxDecompressedSize)
            var input = InflateInput(inflater)
            var found = scanStream(&input, member: member, depth: depth + 1, log: &log, role: role)
            if let error = inflater.error {
                log.add(Finding(kind: "compressed-stream", verdict: .invalid,
                                message: "the compressed stream \(error)", offset: input.offset, member: member))
            }
            if found.format == .pickle && Sniffed.of(head) == .zlib { found.format = .joblib }
            return found
        case .unsupportedCompression(let name):
            if role == .file {
                log.add(Finding(kind: "unsupported-compression", verdict: .invalid,
                                message: "the file is \(name)-compressed (joblib writes such files); the scanner cannot read inside it",
                                member: member))
            }
            return Detected(.unknown)
        case .hdf5:
            // A `.keras` archive's `model.weights.h5` holds weights only and Keras
            // never reads a config from it; only a whole .h5 file is a Keras model.
            guard role == .file else { return Detected(.kerasH5) }
            log.add(contentsOf: KerasH5Reader.inspect(path: rootPath, policy: policy))
            return Detected(.kerasH5)
        case .pickle:
            var input = BufferInput(bytes)
            return pickleFormat(PickleScan.scan(&input, context: context(member), log: &log, sniff: false))
        case .other:
            if SafetensorsReader.looksLike(bytes) {
                log.add(contentsOf: SafetensorsReader.inspect(bytes).map { placed($0, member) })
                return Detected(.safetensors)
            }
            if KerasH5Reader.looksLike(bytes) {
                if role == .file { log.add(contentsOf: KerasH5Reader.inspect(path: rootPath, policy: policy)) }
                return Detected(.kerasH5)
            }
            if ONNXReader.looksLike(bytes) {
                let result = ONNXReader.inspect(bytes, modelPath: rootPath)
                log.add(contentsOf: result.findings.map { placed($0, member) })
                return Detected(.onnx, signature: result.signature)
            }
            var input = BufferInput(bytes)
            let summary = PickleScan.scan(&input, context: context(member), log: &log, sniff: true)
            return summary.isPickle ? pickleFormat(summary) : Detected(.unknown)
        }
    }

    /// Scans a stream that can only be read forward (a deflated member, a gzip or
    /// zlib file): pickles and `.npy` are scanned as they stream; anything that
    /// needs random access is inflated into an unlinked temporary file first.
    mutating func scanStream(_ input: inout InflateInput, member: String?, depth: Int,
                             log: inout FindingLog, role: ScanRole) -> Detected {
        let head = input.peekAvailable(Sniffed.headLength)
        let sniffed = Sniffed.of(head)
        var detected = Detected(.unknown)
        switch sniffed {
        case .pickle:
            detected = pickleFormat(PickleScan.scan(&input, context: context(member), log: &log, sniff: false))
        case .npy:
            detected = scanNpy(&input, member: member, log: &log)
        case .zip, .tar, .gzip, .zlib, .hdf5:
            if role == .tensorData { break }
            detected = materialized(&input, member: member, depth: depth, log: &log, role: role)
        case .unsupportedCompression(let name):
            if role == .file {
                log.add(Finding(kind: "unsupported-compression", verdict: .invalid,
                                message: "the stream is \(name)-compressed inside; the scanner cannot read it",
                                member: member))
            }
        case .other:
            if role == .tensorData { break }
            if SafetensorsReader.looksLike(head) || (role == .file && !head.isEmpty && !Self.mayBePickle(head)) {
                detected = materialized(&input, member: member, depth: depth, log: &log, role: role)
            } else {
                let summary = PickleScan.scan(&input, context: context(member), log: &log, sniff: true)
                if summary.isPickle {
                    detected = pickleFormat(summary)
                } else if role == .file {
                    detected = Detected(.unknown)
                }
            }
        }
        input.drain()
        return detected
    }

    /// Whether a first byte could start a pickle at all.
    static func mayBePickle(_ head: UnsafeRawBufferPointer) -> Bool {
        guard let first = head.first else { return false }
        return PickleOpcode(rawValue: first) != nil
    }

    /// Inflates the rest of a stream into an unlinked temporary file, maps it and
    /// scans it as bytes. Bounded by `maxDecompressedSize`.
    private mutating func materialized(_ input: inout InflateInput, member: String?, depth: Int,
                                       log: inout FindingLog, role: ScanRole) -> Detected {
        guard let file = MappedFile.temporary(from: &input) else {
            log.add(Finding(kind: "unreadable", verdict: .invalid,
                            message: "could not inflate the member into a temporary file\(input.failure.map { ": \($0)" } ?? "")",
                            member: member))
            return Detected(.unknown)
        }
        if input.failure != nil { return Detected(.unknown) }
        return scan(file.bytes, member: member, depth: depth, log: &log, role: role == .file ? .member : role)
    }

    /// `.npy`: a header, then raw data (plain dtypes) or a pickle (object dtypes).
    mutating func scanNpy<Input: PickleInput>(_ input: inout Input, member: String?, log: inout FindingLog) -> Detected {
        func invalid(_ message: String) -> Detected {
            log.add(Finding(kind: "invalid-npy", verdict: .invalid, message: message, offset: input.offset, member: member))
            return Detected(.numpy)
        }
        let prefix = input.peekAvailable(12)
        let header: NpyHeader
        switch NpyHeader.headerLength(prefix) {
        case .failure(let error): return invalid(error.message)
        case .success(let (start, length)):
            guard length <= NpyHeader.maxHeaderLength else {
                return invalid("the .npy header is \(length) bytes, more than \(NpyHeader.maxHeaderLength)")
            }
            guard let all = input.peek(start + length) else { return invalid("the .npy header is cut short") }
            switch NpyHeader.parse(text: UnsafeRawBufferPointer(rebasing: all[start...]), start: start) {
            case .failure(let error): return invalid(error.message)
            case .success(let parsed): header = parsed
            }
            input.advance(start + length)
        }
        if header.hasObject {
            let summary = PickleScan.scan(&input, context: context(member), log: &log, sniff: false)
            _ = summary
            return Detected(.numpy)
        }
        if let length = header.dataLength {
            let start = input.offset
            guard input.skip(length) else {
                return invalid("the .npy data is shorter than its shape and dtype need (\(length) bytes from offset \(start))")
            }
            if !input.isAtEnd() {
                log.add(Finding(kind: "trailing-data", verdict: .invalid,
                                message: "bytes follow the .npy array data", offset: input.offset, member: member))
            }
        }
        return Detected(.numpy)
    }

    func pickleFormat(_ summary: PickleScanSummary) -> Detected {
        Detected(summary.joblibArrays > 0 ? .joblib : .pickle)
    }

    func tooDeep(_ member: String?, log: inout FindingLog) -> Detected {
        log.add(Finding(kind: "archive-depth", verdict: .invalid,
                        message: "archives are nested more than \(limits.maxArchiveDepth) deep",
                        member: member))
        return Detected(.unknown)
    }

    /// A reader's finding with the member it came from.
    func placed(_ finding: Finding, _ member: String?) -> Finding {
        guard let member, finding.member == nil else { return finding }
        var copy = finding
        copy.member = member
        return copy
    }
}
