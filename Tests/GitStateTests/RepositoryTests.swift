import Foundation
import Testing
@testable import GitState

@Suite("Opening a repository and reading HEAD")
struct RepositoryTests {
    @Test("discover from a subfolder finds the repository root")
    func discoverFromSubfolder() throws {
        let repository = try TemporaryRepository(commit: ["src/model/train.py": "print(1)\n"])
        let opened = try GitRepository.discover(from: repository.root + "/src/model")
        #expect(opened.workdir == repository.root)
    }

    @Test("discover outside any repository says to run git init")
    func discoverOutsideRepository() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("norepo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = #expect(throws: GitError.self) { try GitRepository.discover(from: folder) }
        #expect(error?.code == .notARepository)
        #expect(error?.description.contains("run `git init` or run mlpipe inside a git repository") == true)
    }

    @Test("the working-tree root is found without libgit2 from a subfolder and from a linked worktree, and not outside")
    func workingTreeRootWithoutLibGit2() throws {
        let repository = try TemporaryRepository(commit: ["src/model/train.py": "print(1)\n"])
        #expect(try GitRepository.workingTreeRoot(containing: repository.root + "/src/model") == repository.root)
        #expect(try GitRepository.workingTreeRoot(containing: repository.root + "/src/model/../model/") == repository.root)
        let linked = repository.root + "-linked"
        try repository.git("worktree", "add", "-q", "--detach", linked)
        defer { try? FileManager.default.removeItem(atPath: linked) }
        #expect(try GitRepository.workingTreeRoot(containing: linked + "/src") == linked)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("norepo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = #expect(throws: GitError.self) { try GitRepository.workingTreeRoot(containing: folder) }
        #expect(error?.code == .notARepository)
    }

    @Test("head on a branch gives the commit, its short form, the branch and the tree")
    func headOnBranch() throws {
        let repository = try TemporaryRepository(commit: ["README.md": "hello\n"])
        let head = try repository.open().head()
        #expect(head.commit == (try repository.git("rev-parse", "HEAD")))
        #expect(head.shortCommit == String(head.commit.prefix(7)))
        #expect(head.branch == "main")
        #expect(head.treeID == (try repository.git("rev-parse", "HEAD^{tree}")))
    }

    @Test("a detached HEAD has no branch")
    func headDetached() throws {
        let repository = try TemporaryRepository(commit: ["README.md": "hello\n"])
        try repository.git("checkout", "-q", "--detach")
        let head = try repository.open().head()
        #expect(head.branch == nil)
        #expect(head.commit == (try repository.git("rev-parse", "HEAD")))
    }

    @Test("head in a repository without commits says to commit first")
    func headWithoutCommits() throws {
        let repository = try TemporaryRepository()
        let error = #expect(throws: GitError.self) { try repository.open().head() }
        #expect(error?.code == .noCommits)
    }

    @Test("revisions resolve to full commit ids, and unknown ones say so")
    func resolveRevisions() throws {
        let repository = try TemporaryRepository(commit: ["a.txt": "1\n"])
        let first = try repository.git("rev-parse", "HEAD")
        try repository.git("tag", "-a", "v1", "-m", "first")
        try repository.write("a.txt", "2\n")
        try repository.commitAll("second")
        let opened = try repository.open()
        #expect(try opened.resolveCommit("v1") == first)
        #expect(try opened.resolveCommit(String(first.prefix(10))) == first)
        #expect(try opened.resolveCommit("HEAD~1") == first)
        #expect(try opened.resolveCommit("main") == (try repository.git("rev-parse", "HEAD")))
        let error = #expect(throws: GitError.self) { try opened.resolveCommit("no-such-branch") }
        #expect(error?.code == .unknownRevision)
        #expect(error?.message.contains("'no-such-branch'") == true)
    }

    @Test("hashWorkingFile equals git hash-object, for empty, small and multi-buffer files")
    func hashWorkingFile() throws {
        let repository = try TemporaryRepository(commit: ["keep": "x"])
        let large = String(repeating: "0123456789abcdef", count: 200_000)   // 3.2 MB: several reads
        try repository.write("empty", "")
        try repository.write("small.txt", "hello\n")
        try repository.write("data/large.bin", large)
        let opened = try repository.open()
        for path in ["empty", "small.txt", "data/large.bin"] {
            #expect(try opened.hashWorkingFile(path) == (try repository.git("hash-object", path)), "\(path)")
        }
        let error = #expect(throws: GitError.self) { try opened.hashWorkingFile("missing") }
        #expect(error?.code == .io)
    }
}

@Suite("libgit2 start-up")
struct LibGit2StartupTests {
    @Test("the certificate bundle parser libgit2 starts with is mlpipe's no-op, not mbedTLS's")
    func certificateParsingIsSkipped() throws {
        // libgit2 finds mbedtls_x509_crt_parse_file through the global scope, as dlsym does:
        // if the executable's definition stopped winning, start-up would parse the CA bundle.
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mbedtls_x509_crt_parse_file"))
        typealias Parse = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Int32
        let parse = unsafeBitCast(symbol, to: Parse.self)
        var chain = [UInt8](repeating: 0, count: 4096)
        let result = chain.withUnsafeMutableBytes { parse($0.baseAddress, "/etc/ssl/certs/ca-certificates.crt") }
        #expect(result == -0x2900)
    }
}
