import Foundation
import Testing

/// A sweep of four training instances and a report stage that reads all their models.
let matrixPipeline = """
    version: 1
    name: sweep
    params:
      epochs: 3
    stages:
      train:
        matrix:
          lr: [0.1, 0.2]
          depth: [3, 5]
        run: echo "lr=${{ matrix.lr }} depth=${{ matrix.depth }} epochs=${{ params.epochs }}" > ${{ outputs.model }}
        inputs: [train.sh]
        outputs:
          model: model-${{ matrix.lr }}-${{ matrix.depth }}.txt
      report:
        run: cat ${{ stages.train.outputs.model }} > ${{ outputs.table }}
        inputs: [train.sh]
        outputs: { table: table.txt }
      best:
        run: cat ${{ stages['train[lr=0.2,depth=5]'].outputs.model }} > ${{ outputs.copy }}
        inputs: [train.sh]
        outputs: { copy: copy.txt }

    """

@Suite("matrix sweeps through the binary")
struct MatrixTests {
    static let instances = ["train[lr=0.1,depth=3]", "train[lr=0.1,depth=5]", "train[lr=0.2,depth=3]",
                            "train[lr=0.2,depth=5]"]

    func sweepRepo() throws -> TempRepo {
        try TempRepo(files: ["pipelines/sweep.yaml": matrixPipeline, "train.sh": "# the trainer\n"])
    }

    func output(_ stage: [String: Any]?) -> String {
        let path = (stage?["outputs"] as? [[String: Any]])?.first?["path"] as? String ?? ""
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "(none at '\(path)')"
    }

    @Test("four instances run with their own outputs, and a stage naming the matrix stage gets them all")
    func runsEveryInstance() throws {
        let repo = try sweepRepo()
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        let stages = try repo.stages()
        for name in Self.instances {
            #expect(stages[name]?["status"] as? String == "succeeded", "\(name): \(result)")
        }
        #expect(output(stages["train[lr=0.2,depth=3]"]) == "lr=0.2 depth=3 epochs=3\n")
        #expect(output(stages["report"]) == "lr=0.1 depth=3 epochs=3\nlr=0.1 depth=5 epochs=3\n"
                + "lr=0.2 depth=3 epochs=3\nlr=0.2 depth=5 epochs=3\n")
        #expect(output(stages["best"]) == "lr=0.2 depth=5 epochs=3\n")
        let keys = Set(Self.instances.compactMap { stages[$0]?["cacheKey"] as? String })
        #expect(keys.count == 4, "each instance has its own cache key")
    }

    @Test("a second run finds every instance cached, and --param still reaches every instance")
    func secondRunCached() throws {
        let repo = try sweepRepo()
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.mlpipe("run").status == 0)
        #expect(Set(try repo.statuses().values) == ["cached"])
        let tuned = try repo.mlpipe("run", "--param", "epochs=4")
        #expect(tuned.status == 0, "\(tuned)")
        #expect(Set(try repo.statuses().values) == ["succeeded"])
        let stages = try repo.stages()
        #expect(output(stages["train[lr=0.1,depth=3]"]) == "lr=0.1 depth=3 epochs=4\n")
    }

    @Test("changing one matrix value re-runs only the instances that have it, and the stages after them")
    func oneValueChanged() throws {
        let repo = try sweepRepo()
        #expect(try repo.mlpipe("run").status == 0)
        try repo.write("pipelines/sweep.yaml", matrixPipeline.replacingOccurrences(of: "depth: [3, 5]", with: "depth: [3, 7]")
            .replacingOccurrences(of: "train[lr=0.2,depth=5]", with: "train[lr=0.2,depth=7]"))
        try repo.commit("depth 7")
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        #expect(try repo.statuses() == [
            "train[lr=0.1,depth=3]": "cached", "train[lr=0.2,depth=3]": "cached",
            "train[lr=0.1,depth=7]": "succeeded", "train[lr=0.2,depth=7]": "succeeded",
            "report": "succeeded", "best": "succeeded",
        ])
    }

    @Test("--only, graph and logs take a matrix stage's name and its instances' names")
    func namesOnTheCommandLine() throws {
        let repo = try sweepRepo()
        let one = try repo.mlpipe("run", "--only", "train[lr=0.1,depth=5]")
        #expect(one.status == 0, "\(one)")
        var statuses = try repo.statuses()
        #expect(statuses["train[lr=0.1,depth=5]"] == "succeeded" && statuses["train[lr=0.1,depth=3]"] == "skipped")
        #expect(try repo.mlpipe("run", "--only", "train").status == 0)
        statuses = try repo.statuses()
        #expect(Self.instances.map { statuses[$0] } == ["succeeded", "cached", "succeeded", "succeeded"])
        #expect(statuses["report"] == "skipped")
        let graph = try repo.mlpipe("graph")
        #expect(graph.lines.contains { $0.contains("report") && $0.contains("<- " + Self.instances.joined(separator: ", ")) },
                "\(graph)")
        let logs = try repo.mlpipe("logs", "latest", "train")
        #expect(logs.status == 0, "\(logs)")
        #expect(logs.lines.filter { $0.hasPrefix("==> train[") }.count == 4, "\(logs)")
        #expect(logs.stderr.contains("train[lr=0.1,depth=5] was cached in run #2; this is the log of run #1"), "\(logs)")
        let unknown = try repo.mlpipe("run", "--only", "trian")
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean 'train'?"), "\(unknown)")
    }
}
