import Foundation
import Testing

@Suite("a full disk")
struct DiskFullTests {
    // A real full disk: a 1 MB tmpfs mounted on the workspace's runs/ folder, where the
    // stage's log goes, while the database and objects stay on the normal disk (so the
    // run can still be recorded). Mounting needs root, which these tests run as.
    @Test("a stage whose log fills the disk fails the stage and the run, exits 3 and names the file",
          .enabled(if: Tmpfs.canMount, "mounting a tmpfs needs root"))
    func logFillsDisk() throws {
        let pipeline = """
            version: 1
            name: f
            stages:
              fill:
                run: echo started > ${{ outputs.out }}; yes 'filling the disk with log lines'
                outputs: { out: out.txt }
              after:
                run: echo never
                needs: [fill]

            """
        let repo = try TempRepo(files: ["pipelines/f.yaml": pipeline])
        let runs = repo.path("workspace/runs")
        let tmpfs = try Tmpfs(at: runs)
        defer { tmpfs.unmount() }

        let result = try repo.mlpipe("run", timeout: 60)
        let log = "\(runs)/1/fill.log"
        #expect(result.status == 3, "\(result)")
        #expect(result.errorLines.contains { $0.hasPrefix("mlpipe: error: ")
                    && $0.contains("cannot write the log \(log): No space left on device; free space") }, "\(result)")
        #expect(!result.stderr.contains("Fatal error"), "\(result)")
        #expect(result.lines.contains { $0.hasPrefix("run #1 failed in") }, "the summary is printed: \(result)")
        #expect(try repo.statuses() == ["fill": "failed", "after": "skipped"])
        #expect(try repo.show()["status"] as? String == "failed")
        let error = try repo.stages()["fill"]?["error"] as? String ?? ""
        #expect(error.contains("cannot write the log \(log)"), "the stage's record names the file: \(error)")
        let objects = FileManager.default.enumerator(atPath: repo.path("workspace/objects/sha256"))?.allObjects ?? []
        #expect(objects.isEmpty, "the failed stage's output never entered the store: \(objects)")
    }

    // /dev/full fails every write with ENOSPC: stdout redirected to a full disk.
    @Test("output that cannot be written to stdout is an environment error, not a silent success")
    func stdoutOnFullDisk() throws {
        let repo = try TempRepo(files: ["pipelines/l.yaml": "version: 1\nname: l\nstages:\n  a:\n    run: 'true'\n"])
        let result = try Child(mlpipeBinary, ["lint"], in: repo.root, stdoutTo: "/dev/full").finish()
        let stderr = result.stderr
        #expect(result.status == 3, "\(stderr)")
        #expect(stderr == "mlpipe: error: cannot write to standard output: No space left on device; "
                + "free space where it is redirected, or redirect it elsewhere\n")
    }
}

/// A small tmpfs mounted on a folder: a disk that fills up, for one test.
struct Tmpfs {
    let path: String

    /// Whether this process may mount (root, and a kernel that lets it).
    static let canMount: Bool = {
        guard geteuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("tmpfs-probe-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard let tmpfs = try? Tmpfs(at: probe) else { return false }
        tmpfs.unmount()
        return true
    }()

    /// Creates `path` and mounts a tmpfs of `size` on it.
    init(at path: String, size: String = "1m") throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = try runProcess("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path], in: "/")
        guard result.status == 0 else { throw HarnessError(description: "cannot mount a tmpfs on \(path): \(result)") }
        self.path = path
    }

    /// Unmounts it (lazily, so that a file still open on it cannot keep it mounted).
    func unmount() {
        _ = try? runProcess("/usr/bin/umount", ["-l", path], in: "/")
    }
}
