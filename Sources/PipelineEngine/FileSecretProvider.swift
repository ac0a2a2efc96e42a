import Foundation

/// `{ file: PATH }`: the content of a file, without one trailing newline; a relative
/// path is taken from `baseDirectory`.
///
/// The base is the repository the user works in, never the temporary worktree of
/// `mlpipe rerun`: a secret file is git-ignored, so a worktree of an old commit does not
/// have it.
public struct FileSecretProvider: SecretProvider {
    public var name: String { "file" }
    let baseDirectory: String

    /// A provider reading paths relative to `baseDirectory` (the repository's root).
    public init(baseDirectory: String) {
        self.baseDirectory = baseDirectory
    }

    public func value(of secret: String, reference: String) async throws(SecretError) -> String {
        let full = reference.hasPrefix("/") ? reference : baseDirectory + "/" + reference
        guard let data = FileManager.default.contents(atPath: full) else {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: full, isDirectory: &isFolder)
            let reason = !exists ? "no such file" : isFolder.boolValue ? "it is a folder" : "it cannot be read"
            let place = reference.hasPrefix("/") ? "" : " in \(baseDirectory)"
            throw SecretError(exists ? .unreadable : .notFound, secret: secret, provider: name, reference: reference,
                message: "cannot read file \(reference)\(place): \(reason); create it, or fix the path in the "
                    + "pipeline's `secrets:` (relative paths start at the repository's root)")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
