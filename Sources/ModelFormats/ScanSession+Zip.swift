// Zip archives: PyTorch's `.pt`, Keras 3's `.keras`, numpy's `.npz`, and any
// other zip. Every member is read as PyTorch's loader reads it (central directory
// name, data after the local header) and scanned by content, whatever its name.

/// What kind of zip an archive is, decided by its member names.
struct ZipLayout {
    enum Kind { case pytorch, keras, plain }

    let kind: Kind
    /// PyTorch's top folder (`archive` by default, any name allowed).
    let top: String?

    init(_ entries: [ZipEntry]) {
        // PyTorch's reader takes the folder of the first member as the archive name
        // and looks up `<name>/data.pkl`.
        if let first = entries.first?.name, let slash = first.firstIndex(of: "/") {
            let top = String(first[..<slash])
            if entries.contains(where: { $0.name == top + "/data.pkl" }) {
                kind = .pytorch
                self.top = top
                return
            }
        }
        let names = Set(entries.map(\.name))
        kind = names.contains("config.json") && names.contains("metadata.json") ? .keras : .plain
        top = nil
    }

    var format: ModelFormat {
        switch kind {
        case .pytorch: .pytorchZip
        case .keras: .kerasZip
        case .plain: .zip
        }
    }

    /// Tensor storages: PyTorch reads them as raw bytes by offset.
    func isTensorData(_ name: String) -> Bool {
        guard kind == .pytorch, let top else { return false }
        return name.hasPrefix(top + "/data/")
    }

    func isKerasConfig(_ name: String) -> Bool {
        kind == .keras && name == "config.json"
    }
}

extension ScanSession {
    /// Members up to this size have their CRC checked when stored; larger stored
    /// members are checked only where the scan reads them anyway, so that a
    /// gigabyte of tensor bytes is never read for a checksum.
    static let storedCRCLimit: Int64 = 16 << 20
    /// The most a Keras `config.json` may expand to.
    static let configLimit: Int64 = 64 << 20

    mutating func scanZip(_ bytes: UnsafeRawBufferPointer, prefix: String?, depth: Int,
                          log: inout FindingLog) -> Detected {
        guard depth < limits.maxArchiveDepth else {
            _ = tooDeep(prefix, log: &log)
            return Detected(.zip)
        }
        let archive = ZipArchive(bytes, member: prefix, limits: limits, release: release)
        log.add(contentsOf: archive.findings)
        let layout = ZipLayout(archive.entries)
        for entry in archive.entries where !entry.isDirectory {
            scanEntry(entry, in: bytes, layout: layout, prefix: prefix, depth: depth, log: &log)
            let end = entry.dataOffset + entry.compressedSize
            if entry.localHeaderOffset >= 0, entry.localHeaderOffset <= end, end <= Int64(bytes.count) {
                release(UnsafeRawBufferPointer(rebasing: bytes[Int(entry.localHeaderOffset)..<Int(end)]))
            }
        }
        return Detected(layout.format)
    }

    private mutating func scanEntry(_ entry: ZipEntry, in bytes: UnsafeRawBufferPointer, layout: ZipLayout,
                                    prefix: String?, depth: Int, log: inout FindingLog) {
        let path = ZipArchive.join(prefix, entry.name)
        let end = entry.dataOffset + entry.compressedSize
        guard entry.dataOffset >= 0, end <= Int64(bytes.count) else { return }  // reported as truncated
        let data = UnsafeRawBufferPointer(rebasing: bytes[Int(entry.dataOffset)..<Int(end)])
        let role: ScanRole = layout.isTensorData(entry.name) ? .tensorData : .member
        func note(_ kind: String, _ message: String) {
            log.add(Finding(kind: kind, verdict: .invalid, message: message,
                            offset: entry.localHeaderOffset, member: path))
        }
        switch entry.method {
        case 0:
            if role != .tensorData && entry.compressedSize <= Self.storedCRCLimit {
                let crc = Self.crc32(data)
                if crc != entry.crc {
                    note("zip-crc", "member \(entry.name) has CRC 0x\(String(crc, radix: 16)) but declares 0x\(String(entry.crc, radix: 16)); PyTorch's loader reads it anyway")
                }
            }
            if layout.isKerasConfig(entry.name) {
                log.add(contentsOf: KerasConfigScanner.scan(json: data, member: path, policy: policy))
            } else {
                _ = scan(data, member: path, depth: depth + 1, log: &log, role: role)
            }
        case 8:
            let declared = entry.uncompressedSize
            let ratio = Double(declared) / Double(max(entry.compressedSize, 1))
            if declared >= limits.bombMinimumSize && ratio > limits.maxCompressionRatio {
                note("zip-bomb", "member \(entry.name) declares \(declared) bytes from \(entry.compressedSize) compressed (ratio \(Int(ratio)):1, over \(Int(limits.maxCompressionRatio)):1); not inflated")
                return
            }
            guard declared <= limits.maxDecompressedSize else {
                note("limit-exceeded", "member \(entry.name) declares \(declared) bytes, more than the \(limits.maxDecompressedSize)-byte limit; not inflated")
                return
            }
            let inflater = ZipInflater(source: data, wrapper: .raw, maxOutput: declared)
            var input = InflateInput(inflater)
            if layout.isKerasConfig(entry.name), declared <= Self.configLimit {
                var json: [UInt8] = []
                while true {
                    let chunk = input.peekAvailable(ZipInflater.windowSize)
                    if chunk.isEmpty { break }
                    json.append(contentsOf: chunk)
                    input.advance(chunk.count)
                }
                if inflater.error == nil {
                    log.add(contentsOf: json.withUnsafeBytes {
                        KerasConfigScanner.scan(json: $0, member: path, policy: policy)
                    })
                }
            } else {
                _ = scanStream(&input, member: path, depth: depth + 1, log: &log, role: role)
            }
            input.drain()
            if let error = inflater.error {
                if inflater.totalOut > declared {
                    note("zip-size-mismatch", "member \(entry.name) expands past its declared \(declared) bytes (a zip bomb or a lying header)")
                } else {
                    note("zip-corrupt", "member \(entry.name): \(error)")
                }
            } else if inflater.totalOut != declared {
                note("zip-size-mismatch", "member \(entry.name) expands to \(inflater.totalOut) bytes but declares \(declared)")
            } else if UInt32(truncatingIfNeeded: inflater.crc) != entry.crc {
                note("zip-crc", "member \(entry.name) has CRC 0x\(String(UInt32(truncatingIfNeeded: inflater.crc), radix: 16)) but declares 0x\(String(entry.crc, radix: 16)); PyTorch's loader reads it anyway")
            }
        default:
            return  // reported as zip-method
        }
    }

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ZipInflater.crc32(bytes)
    }
}
