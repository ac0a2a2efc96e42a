import Foundation

extension Scanner {
    /// What a file name's extension claims, in words.
    static let claimedFormats: [String: String] = [
        "pkl": "a pickle or joblib file", "pickle": "a pickle or joblib file", "joblib": "a pickle or joblib file",
        "pt": "a PyTorch file", "pth": "a PyTorch file", "ckpt": "a PyTorch file",
        "npy": "a NumPy array", "npz": "a NumPy archive", "h5": "a Keras HDF5 file", "hdf5": "a Keras HDF5 file",
        "keras": "a Keras archive", "onnx": "an ONNX model", "safetensors": "a safetensors file", "zip": "a zip archive",
    ]

    /// An `invalid` finding for a file whose name claims a model format (`.pkl`, `.pt`,
    /// `.onnx`, …) but whose bytes are of no format the scanner knows: an empty `.pkl`,
    /// a PNG named `.pt`. Such a file is not "some other file beside the models": it was
    /// meant to be a model and is broken or mislabelled, so it fails the scan. `.bin`
    /// claims nothing: ONNX keeps external tensor data in `.bin` files of raw bytes.
    static func unmetNameClaim(path: String, bytes: UnsafeRawBufferPointer) -> Finding? {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let claim = claimedFormats[ext] else { return nil }
        return Finding(kind: "not-the-named-format", verdict: .invalid,
                       message: "the name ends in .\(ext) (\(claim)) but \(describe(bytes))")
    }

    /// What bytes of no model format look like, for a message: "the file is empty",
    /// "the bytes are a PNG image", or their first bytes in hex.
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        guard !bytes.isEmpty else { return "the file is empty" }
        let head = Array(bytes.prefix(16))
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        if head.count >= 2, head[0] == 0x80, head[1] > 5 {
            return "the bytes are a pickle header with protocol \(head[1]), which no Python writes (0 to 5)"
        }
        let known: [([UInt8], String)] = [
            ([0x89, 0x50, 0x4E, 0x47], "a PNG image"), ([0xFF, 0xD8, 0xFF], "a JPEG image"),
            (Array("GIF8".utf8), "a GIF image"), (Array("%PDF".utf8), "a PDF document"),
            ([0x1F, 0x8B], "gzip data"), ([0x7F, 0x45, 0x4C, 0x46], "an ELF executable"),
            ([0x42, 0x5A, 0x68], "bzip2 data"), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz data"),
        ]
        if let (_, name) = known.first(where: { starts($0.0) }) { return "the bytes are \(name)" }
        let sample = bytes.prefix(512)
        if sample.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) || $0 >= 0x80 }),
           String(validating: Array(sample), as: UTF8.self) != nil || sample.count == 512 {
            return "the bytes are text"
        }
        let hex = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "the bytes are of no model format (they start \(hex))"
    }
}
