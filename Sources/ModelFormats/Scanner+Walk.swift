import Foundation

extension Scanner {
    /// A file to scan, or a path that could not be walked and why.
    struct WalkedFile {
        let path: String
        let problem: String?
    }

    /// The files under `path` in a deterministic order: a file is itself; a folder
    /// is walked depth-first with names sorted bytewise, skipping `.git` folders and
    /// links to folders (which could loop). Links to files are scanned.
    static func files(under path: String) -> [WalkedFile] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            return [WalkedFile(path: path, problem: "does not exist")]
        }
        guard isFolder.boolValue else { return [WalkedFile(path: path, problem: nil)] }
        var result: [WalkedFile] = []
        walk(folder: path, into: &result)
        return result
    }

    private static func walk(folder: String, into result: inout [WalkedFile]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            result.append(WalkedFile(path: folder, problem: "cannot be listed: \(error.localizedDescription)"))
            return
        }
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let child = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: child),
                  let type = attributes[.type] as? FileAttributeType else {
                result.append(WalkedFile(path: child, problem: "cannot be read"))
                continue
            }
            switch type {
            case .typeDirectory:
                if name != ".git" { walk(folder: child, into: &result) }
            case .typeSymbolicLink:
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: child, isDirectory: &isFolder), !isFolder.boolValue {
                    result.append(WalkedFile(path: child, problem: nil))
                }
            case .typeRegular:
                result.append(WalkedFile(path: child, problem: nil))
            default:
                break  // sockets, FIFOs and devices are not model files
            }
        }
    }

    /// Formats a file name's extension promises.
    static let extensionFormats: [String: Set<ModelFormat>] = [
        "pkl": [.pickle, .joblib], "pickle": [.pickle, .joblib], "joblib": [.joblib, .pickle],
        "pt": [.pytorchZip, .pytorchTar, .pickle], "pth": [.pytorchZip, .pytorchTar, .pickle],
        "ckpt": [.pytorchZip, .pytorchTar, .pickle], "npy": [.numpy], "npz": [.zip],
        "h5": [.kerasH5], "hdf5": [.kerasH5], "keras": [.kerasZip], "onnx": [.onnx],
        "safetensors": [.safetensors], "zip": [.zip, .pytorchZip, .kerasZip],
    ]

    /// A note when the bytes are not what the name says: a pickle saved as
    /// `model.onnx` is scanned as the pickle it is, and the report says so.
    static func extensionMismatch(path: String, format: ModelFormat) -> Finding? {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let expected = extensionFormats[ext], format != .unknown, !expected.contains(format) else {
            return nil
        }
        return Finding(kind: "extension-mismatch", verdict: .safe,
                       message: "the name ends in .\(ext) but the bytes are \(format.rawValue); scanned as \(format.rawValue)")
    }
}
