import CGitStartup
import CLibGit2

/// The process-wide libgit2 setup and small helpers around its C types.
enum LibGit2 {
    /// `git_libgit2_init` runs once, on first use, from whichever thread gets
    /// here first: Swift initialises a static stored property lazily under
    /// `swift_once`, which is thread-safe. libgit2 is never shut down, because
    /// other repositories in the process may still be open.
    private static let initialized: Int32 = {
        mlpipe_git_startup_linked()
        return git_libgit2_init()
    }()

    /// Makes sure libgit2 is initialised before any other libgit2 call.
    static func ensureInitialized() {
        _ = initialized
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
