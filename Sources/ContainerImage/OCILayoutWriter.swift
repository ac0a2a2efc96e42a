#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes an image as an OCI image layout folder: `oci-layout`, `index.json` (the
/// manifest once per tag, each tag in `org.opencontainers.image.ref.name`) and
/// `blobs/sha256/…` (manifest, config, every layer).
///
/// Everything is written into a temporary folder beside the destination and renamed into
/// place at the end; a destination that exists is replaced only then. A failure or an
/// interruption leaves the destination as it was (absent, or the previous layout), never
/// half a layout; the temporary folder is removed on failure. Layer blobs are hard-linked
/// from where they are (the layer cache, the base layout) when on the same file system,
/// else copied.
public struct OCILayoutWriter: Sendable {
    /// The layout folder to make.
    public let destination: String

    /// A writer of a layout at `destination`.
    public init(destination: String) {
        self.destination = destination
    }

    /// The `oci-layout` marker's content.
    static let marker = Array("{\"imageLayoutVersion\":\"1.0.0\"}".utf8)

    /// Writes `image` under `tags` (none: one untagged entry) and returns the manifest's
    /// descriptor.
    @discardableResult
    public func write(_ image: OCIImage, tags: [String]) throws(ImageError) -> Descriptor {
        let parent = FileBytes.parent(of: destination)
        try FileBytes.makeDirectories(parent)
        let temporary = try FileBytes.temporaryPath(in: parent, for: destination)
        do throws(ImageError) {
            try fill(temporary, with: image, tags: tags)
            try replace(destination, with: temporary)
        } catch {
            FileBytes.removeTree(temporary)
            throw error
        }
        return image.descriptor
    }

    private func fill(_ folder: String, with image: OCIImage, tags: [String]) throws(ImageError) {
        let blobs = folder + "/blobs/sha256"
        try FileBytes.makeDirectories(blobs)
        try FileBytes.writeAtomically(Self.marker, to: folder + "/oci-layout")
        var written: Set<String> = []
        for layer in image.layers where written.insert(layer.digest.hex).inserted {
            try FileCopy.linkOrCopy(from: layer.path, to: blobs + "/" + layer.digest.hex)
        }
        try FileBytes.writeAtomically(image.configBytes, to: blobs + "/" + image.configDigest.hex)
        try FileBytes.writeAtomically(image.manifestBytes, to: blobs + "/" + image.digest.hex)
        let index = ImageIndex(manifest: image.descriptor, tags: tags)
        try FileBytes.writeAtomically(index.canonicalJSON(), to: folder + "/index.json")
    }

    /// Renames `temporary` to `destination`, moving an existing destination aside first
    /// and removing it after.
    private func replace(_ destination: String, with temporary: String) throws(ImageError) {
        var info = stat()
        guard lstat(destination, &info) == 0 else {
            guard rename(temporary, destination) == 0 else { throw ImageError.system("rename into place", destination) }
            return
        }
        let old = try FileBytes.temporaryPath(in: FileBytes.parent(of: destination), for: destination + ".old")
        guard rename(destination, old) == 0 else { throw ImageError.system("move aside", destination) }
        guard rename(temporary, destination) == 0 else {
            let error = ImageError.system("rename into place", destination)
            rename(old, destination)
            throw error
        }
        FileBytes.removeTree(old)
    }
}
