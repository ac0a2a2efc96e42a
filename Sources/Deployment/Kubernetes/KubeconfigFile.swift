import Foundation

/// A kubeconfig held in a secret, written where kubectl can read it for as long as a
/// deploy needs it: a file of mode 0600 in a folder of mode 0700 of its own under the
/// temporary folder, removed by `remove()`.
///
/// The file is created with its mode (`open` with `O_EXCL` and 0600), so there is no
/// moment when another user could read it; its path is all that kubectl's command line
/// and mlpipe's log ever show. A write that fails removes what it made and names the
/// folder, never the content.
struct KubeconfigFile {
    /// The private folder, `TMPDIR/mlpipe-kubeconfig-XXXXXX`.
    let folder: String

    /// The file kubectl reads: `FOLDER/kubeconfig`.
    var path: String { folder + "/kubeconfig" }

    /// Writes `contents` to a new private file.
    init(contents: String) throws(DeploymentError) {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((base + "/mlpipe-kubeconfig-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw DeploymentError(.files, "cannot make a private folder for the kubeconfig under \(base): "
                                  + String(cString: strerror(errno)), remedy: "check that \(base) is writable (TMPDIR)")
        }
        folder = made
        let descriptor = open(folder + "/kubeconfig", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            remove()
            throw DeploymentError(.files, "cannot create the kubeconfig file in \(made): \(reason)",
                                  remedy: "check that \(base) is writable (TMPDIR)")
        }
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = count < 0 ? String(cString: strerror(errno)) : "nothing was written"
                remove()
                throw DeploymentError(.files, "cannot write the kubeconfig file in \(made): \(reason)",
                                      remedy: "free some space under \(base) and try again")
            }
            written += count
        }
    }

    /// Removes the file and its folder; a failure is ignored, as the folder is private
    /// and under the temporary folder.
    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
