import Foundation

/// A temporary folder beside a package's destination, where the package is assembled
/// and then renamed into place: a reader sees the old package or the new one, never
/// half of one, and a failed build leaves nothing behind.
///
/// It sits in the destination's own folder (a dot-name), so that the rename stays on one
/// file system. A destination that exists is first renamed aside, then removed once the
/// new package is in place.
struct Staging {
    /// The temporary folder.
    let path: String
    private let parent: String
    private let base: String

    /// Creates the temporary folder (and the destination's parent folders).
    init(beside destination: String) throws(PackageError) {
        parent = (destination as NSString).deletingLastPathComponent
        base = (destination as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent.isEmpty ? "." : parent,
                                                    withIntermediateDirectories: true)
        } catch {
            throw PackageError(.io, "cannot create the folder \(parent) for the package: \(error.localizedDescription)",
                               path: parent)
        }
        var template = Array((Self.sibling(parent, "." + base + ".tmp-XXXXXX")).utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { throw PackageError.system("create a temporary folder beside", destination) }
        path = made
    }

    /// Moves the assembled package to `destination`, replacing what is there.
    func commit(to destination: String) throws(PackageError) {
        var aside: String?
        if FileManager.default.fileExists(atPath: destination) {
            let old = Self.sibling(parent, "." + base + ".old-" + UUID().uuidString.prefix(8))
            guard rename(destination, old) == 0 else { throw PackageError.system("move aside the old package", destination) }
            aside = old
        }
        guard rename(path, destination) == 0 else {
            let failure = PackageError.system("move the package into place at", destination)
            if let aside { _ = rename(aside, destination) }
            throw failure
        }
        if let aside {
            // The new package is in place; the old one is only garbage now, and a failure
            // to remove it changes nothing the caller is told.
            try? FileManager.default.removeItem(atPath: aside)
        }
    }

    /// Removes the temporary folder after a failure.
    func discard() {
        // Best effort: the build has already failed with the error that matters.
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func sibling(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }
}
