import Foundation
import Testing

@Suite("templates/ci")
struct ServeCITemplateTests {
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates/ci").path

    @Test("the mlpipe command of each CI template runs a pipeline and writes the JUnit report the template uploads",
          arguments: ["github-actions.yml", "gitlab-ci.yml"])
    func templateCommandRuns(_ name: String) throws {
        let text = try String(contentsOfFile: Self.templates + "/" + name, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains("mlpipe run ") }, "no `mlpipe run` in \(name)")
        let command = line.drop { $0 != "m" }
        let arguments = command.split(separator: " ").dropFirst().map(String.init)
        let report = try #require(arguments.firstIndex(of: "--junit").map { arguments[$0 + 1] })
        #expect(text.contains("path: \(report)") || text.contains("- \(report)") || text.contains("junit: \(report)"),
                "\(name) uploads the report it writes")
        let repo = try basicRepo()
        let result = try repo.mlpipe(arguments: arguments, env: ["CI": "true"])
        #expect(result.status == 0, "\(name): \(result)")
        let xml = repo.read(report) ?? ""
        #expect(xml.contains("<testsuite name=\"demo\"") && xml.contains("<testcase"), "\(name): \(xml)")
        #expect(try repo.show()["trigger"] as? String == "ci")
    }
}
