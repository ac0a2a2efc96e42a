import Foundation
import Testing

/// Two stages, each using one param that `params.yaml` sets.
let paramsFilePipeline = """
    version: 1
    name: tuned
    params_files: [params.yaml]
    params:
      lr: 0.1
      epochs: 3
    stages:
      fit:
        run: echo "lr=${{ params.lr }}" > ${{ outputs.out }}
        inputs: [pipelines/tuned.yaml]
        outputs: { out: out.txt }
      count:
        run: echo "epochs=${{ params.epochs }}" > ${{ outputs.out }}
        inputs: [pipelines/tuned.yaml]
        outputs: { out: out.txt }

    """

@Suite("params files through the binary")
struct ParamsFilesTests {
    func tunedRepo(params: String = "lr: 0.5\n") throws -> TempRepo {
        try TempRepo(files: ["pipelines/tuned.yaml": paramsFilePipeline, "params.yaml": params])
    }

    func output(_ repo: TempRepo, _ stage: String) throws -> String {
        let path = (try repo.stages()[stage]?["outputs"] as? [[String: Any]])?.first?["path"] as? String ?? ""
        return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "(none)"
    }

    @Test("a params file overrides the defaults, and --param overrides the file")
    func precedence() throws {
        let repo = try tunedRepo()
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try output(repo, "fit") == "lr=0.5\n")
        #expect(try output(repo, "count") == "epochs=3\n")
        let overridden = try repo.mlpipe("run", "--param", "lr=0.7")
        #expect(overridden.status == 0, "\(overridden)")
        #expect(try output(repo, "fit") == "lr=0.7\n")
    }

    @Test("changing a value in the params file re-runs only the stages that use it")
    func changeReRunsUsers() throws {
        let repo = try tunedRepo(params: "lr: 0.5\nepochs: 4\n")
        #expect(try repo.mlpipe("run").status == 0)
        try repo.write("params.yaml", "lr: 0.5\nepochs: 6\n")
        try repo.commit("more epochs")
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        #expect(try repo.statuses() == ["fit": "cached", "count": "succeeded"])
        #expect((try repo.stages()["count"]?["reason"] as? String ?? "").contains("param epochs changed (4 -> 6)"))
    }

    @Test("a missing params file and an undeclared key are located errors, exit 2")
    func errors() throws {
        let repo = try tunedRepo(params: "lr: 0.5\nepoch: 4\n")
        let undeclared = try repo.mlpipe("run")
        #expect(undeclared.status == 2, "\(undeclared)")
        #expect(undeclared.stderr.contains("params.yaml:2:1: error: unknown param 'epoch' in params file"), "\(undeclared)")
        try FileManager.default.removeItem(atPath: repo.path("params.yaml"))
        let lint = try repo.mlpipe("lint")
        #expect(lint.status == 2, "\(lint)")
        #expect(lint.stdout.contains("pipelines/tuned.yaml:3:16: error: params file 'params.yaml' does not exist")
                || lint.stderr.contains("pipelines/tuned.yaml:3:16: error: params file 'params.yaml' does not exist"), "\(lint)")
    }

    @Test("rerun --param repeats a run with one value changed, running only the stages that use it")
    func rerunWithParam() throws {
        let repo = try tunedRepo()
        #expect(try repo.mlpipe("run").status == 0)
        let rerun = try repo.mlpipe("rerun", "1", "--param", "epochs=9")
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try repo.statuses() == ["fit": "cached", "count": "succeeded"])
        #expect(try output(repo, "count") == "epochs=9\n")
        let bad = try repo.mlpipe("rerun", "1", "--param", "epochz=9")
        #expect(bad.status == 2 && bad.stderr.contains("did you mean 'epochs'?"), "\(bad)")
    }
}
