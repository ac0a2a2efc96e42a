import Foundation
import Testing
@testable import GitState

@Suite("Worktrees for re-running old commits")
struct WorktreeTests {
    @Test("a worktree is added detached at an old commit, and removed with its folder")
    func addAndRemove() throws {
        let repository = try TemporaryRepository(commit: ["model.txt": "v1\n"])
        let first = try repository.git("rev-parse", "HEAD")
        try repository.write("model.txt", "v2\n")
        try repository.commitAll("v2")
        let opened = try repository.open()
        let path = repository.root + "-worktrees/run-7"
        defer { try? FileManager.default.removeItem(atPath: repository.root + "-worktrees") }

        try opened.addWorktree(at: path, commit: first)
        #expect(try String(contentsOfFile: path + "/model.txt", encoding: .utf8) == "v1\n")
        #expect(try repository.git("rev-parse", "HEAD", in: path) == first)
        #expect(throws: TemporaryRepository.CommandFailed.self) { try repository.git("symbolic-ref", "-q", "HEAD", in: path) }
        #expect(try repository.git("status", "--porcelain", in: path) == "")
        #expect(try repository.git("worktree", "list", "--porcelain").contains("detached"))
        #expect(try repository.git("branch", "--list", "mlpipe-worktree-*") == "")
        let linked = try GitRepository.discover(from: path)
        #expect(try linked.head().branch == nil)
        #expect(try linked.status(pathspecs: nil).isClean)

        try opened.removeWorktree(at: path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!(try repository.git("worktree", "list", "--porcelain")).contains("run-7"))
        #expect(try repository.git("rev-parse", "HEAD") != first)   // main worktree untouched
    }

    @Test("adding a worktree over an existing folder fails, and removing an unknown one says so")
    func errors() throws {
        let repository = try TemporaryRepository(commit: ["a": "a"])
        let opened = try repository.open()
        let existing = #expect(throws: GitError.self) {
            try opened.addWorktree(at: repository.root + "/a", commit: "HEAD")
        }
        #expect(existing?.message.contains("already exists") == true)
        let unknown = #expect(throws: GitError.self) { try opened.removeWorktree(at: "/tmp/not-a-worktree") }
        #expect(unknown?.message.contains("git worktree list") == true)
    }
}
