import Canonical
import Foundation

/// A model package on disk, read and checked: a folder with `mlpipe-model.json` and the
/// model's files under `model/`.
///
/// `load(at:)` is what every reader of a package calls (containerize, register, tests):
/// it decodes the manifest, refuses a schema other than `mlpipe-model/v1`, and checks
/// that the folder holds exactly the files the manifest lists, each with its size and
/// SHA-256, so that a package changed after it was built is never shipped. `digest` is
/// the SHA-256 of the manifest's bytes: the package's one name, which covers every file.
///
/// `PackageBuilder` writes packages; this type only reads them.
public struct ModelPackage: Sendable {
    /// The manifest's file name inside a package folder.
    public static let manifestName = "mlpipe-model.json"
    /// The folder the model's files are in, inside a package.
    public static let modelFolder = "model"

    /// The package folder.
    public let root: String
    /// Its manifest.
    public let manifest: PackageManifest
    /// The SHA-256 of `mlpipe-model.json`'s bytes.
    public let digest: Digest

    init(root: String, manifest: PackageManifest, digest: Digest) {
        self.root = root
        self.manifest = manifest
        self.digest = digest
    }

    /// The main model file's path (`manifest.model` under `root`).
    public var modelPath: String { root + "/" + manifest.model }

    /// Reads the package at `root` and checks it against its manifest.
    ///
    /// Throws `corrupt` naming every file that is changed (size or SHA-256), missing, or
    /// not in the manifest (an extra file, a link, a folder where a file should be), and
    /// `notFound` when there is no package there. With `verifyingFiles: false` only the
    /// manifest is read and checked, which costs no read of the model (for a listing).
    public static func load(at root: String, verifyingFiles: Bool = true) throws(PackageError) -> ModelPackage {
        let manifestPath = root + "/" + manifestName
        let bytes: [UInt8]
        do {
            bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } catch {
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: root, isDirectory: &isFolder) || !isFolder.boolValue {
                throw PackageError(.notFound, "there is no package at \(root); name the folder a serialize stage "
                                   + "wrote (${{ stages.NAME.outputs.package }})", path: root)
            }
            throw PackageError(.corrupt, "\(root) has no readable \(manifestName), so it is not a model package; "
                               + "name the folder a serialize stage wrote", path: manifestPath)
        }
        let manifest = try PackageManifest.decode(bytes, path: manifestPath)
        let package = ModelPackage(root: root, manifest: manifest, digest: SHA256Hasher.digest(of: bytes))
        try package.checkManifestPaths()
        if verifyingFiles { try package.verifyFiles() }
        return package
    }
}
