import Foundation
import Testing

/// `mlpipe checkout` and `workspace/latest/<pipeline>`: outputs where people want them.
@Suite("Checkout of a run's outputs, and the latest link")
struct CheckoutTests {
    /// `train` writes `size` bytes of `w` and a line with `params.tag` (and fails for `fail`);
    /// `report` is a folder.
    static let pipeline = """
        version: 1
        name: shop
        params:
          size: 11
          tag: one
        stages:
          train:
            run: test ${{ params.tag }} != fail || exit 1; head -c ${{ params.size }} /dev/zero | tr '\\0' w > ${{ outputs.model }}; mkdir -p $MLPIPE_OUTPUT_DIR/out; echo ${{ params.tag }} > ${{ outputs.tag }}
            outputs: { model: model.bin, tag: out/tag.txt }
          report:
            run: mkdir -p ${{ outputs.pages }}/sub && cat ${{ stages.train.outputs.tag }} > ${{ outputs.pages }}/sub/index.txt
            outputs: { pages: pages }

        """

    static func repo() throws -> TempRepo {
        // Checked-out outputs are ignored, as the README advises: they do not make the tree dirty.
        try TempRepo(files: ["pipelines/shop.yaml": pipeline, "README.md": "# shop\n", ".gitignore": "/train/\n/report/\n"])
    }

    @Test("checkout copies every output of a run into the working tree as <stage>/<declared path>")
    func wholeRun() throws {
        let repo = try Self.repo()
        #expect(try repo.mlpipe("run").status == 0)
        let result = try repo.mlpipe("checkout", "1")
        #expect(result.status == 0, "\(result)")
        #expect(repo.read("train/model.bin") == String(repeating: "w", count: 11))
        #expect(repo.read("train/out/tag.txt") == "one\n")
        #expect(repo.read("report/pages/sub/index.txt") == "one\n")
        #expect(result.lines.last == "checked out 3 outputs of run #1 (shop) under \(repo.root)", "\(result)")
        #expect(result.lines.contains { $0.hasPrefix("  report/pages ") && $0.contains("in a folder") }, "\(result)")

        // Again: nothing to write, and nothing refused.
        let again = try repo.mlpipe("checkout", "latest")
        #expect(again.status == 0, "\(again)")
        #expect(again.lines.last?.hasSuffix("(0 written)") == true, "\(again)")
    }

