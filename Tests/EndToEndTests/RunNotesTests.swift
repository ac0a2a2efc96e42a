import Foundation
import Testing

/// `run --name`, `runs note`, and how `runs` shows them.
@Suite("Run names and notes")
struct RunNotesTests {
    static let pipeline = """
        version: 1
        name: tiny
        params:
          word: hi
        stages:
          say:
            run: echo ${{ params.word }} > ${{ outputs.out }}
            outputs: { out: out.txt }

        """

    @Test("run --name is shown by runs, runs show and --json, and runs --name finds the runs whose name contains it")
    func names() throws {
        let repo = try TempRepo(files: ["pipelines/tiny.yaml": Self.pipeline])
        #expect(try repo.mlpipe("run", "--name", "Baseline").status == 0)
        #expect(try repo.mlpipe("run", "--param", "word=ho").status == 0)
        #expect(try repo.mlpipe("run", "--param", "word=ha", "--name", "lr sweep 100%").status == 0)
        #expect(try repo.mlpipe("rerun", "1", "--name", "baseline again").status == 0)

        let list = try repo.mlpipe("runs")
        #expect(list.status == 0, "\(list)")
        #expect(list.lines.first?.hasSuffix("TRIGGER      NAME             NOTE") == true, "\(list)")
        #expect(list.lines.contains { $0.hasPrefix("#1 ") && $0.hasSuffix("cli          Baseline         -") }, "\(list)")
        #expect(list.lines.contains { $0.hasPrefix("#2 ") && $0.hasSuffix("cli          -                -") }, "\(list)")
        #expect(list.lines.contains { $0.hasPrefix("#4 ") && $0.hasSuffix("rerun of #1  baseline again   -") }, "\(list)")

        let found = try repo.mlpipe("runs", "--name", "baseline")
        #expect(found.lines.dropFirst().map { String($0.prefix(3)) } == ["#4 ", "#1 "], "\(found)")
        let percent = try repo.mlpipe("runs", "--name", "100%", "--json")
        let ids = try #require(try percent.json() as? [[String: Any]]).map { $0["id"] as? Int }
        #expect(ids == [3], "\(percent)")
        // `_` and `%` are taken literally, not as SQL wildcards.
        #expect(try repo.mlpipe("runs", "--name", "p_", "--json").stdout == "[]\n")
        let none = try repo.mlpipe("runs", "--name", "nosuch")
        #expect(none.status == 0)
        #expect(none.lines.count <= 1, "\(none)")

        let show = try repo.mlpipe("runs", "show", "1")
        #expect(show.lines.contains("  name      Baseline"), "\(show)")
        #expect(try repo.show("1")["name"] as? String == "Baseline")
        #expect(try repo.show("2")["name"] is NSNull)
        #expect(try repo.show("4")["name"] as? String == "baseline again")
    }

    @Test("a run's name stands for the newest run of that name wherever a RUN is asked for")
    func runByName() throws {
        let repo = try TempRepo(files: ["pipelines/tiny.yaml": Self.pipeline])
        #expect(try repo.mlpipe("run", "--name", "baseline").status == 0)
        #expect(try repo.mlpipe("run", "--param", "word=ho", "--name", "wide").status == 0)
        #expect(try repo.mlpipe("run", "--param", "word=ha", "--name", "baseline").status == 0)

        #expect(try repo.show("wide")["id"] as? Int == 2)
        #expect(try repo.show("baseline")["id"] as? Int == 3, "a repeated name means its newest run")
        let logs = try repo.mlpipe("logs", "wide", "say")
        #expect(logs.status == 0, "\(logs)")
        let diff = try repo.mlpipe("runs", "diff", "wide", "baseline")
        #expect(diff.status == 0, "\(diff)")
        #expect(diff.stdout.contains("word"), "\(diff)")
        #expect(try repo.mlpipe("runs", "note", "wide", "kept").status == 0)
        #expect(try repo.show("2")["note"] as? String == "kept")

        let unknown = try repo.mlpipe("runs", "show", "base")
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("no run is named 'base' (runs named like it: baseline)"), "\(unknown)")
    }

    @Test("runs note sets a run's note, --append adds a line, an empty note removes it")
    func notes() throws {
        let repo = try TempRepo(files: ["pipelines/tiny.yaml": Self.pipeline])
        #expect(try repo.mlpipe("run").status == 0)
        let plain = try repo.mlpipe("runs")
        #expect(plain.lines.first?.hasSuffix("DURATION  TRIGGER") == true, "runs without names or notes keep their table: \(plain)")

        let set = try repo.mlpipe("runs", "note", "1", "first try")
        #expect(set.status == 0, "\(set)")
        #expect(try repo.mlpipe("runs", "note", "latest", "kept: accuracy 0.93").status == 0)
        let appended = try repo.mlpipe("runs", "note", "1", "--append", "retry with more data")
        #expect(appended.stdout == "run #1: note set:\n  kept: accuracy 0.93\n  retry with more data\n", "\(appended)")
        #expect(try repo.show("1")["note"] as? String == "kept: accuracy 0.93\nretry with more data")

        let show = try repo.mlpipe("runs", "show", "1")
        let index = try #require(show.lines.firstIndex(of: "  note      kept: accuracy 0.93"), "\(show)")
        #expect(show.lines[index + 1] == "            retry with more data", "\(show)")
        let list = try repo.mlpipe("runs")
        #expect(list.lines.last?.hasSuffix("cli          -                kept: accuracy 0.93 …") == true, "\(list)")
        let json = try #require(try repo.mlpipe("runs", "--json").json() as? [[String: Any]])
        #expect(json.first?["note"] as? String == "kept: accuracy 0.93\nretry with more data")

        let removed = try repo.mlpipe("runs", "note", "1", "")
        #expect(removed.stdout == "run #1: note removed\n", "\(removed)")
        #expect(try repo.show("1")["note"] is NSNull)

        let unknown = try repo.mlpipe("runs", "note", "9", "x")
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr == "mlpipe: error: no run #9; `mlpipe runs` lists the recorded runs\n", "\(unknown)")
    }
}
