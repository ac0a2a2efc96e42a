import Foundation
import Testing

@Suite("CI: GitHub annotations and step summary, status --exit-code, errors as JSON")
struct CIIntegrationTests {
    let badPipeline = "version: 1\nname: bad\nstages:\n  a:\n    run: echo\n    needs: [trian]\n"

    @Test("under GITHUB_ACTIONS, lint prints an ::error annotation at the diagnostic's file, line and column")
    func lintAnnotations() throws {
        let repo = try TempRepo(files: ["pipelines/bad.yaml": badPipeline])
        let plain = try repo.mlpipe("lint")
        #expect(plain.status == 2 && !plain.stdout.contains("::error"), "\(plain)")
        let result = try repo.mlpipe("lint", env: ["GITHUB_ACTIONS": "true"])
        #expect(result.status == 2, "\(result)")
        let annotation = result.lines.first { $0.hasPrefix("::error file=pipelines/bad.yaml,line=6,col=") }
        #expect(annotation?.contains("::unknown stage 'trian'") == true, "\(result)")
    }

    @Test("under GITHUB_ACTIONS, run annotates a definition error and a failed stage, and appends a Markdown summary")
    func runAnnotationsAndSummary() throws {
        let repo = try TempRepo(files: ["pipelines/p.yaml": """
            version: 1
            name: p
            stages:
              good:
                run: echo ok > ${{ outputs.out }}
                outputs: { out: out.txt }
              broken:
                run: echo 'bad, 100%' >&2; exit 4
                needs: [good]

            """])
        let summary = repo.path("summary.md")
        try "# earlier step\n".write(toFile: summary, atomically: true, encoding: .utf8)
        let result = try repo.mlpipe("run", env: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary])
        #expect(result.status == 1, "\(result)")
        #expect(result.lines.contains { $0.hasPrefix("::error title=mlpipe%3A stage broken failed::") }, "\(result)")
        let text = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(text.hasPrefix("# earlier step\n"), "the summary is appended, not overwritten")
        #expect(text.contains("mlpipe run #1 p: failed"), "\(text)")
        #expect(text.contains("| `good` | succeeded |") && text.contains("| `broken` | failed |"), "\(text)")

        try repo.write("pipelines/p.yaml", badPipeline)
        try repo.commit("break")
        let bad = try repo.mlpipe("run", "pipelines/p.yaml", env: ["GITHUB_ACTIONS": "true"])
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.lines.contains { $0.hasPrefix("::error file=pipelines/p.yaml,line=6,col=") }, "\(bad)")
    }

    @Test("status --exit-code exits 1 while a stage would run and 0 once everything is cached")
    func statusExitCode() throws {
        let repo = try basicRepo()
        #expect(try repo.mlpipe("status").status == 0)
        let stale = try repo.mlpipe("status", "--exit-code")
        #expect(stale.status == 1 && stale.stdout.contains("would run"), "\(stale)")
        #expect(try repo.mlpipe("run").status == 0)
        let fresh = try repo.mlpipe("status", "--exit-code")
        #expect(fresh.status == 0 && fresh.stdout.contains("up to date"), "\(fresh)")
        #expect(try repo.mlpipe("status", "--exit-code", "--json").status == 0)
    }

    @Test("with --json, a definition error is one JSON object on stdout with each diagnostic's place, exit 2")
    func jsonErrors() throws {
        let repo = try TempRepo(files: ["pipelines/bad.yaml": badPipeline])
        for command in [["run", "--json"], ["status", "--json"]] {
            let result = try repo.mlpipe(arguments: command)
            #expect(result.status == 2, "\(result)")
            let object = try #require(try result.json() as? [String: Any], "\(result)")
            let error = try #require(object["error"] as? [String: Any])
            #expect(error["category"] as? String == "definition" && error["exitCode"] as? Int == 2)
            let diagnostics = try #require(error["diagnostics"] as? [[String: Any]])
            #expect(diagnostics.contains { $0["file"] as? String == "pipelines/bad.yaml" && $0["line"] as? Int == 6
                && ($0["message"] as? String)?.contains("trian") == true }, "\(result)")
        }
        let missing = try repo.mlpipe("runs", "show", "99", "--json")
        #expect(missing.status == 2, "\(missing)")
        let object = try #require(try missing.json() as? [String: Any], "\(missing)")
        #expect((object["error"] as? [String: Any])?["message"] as? String == "no run #99; `mlpipe runs` lists the recorded runs")
    }
}
