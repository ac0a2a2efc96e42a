import Foundation
import PipelineSpec
import Testing

/// Inputs built to break parsers: each must end in diagnostics, quickly, without a crash.
@Suite("hostile input")
struct RobustnessTests {
    @Test("an empty file and a file of comments say what a pipeline needs")
    func empty() {
        let expected = ["pipeline.yaml:1:1: error: the file has no YAML content; a pipeline needs at least "
                        + "`version: 1`, `name:` and `stages:`"]
        #expect(lint("") == expected)
        #expect(lint("# nothing\n\n") == expected)
    }

    @Test("a root that is not a mapping is reported")
    func nonMappingRoot() {
        #expect(lint("- a\n- b\n") == ["pipeline.yaml:1:1: error: expected a mapping for the pipeline file, found a list; "
                                       + "write it as `key: value` lines, e.g. `version: 1`, `name:` and `stages:`"])
        #expect(lint("just text\n") == ["pipeline.yaml:1:1: error: expected a mapping for the pipeline file, found a "
                                        + "string; write it as `key: value` lines, e.g. `version: 1`, `name:` and `stages:`"])
    }

    @Test("a billion-laughs alias bomb is stopped at the alias that crosses the limit")
    func billionLaughs() {
        var yaml = "version: 1\nname: x\nparams:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            yaml += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        yaml += "stages:\n  s: { run: echo }\n"
        #expect(lint(yaml) == ["pipeline.yaml:8:47: error: alias '*a3' expands the document past 100000 nodes; "
                               + "write the values out instead of nesting aliases"])
    }

    @Test("aliases used as mapping keys cannot make key comparison explode")
    func aliasKeys() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            yaml += "a\(level): &a\(level) [*a\(level - 1), *a\(level - 1), *a\(level - 1), *a\(level - 1)]\n"
        }
        yaml += "k:\n  ? *a12\n  : 1\n  ? *a12\n  : 2\n"
        #expect(!lint(yaml).isEmpty)
    }

    @Test("deep nesting is reported, in flow and block style")
    func deepNesting() {
        #expect(lint(String(repeating: "[", count: 100_000))
            == ["pipeline.yaml:1:1: error: invalid YAML: nesting deeper than 1000 levels; a pipeline file never needs "
                + "this, flatten the structure"])
        let block = (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        #expect(lint(block).contains("pipeline.yaml:65:65: error: nesting deeper than 64 levels; a pipeline file never "
                                     + "needs this, flatten the structure"))
        let params = "version: 1\nname: x\nparams:\n  p: " + String(repeating: "[", count: 500)
            + String(repeating: "]", count: 500) + "\nstages:\n  s: { run: echo }\n"
        #expect(lint(params) == ["pipeline.yaml:4:68: error: nesting deeper than 64 levels; a pipeline file never needs "
                                 + "this, flatten the structure"])
    }

    @Test("binary junk is reported as YAML that cannot be read")
    func binaryJunk() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<50 {
            var text = ""
            for _ in 0..<200 { text.unicodeScalars.append(Unicode.Scalar(UInt8(truncatingIfNeeded: generator.next()))) }
            let diagnostics = lint(text)
            #expect(!diagnostics.isEmpty)
            #expect(diagnostics.allSatisfy { $0.hasPrefix("pipeline.yaml:") && $0.contains(": error: ") })
        }
        #expect(lint("version: 1\u{0}\n") == ["pipeline.yaml:1:11: error: invalid YAML: control characters are not "
                                                + "allowed (byte 0x0); pipeline files must be UTF-8 text without control characters"])
    }

    @Test("a second YAML document is reported and ignored")
    func secondDocument() {
        #expect(lint("version: 1\nname: x\nstages: { a: { run: echo } }\n---\nfoo: 1\n")
            == ["pipeline.yaml:4:1: error: a pipeline file holds one YAML document, found a second one; remove the `---` "
                + "and what follows, or move it to its own file"])
    }

    @Test("an oversized file is refused before parsing")
    func oversized() {
        let huge = String(repeating: "# padding\n", count: PipelineLoader.maximumFileSize / 10 + 1)
        #expect(lint(huge).count == 1)
        #expect(lint(huge).first?.hasPrefix("pipeline.yaml:1:1: error: the file is ") == true)
    }

    @Test("thousands of stages in a chain load, order and detect a cycle without recursion")
    func longChains() throws {
        var yaml = "version: 1\nname: chain\nstages:\n"
        for index in 0..<2000 { yaml += "  s\(index): { run: x\(index > 0 ? ", needs: s\(index - 1)" : "") }\n" }
        let pipeline = try load(yaml)
        #expect(pipeline.topologicalOrder.first == "s0")
        #expect(pipeline.downstream(of: ["s0"]).count == 1999)
        let cyclic = yaml.replacingOccurrences(of: "s0: { run: x }", with: "s0: { run: x, needs: s1999 }")
        let diagnostics = lint(cyclic)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.hasPrefix("pipeline.yaml:4:3: error: dependency cycle: s0 -> s1999 -> s1998") == true)
    }
}

@Test("control characters from quoted keys are escaped in diagnostics, which stay one line")
func controlCharactersInDiagnostics() {
    #expect(lint("version: 1\nname: x\n\"\\e[31mred\\nline\": 1\nstages: { a: { run: echo } }\n")
        == [#"pipeline.yaml:3:1: error: unknown key '\u{1B}[31mred line' at the top level; valid keys are: env, name, params, params_files, remote, secrets, stages, version"#])
}

@Test("a file with thousands of stages and mistakes is checked with a bounded report")
func manyStagesAndMistakes() {
    var yaml = "version: 1\nname: big\nstages:\n"
    for index in 0..<1_100 { yaml += "  s\(index): { run: x, needs: [t\(index)] }\n" }
    let diagnostics = lint(yaml)
    #expect(diagnostics.count == 1_001)
    #expect(diagnostics.first == "pipeline.yaml:4:25: error: unknown stage 't0' in needs; did you mean 's0'?")
    #expect(diagnostics.contains { $0.contains("too many problems; only the first 1000 are shown") })
}
