import CGitStartup
import CLibGit2

/// The process-wide libgit2 setup and small helpers around its C types.
enum LibGit2 {
    /// libgit2 is opened (it is not linked, see CLibGit2.h) and `git_libgit2_init`
    /// runs once, on first use, from whichever thread gets here first: Swift
    /// initialises a static stored property lazily under `swift_once`, which is
    /// thread-safe. libgit2 is never shut down, because other repositories in the
    /// process may still be open.
    private static let initialized: Result<Void, GitError> = {
        mlpipe_git_startup_linked()
        let reason = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer -> String? in
            mlpipe_libgit2_load(buffer.baseAddress, buffer.count) == 1 ? nil : String(cString: buffer.baseAddress!)
        }
        if let reason {
            return .failure(GitError(.libgit2, "mlpipe reads the repository through libgit2: \(reason)"))
        }
        _ = git_libgit2_init()
        return .success(())
    }()

    /// Opens and initialises libgit2 before any other libgit2 call; throws when it is
    /// not installed (the error says which package to install).
    static func ensureInitialized() throws(GitError) {
        try initialized.get()
    }

    /// Throws a ``GitError`` when a libgit2 call returned a negative code.
    static func check(_ result: Int32, _ operation: String, code: GitError.Code = .libgit2,
                      path: String? = nil, hint: String? = nil) throws(GitError) {
        if result < 0 {
            throw GitError.fromLibGit2(result, operation, code: code, path: path, hint: hint)
        }
    }
}

extension git_oid {
    /// The 40-character lowercase hexadecimal form.
    var hex: String {
        var copy = self
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 41) { buffer in
            git_oid_tostr(buffer.baseAddress, 41, &copy)
            return String(cString: buffer.baseAddress!)
        }
    }

    /// Parses 40 hexadecimal characters; nil for anything else.
    init?(hex: String) {
        guard hex.utf8.count == 40 else { return nil }
        var oid = git_oid()
        guard git_oid_fromstr(&oid, hex) == 0 else { return nil }
        self = oid
    }

    /// Whether two ids are the same object.
    func same(as other: git_oid) -> Bool {
        var lhs = self, rhs = other
        return git_oid_equal(&lhs, &rhs) != 0
    }
}