    @Test("checkout of one stage with --to puts only its outputs under that folder")
    func oneStageElsewhere() throws {
        let repo = try Self.repo()
        #expect(try repo.mlpipe("run").status == 0)
        let result = try repo.mlpipe("checkout", "1", "train", "--to", "exported")
        #expect(result.status == 0, "\(result)")
        #expect(repo.read("exported/train/model.bin") == String(repeating: "w", count: 11))
        #expect(repo.read("exported/train/out/tag.txt") == "one\n")
        #expect(!FileManager.default.fileExists(atPath: repo.path("exported/report")))
        #expect(!FileManager.default.fileExists(atPath: repo.path("train")))

        let unknown = try repo.mlpipe("checkout", "1", "trian")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("run #1 has no stage 'trian'; did you mean 'train'?"), "\(unknown)")
    }

    @Test("a checked-out large output is a copy of its own: editing it cannot damage the store", .timeLimit(.minutes(2)))
    func largeOutputIsACopy() throws {
        let repo = try Self.repo()
        let size = 2 << 20
        #expect(try repo.mlpipe("run", "--param", "size=\(size)").status == 0)
        #expect(try repo.mlpipe("checkout", "1", "train").status == 0)
        var info = stat()
        #expect(stat(repo.path("train/model.bin"), &info) == 0)
        #expect(info.st_nlink == 1, "the checked-out file shares its inode with \(info.st_nlink - 1) other name(s)")
        #expect(info.st_mode & 0o200 != 0, "the checked-out file is not writable by its owner")

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: repo.path("train/model.bin")))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("edited".utf8))
        try handle.close()
        let verify = try repo.mlpipe("cache", "verify")
        #expect(verify.status == 0, "\(verify)")
        let second = try repo.mlpipe("run", "--param", "size=\(size)")
        #expect(second.status == 0)
        #expect(try repo.statuses("2")["train"] == "cached")
    }

    @Test("checkout never overwrites a file with changes of its own without --force")
    func refusesOwnChanges() throws {
        let repo = try Self.repo()
        #expect(try repo.mlpipe("run").status == 0)
        // A tracked file, unmodified: git can give it back, so it may be replaced.
        try repo.write("train/out/tag.txt", "committed\n")
        try repo.git("add", "-f", "train/out/tag.txt")
        try repo.commit("a tag of our own")
        #expect(try repo.mlpipe("checkout", "1", "train").status == 0)
        #expect(repo.read("train/out/tag.txt") == "one\n")

        // Tracked and modified: refused, and nothing is written.
        try repo.git("checkout", "--", "train/out/tag.txt")
        try repo.write("train/out/tag.txt", "my edit\n")
        try repo.write("train/model.bin", "mine too\n")
        let refused = try repo.mlpipe("checkout", "1")
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.stderr.contains("checkout would overwrite 2 files under \(repo.root) that have changes of your own: train/model.bin, train/out/tag.txt; commit or move them, check out elsewhere with --to DIR, or pass --force"), "\(refused)")
        #expect(repo.read("train/out/tag.txt") == "my edit\n")
        #expect(repo.read("train/model.bin") == "mine too\n")
        #expect(!FileManager.default.fileExists(atPath: repo.path("report")))

        let forced = try repo.mlpipe("checkout", "1", "--force")
        #expect(forced.status == 0, "\(forced)")
        #expect(repo.read("train/out/tag.txt") == "one\n")

        // What an earlier checkout wrote is in the store: another run's outputs replace it.
        #expect(try repo.mlpipe("run", "--param", "tag=two").status == 0)
        let next = try repo.mlpipe("checkout", "2")
        #expect(next.status == 0, "\(next)")
        #expect(repo.read("report/pages/sub/index.txt") == "two\n")
    }

    @Test("a pruned run's outputs come from the store, and outputs the store lost name `mlpipe rerun`")
    func prunedAndLost() throws {
        let repo = try Self.repo()
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.mlpipe("run", "--param", "tag=two").status == 0)
        #expect(try repo.mlpipe("runs", "prune", "--keep", "1").status == 0)
        #expect(!FileManager.default.fileExists(atPath: repo.path("workspace/runs/1")))
        let pruned = try repo.mlpipe("checkout", "1", "train")
        #expect(pruned.status == 0, "\(pruned)")
        #expect(repo.read("train/out/tag.txt") == "one\n")

        try FileManager.default.removeItem(atPath: repo.path("workspace/objects"))
        let lost = try repo.mlpipe("checkout", "1", "report")
        #expect(lost.status == 3, "\(lost)")
        #expect(lost.stderr.contains("run #1's folder was pruned and the store no longer has this output of run #1: report.pages (sha256:"), "\(lost)")
        #expect(lost.stderr.contains("`mlpipe rerun 1` makes it again"), "\(lost)")
    }

    @Test("workspace/latest/<pipeline> points at the newest successful run's folder, and a failed run leaves it")
    func latestLink() throws {
        let repo = try Self.repo()
        #expect(try repo.mlpipe("run").status == 0)
        let link = repo.path("workspace/latest/shop")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../runs/1")
        #expect(repo.read("workspace/latest/shop/train/out/tag.txt") == "one\n")

        #expect(try repo.mlpipe("run", "--param", "tag=fail").status != 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../runs/1")

        #expect(try repo.mlpipe("run", "--param", "tag=three").status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../runs/3")
        #expect(repo.read("workspace/latest/shop/report/pages/sub/index.txt") == "three\n")
    }
}
