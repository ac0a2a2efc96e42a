import Foundation
import Testing
@testable import GitState

@Suite("Fingerprints of declared inputs")
struct FingerprintTests {
    private func project() throws -> TemporaryRepository {
        try TemporaryRepository(commit: [
            "examples/iris/train.py": "print('train')\n",
            "examples/iris/data.csv": "a,b\n1,2\n",
            "examples/iris/extra/notes.md": "notes\n",
            "docs/index.md": "docs\n",
            ".gitignore": "*.tmp\n",
        ])
    }

    private func fingerprint(_ repository: GitRepository, _ patterns: [String]) throws -> InputFingerprint {
        let head = try repository.head()
        return try repository.fingerprint(patterns: patterns, commit: head.commit,
                                          status: try repository.status(pathspecs: patterns.isEmpty ? nil : patterns))
    }

    @Test("file, folder and glob inputs get the object ids git has at the commit")
    func objectIDs() throws {
        let repository = try project()
        let opened = try repository.open()
        let result = try fingerprint(opened, ["examples/iris/train.py", "examples/iris/extra", "examples/**/*.csv"])
        #expect(result.entries.map(\.path) == ["examples/iris/data.csv", "examples/iris/extra", "examples/iris/train.py"])
        for entry in result.entries {
            #expect(entry.objectID == (try repository.git("rev-parse", "HEAD:\(entry.path)")), "\(entry.path)")
            #expect(entry.overlays.isEmpty)
        }
        #expect(result.entries.map(\.pattern) == ["examples/**/*.csv", "examples/iris/extra", "examples/iris/train.py"])
        #expect(!result.isDirty)
        #expect(result.unmatchedPatterns.isEmpty)
    }

    @Test("a glob matching a folder gives the folder's tree id")
    func globMatchingFolder() throws {
        let repository = try project()
        let result = try fingerprint(try repository.open(), ["examples/*"])
        #expect(result.entries.map(\.path) == ["examples/iris"])
        #expect(result.entries.first?.objectID == (try repository.git("rev-parse", "HEAD:examples/iris")))
    }

    @Test("a commit touching an unrelated file leaves the input fingerprint unchanged")
    func unrelatedCommit() throws {
        let repository = try project()
        let opened = try repository.open()
        let inputs = ["examples/iris", "examples/iris/*.py"]
        let before = try fingerprint(opened, inputs)
        let wholeBefore = try fingerprint(opened, [])
        try repository.write("docs/index.md", "new docs\n")
        try repository.commitAll("docs only")
        #expect(try fingerprint(opened, inputs).entries == before.entries)
        #expect(try fingerprint(opened, []).entries != wholeBefore.entries)
    }

    @Test("modified, untracked and deleted inputs give overlays with git blob ids and make it dirty")
    func dirtyInputs() throws {
        let repository = try project()
        let opened = try repository.open()
        try repository.write("examples/iris/data.csv", "a,b\n9,9\n")
        try repository.write("examples/iris/new.csv", "x\n")
        try repository.remove("examples/iris/train.py")
        let result = try fingerprint(opened, ["examples/iris", "examples/**/*.csv", "examples/iris/train.py"])
        #expect(result.isDirty)
        #expect(result.dirtyPaths == ["examples/iris/data.csv", "examples/iris/new.csv", "examples/iris/train.py"])
        let byPath = Dictionary(uniqueKeysWithValues: result.entries.map { ($0.path, $0) })
        let dataBlob = try repository.git("hash-object", "examples/iris/data.csv")
        let newBlob = try repository.git("hash-object", "examples/iris/new.csv")
        #expect(byPath["examples/iris"]?.overlays == [
            "examples/iris/data.csv": dataBlob, "examples/iris/new.csv": newBlob,
            "examples/iris/train.py": InputFingerprint.deletedMarker,
        ])
        // The folder's own id stays the commit's: the overlays carry the change.
        #expect(byPath["examples/iris"]?.objectID == (try repository.git("rev-parse", "HEAD:examples/iris")))
        #expect(byPath["examples/iris/data.csv"]?.overlays == ["examples/iris/data.csv": dataBlob])
        // The new file matched the glob although the commit lacks it.
        #expect(byPath["examples/iris/new.csv"]?.objectID == "")
        #expect(byPath["examples/iris/new.csv"]?.overlays == ["examples/iris/new.csv": newBlob])
        #expect(byPath["examples/iris/train.py"]?.overlays == ["examples/iris/train.py": "deleted"])
    }

    @Test("ignored files are not dirty")
    func ignoredFiles() throws {
        let repository = try project()
        try repository.write("examples/iris/cache.tmp", "scratch\n")
        let result = try fingerprint(try repository.open(), ["examples/iris"])
        #expect(!result.isDirty)
        #expect(result.entries.first?.overlays.isEmpty == true)
    }

    @Test("empty patterns stand for the whole tree, overlaid with every dirty path")
    func wholeTree() throws {
        let repository = try project()
        try repository.write("docs/index.md", "changed\n")
        try repository.write("scratch.txt", "new\n")
        let opened = try repository.open()
        let result = try fingerprint(opened, [])
        #expect(result.entries.count == 1)
        #expect(result.entries.first?.path == "")
        #expect(result.entries.first?.objectID == (try repository.git("rev-parse", "HEAD^{tree}")))
        #expect(result.entries.first?.overlays == [
            "docs/index.md": try repository.git("hash-object", "docs/index.md"),
            "scratch.txt": try repository.git("hash-object", "scratch.txt"),
        ])
        #expect(result.dirtyPaths == ["docs/index.md", "scratch.txt"])
    }

    @Test("patterns that match nothing are listed, in order")
    func unmatchedPatterns() throws {
        let repository = try project()
        let result = try fingerprint(try repository.open(), ["missing.txt", "examples/iris/train.py", "**/*.parquet", "../outside"])
        #expect(result.unmatchedPatterns == ["missing.txt", "**/*.parquet", "../outside"])
        #expect(result.entries.map(\.path) == ["examples/iris/train.py"])
    }

    @Test("a fingerprint at an older commit reads that commit's ids")
    func olderCommit() throws {
        let repository = try project()
        let first = try repository.git("rev-parse", "HEAD")
        let oldID = try repository.git("rev-parse", "HEAD:examples/iris/data.csv")
        try repository.write("examples/iris/data.csv", "changed\n")
        try repository.commitAll("change data")
        let opened = try repository.open()
        let result = try opened.fingerprint(patterns: ["examples/iris/data.csv"], commit: first,
                                            status: WorkingTreeStatus(changes: [:]))
        #expect(result.entries.first?.objectID == oldID)
    }
}
