import Foundation
import Testing

/// The experiments table (`runs --metrics --params`, `exp show`) and `runs diff` of many runs.
@Suite("Experiments table and runs diff of several runs")
struct ExperimentsTests {
    static let pipeline = """
        version: 1
        name: sweep
        params:
          lr: 0.1
          depth: 3
        stages:
          train:
            run: |
              printf '{"score": %s, "loss": 1, "depth": ${{ params.depth }}}' ${{ params.lr }} > ${{ outputs.metrics }}
            outputs: { metrics: metrics.json }
            metrics: metrics.json

        """

    /// Three runs: lr 0.1, 0.3, 0.2, the same depth.
    static func repo() throws -> TempRepo {
        let repo = try TempRepo(files: ["pipelines/sweep.yaml": pipeline])
        for lr in ["0.1", "0.3", "0.2"] {
            let run = try repo.mlpipe("run", "--param", "lr=\(lr)")
            guard run.status == 0 else { throw HarnessError(description: "\(run)") }
        }
        return repo
    }

    @Test("runs --params --metrics shows a row per run and only the columns whose values differ")
    func table() throws {
        let repo = try Self.repo()
        let result = try repo.mlpipe("runs", "--params", "--metrics")
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == [
            "RUN  STATUS     lr   train.score",
            "#3   succeeded  0.2  0.2",
            "#2   succeeded  0.3  0.3",
            "#1   succeeded  0.1  0.1",
            "(3 columns with the same value in every run not shown; --all shows them)",
        ], "\(result)")

        let all = try repo.mlpipe("runs", "--metrics", "--all", "--limit", "2")
        #expect(all.lines == [
            "RUN  STATUS     train.depth  train.loss  train.score",
            "#3   succeeded  3            1           0.2",
            "#2   succeeded  3            1           0.3",
        ], "\(all)")
        #expect(try repo.mlpipe("exp", "show").stdout == result.stdout)
    }

    @Test("the table sorts by a metric or param, descending with a leading minus, and prints CSV and typed JSON")
    func sortAndFormats() throws {
        let repo = try Self.repo()
        let descending = try repo.mlpipe("runs", "--metrics", "--sort", "-score")
        #expect(descending.lines.dropFirst().prefix(3).map { String($0.prefix(2)) } == ["#2", "#3", "#1"], "\(descending)")
        let ascending = try repo.mlpipe("exp", "show", "--sort", "lr")
        #expect(ascending.lines.dropFirst().prefix(3).map { String($0.prefix(2)) } == ["#1", "#3", "#2"], "\(ascending)")

        let csv = try repo.mlpipe("runs", "--params", "--metrics", "--sort=-train.score", "--csv")
        #expect(csv.stdout == "run,status,lr,train.score\n2,succeeded,0.3,0.3\n3,succeeded,0.2,0.2\n1,succeeded,0.1,0.1\n", "\(csv)")

        let json = try repo.mlpipe("exp", "show", "--json", "--limit", "1")
        let rows = try #require(try json.json() as? [[String: Any]], "\(json)")
        #expect(rows.count == 1)
        #expect(rows.first?["id"] as? Int == 3)
        #expect((rows.first?["params"] as? [String: Any])?["lr"] as? Double == 0.2)
        #expect((rows.first?["metrics"] as? [String: Any])?["train.score"] as? Double == 0.2)
        #expect((rows.first?["metrics"] as? [String: Any])?["train.loss"] as? Int == 1, "one row: every column is shown")

        let unknown = try repo.mlpipe("runs", "--metrics", "--sort", "scor")
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("--sort scor: no param or metric of that name; did you mean 'train.score'?"), "\(unknown)")
        let stray = try repo.mlpipe("runs", "--csv")
        #expect(stray.status == 2, "\(stray)")
    }

    @Test("runs diff of three runs prints a column per run, and JSON with the values in run order")
    func diffOfMany() throws {
        let repo = try Self.repo()
        let result = try repo.mlpipe("runs", "diff", "1", "2", "3")
        #expect(result.status == 0, "\(result)")
        let words = result.lines.map { $0.split(separator: " ").map(String.init) }
        #expect(words.first == ["#1", "#2", "#3"], "\(result)")
        #expect(words.contains(["param", "lr", "0.1", "0.3", "0.2"]), "\(result)")
        #expect(words.contains(["metric", "train.score", "0.1", "0.3", "0.2"]), "\(result)")
        #expect(words.contains { $0.first == "output" && $0.count == 5 && $0[2].hasPrefix("sha256:") }, "\(result)")
        #expect(!words.contains { $0.count > 1 && $0[1] == "depth" }, "\(result)")

        let json = try #require(try repo.mlpipe("runs", "diff", "1", "2", "3", "--json").json() as? [String: Any])
        #expect(json["runs"] as? [Int] == [1, 2, 3])
        let differences = try #require(json["differences"] as? [[String: Any]])
        let lr = try #require(differences.first { $0["name"] as? String == "lr" })
        #expect(lr["category"] as? String == "param")
        #expect(lr["values"] as? [Double] == [0.1, 0.3, 0.2])

        let one = try repo.mlpipe("runs", "diff", "1")
        #expect(one.status == 2, "\(one)")
        #expect(one.stderr.contains("runs diff compares two runs or more"), "\(one)")
    }
}
