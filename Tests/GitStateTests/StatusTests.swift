import Foundation
import Testing
@testable import GitState

@Suite("Working-tree status against HEAD")
struct StatusTests {
    /// A repository with one change of every kind, and the status expected for it.
    private func mixedChanges() throws -> TemporaryRepository {
        let repository = try TemporaryRepository(commit: [
            "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d.txt": "d\n", "e.txt": "e\n",
            "run.sh": "echo hi\n", "data/x.csv": "1,2\n", "data/y.csv": "3,4\n",
            ".gitignore": "*.log\nbuild/\n",
        ])
        try repository.write("a.txt", "a2\n")                  // modified, not staged
        try repository.write("b.txt", "b2\n")                  // modified and staged
        try repository.git("add", "b.txt")
        try repository.remove("c.txt")                         // deleted
        try repository.git("rm", "-q", "--cached", "d.txt")    // staged deletion, file kept
        try repository.git("update-index", "--chmod=+x", "run.sh")   // mode change, staged
        try repository.write("data/x.csv", "1,3\n")            // same size, new content
        try repository.write("new.txt", "new\n")               // untracked
        try repository.write("newdir/deep/file.txt", "deep\n") // untracked folder
        try repository.write("staged.txt", "s\n")              // added
        try repository.write("gone.txt", "g\n")                // added, then deleted: no change
        try repository.git("add", "staged.txt", "gone.txt")
        try repository.remove("gone.txt")
        try repository.write("debug.log", "ignored\n")         // ignored
        try repository.write("build/out.bin", "ignored\n")     // ignored folder
        // Same content, new stat data: must not count as a change.
        let touched = URL(fileURLWithPath: repository.root + "/e.txt")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)],
                                              ofItemAtPath: touched.path)
        return repository
    }

    @Test("every kind of change is reported against the commit, staged or not; ignored files are not")
    func mixedStatus() throws {
        let repository = try mixedChanges()
        let status = try repository.open().status(pathspecs: nil)
        #expect(status.changes == [
            "a.txt": .modified, "b.txt": .modified, "c.txt": .deleted, "d.txt": .modified,
            "run.sh": .modified, "data/x.csv": .modified, "new.txt": .untracked,
            "newdir/deep/file.txt": .untracked, "staged.txt": .added,
        ])
        #expect(!status.isClean)
    }

    @Test("pathspecs restrict the status to folders, files and globs")
    func pathspecs() throws {
        let repository = try mixedChanges()
        let opened = try repository.open()
        #expect(try opened.status(pathspecs: ["data"]).changes == ["data/x.csv": .modified])
        #expect(try opened.status(pathspecs: ["newdir/"]).changes == ["newdir/deep/file.txt": .untracked])
        #expect(try opened.status(pathspecs: ["e.txt", "c.txt"]).changes == ["c.txt": .deleted])
        #expect(Set(try opened.status(pathspecs: ["*.txt"]).changes.keys)
            == ["a.txt", "b.txt", "c.txt", "d.txt", "new.txt", "staged.txt"])
        #expect(Set(try opened.status(pathspecs: ["**/*.txt"]).changes.keys)
            == ["a.txt", "b.txt", "c.txt", "d.txt", "new.txt", "staged.txt", "newdir/deep/file.txt"])
        #expect(try opened.status(pathspecs: ["build", "debug.log", "missing"]).isClean)
    }

    @Test("a freshly committed repository is clean, and a file rewritten with the same size is not")
    func cleanAfterCommit() throws {
        let repository = try TemporaryRepository(commit: ["data/a.csv": "1\n", "data/b.csv": "2\n", "x": "x"])
        let opened = try repository.open()
        #expect(try opened.status(pathspecs: nil).isClean)
        try repository.write("data/a.csv", "9\n")
        #expect(try opened.status(pathspecs: ["data"]).changes == ["data/a.csv": .modified])
        try repository.write("data/a.csv", "1\n")
        #expect(try opened.status(pathspecs: ["data"]).isClean)
    }

    @Test("a committed symbolic link is compared by its target, as git stores it")
    func symbolicLinks() throws {
        let repository = try TemporaryRepository(commit: ["target.txt": "t\n", "other.txt": "o\n"])
        try FileManager.default.createSymbolicLink(atPath: repository.root + "/link", withDestinationPath: "target.txt")
        try repository.commitAll("link")
        let opened = try repository.open()
        #expect(try opened.status(pathspecs: nil).isClean)
        try repository.remove("link")
        try FileManager.default.createSymbolicLink(atPath: repository.root + "/link", withDestinationPath: "other.txt")
        #expect(try opened.status(pathspecs: nil).changes == ["link": .modified])
        let fingerprint = try opened.fingerprint(patterns: ["link"], commit: "HEAD", status: try opened.status(pathspecs: ["link"]))
        #expect(fingerprint.entries.first?.overlays["link"] == SHA1Text.blobID(of: "other.txt"))
    }

    @Test("a version 4 index with a staged change in a subfolder is read correctly")
    func indexVersion4() throws {
        let repository = try TemporaryRepository(commit: [
            "models/a/one.txt": "1\n", "models/a/two.txt": "2\n", "models/b/three.txt": "3\n", "top.txt": "t\n",
        ])
        try repository.git("update-index", "--index-version", "4")
        try repository.write("models/a/two.txt", "22\n")
        try repository.git("add", "models/a/two.txt")
        try repository.write("models/b/three.txt", "33\n")
        let status = try repository.open().status(pathspecs: nil)
        #expect(status.changes == ["models/a/two.txt": .modified, "models/b/three.txt": .modified])
    }

    @Test("without commits, staged files are added and the rest untracked")
    func noCommits() throws {
        let repository = try TemporaryRepository()
        try repository.write("staged.txt", "s\n")
        try repository.write("loose/file.txt", "l\n")
        try repository.git("add", "staged.txt")
        let status = try repository.open().status(pathspecs: nil)
        #expect(status.changes == ["staged.txt": .added, "loose/file.txt": .untracked])
    }

    @Test("a path in a merge conflict is modified")
    func mergeConflict() throws {
        let repository = try TemporaryRepository(commit: ["a.txt": "base\n", "b.txt": "b\n"])
        try repository.git("checkout", "-q", "-b", "other")
        try repository.write("a.txt", "other\n")
        try repository.commitAll("other")
        try repository.git("checkout", "-q", "main")
        try repository.write("a.txt", "main\n")
        try repository.commitAll("main")
        _ = try? repository.git("merge", "-q", "other")
        let status = try repository.open().status(pathspecs: nil)
        #expect(status.changes == ["a.txt": .modified])
    }

    @Test("a status object follows changes made after it was opened")
    func followsLaterChanges() throws {
        let repository = try TemporaryRepository(commit: ["a.txt": "a\n"])
        let opened = try repository.open()
        #expect(try opened.status(pathspecs: nil).isClean)
        try repository.write("b.txt", "b\n")
        try repository.git("add", "b.txt")
        #expect(try opened.status(pathspecs: nil).changes == ["b.txt": .added])
        try repository.commitAll("b")
        #expect(try opened.status(pathspecs: nil).isClean)
    }
}

@Suite("Indexes mlpipe cannot read itself")
struct UnusualIndexTests {
    @Test("a split index is handed to libgit2, whose failure says how to turn it off")
    func splitIndex() throws {
        let repository = try TemporaryRepository(commit: ["a.txt": "a\n"])
        try repository.git("update-index", "--split-index")
        let error = #expect(throws: GitError.self) { try repository.open().status(pathspecs: nil) }
        #expect(error?.message.contains("git update-index --no-split-index") == true)
        #expect(error?.cause?.message.contains("link") == true)
    }
}

/// git's blob id of a byte string, computed independently with the git CLI.
enum SHA1Text {
    static func blobID(of text: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "hash-object", "--stdin"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        guard (try? process.run()) != nil else { return nil }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
