import Foundation
import PipelineSpec
import Testing

/// One test per class of mistake, each asserting the exact lines a user sees.
@Suite("diagnostics")
struct DiagnosticTests {
    /// A valid header so that each test shows only the problem it is about.
    static let header = "version: 1\nname: demo\n"

    @Test("a YAML syntax error is reported at libyaml's mark with a hint")
    func yamlSyntaxError() {
        #expect(lint(Self.header + "stages:\n  a:\n    run: echo: oops\n")
            == ["pipeline.yaml:5:14: error: invalid YAML: mapping values are not allowed in this context; "
                + "check the indentation and quoting here"])
    }

    @Test("a tab used for indentation is named as the cause")
    func tabIndentation() {
        #expect(lint(Self.header + "stages:\n\ta:\n    run: echo\n")
            == ["pipeline.yaml:4:1: error: invalid YAML: found character that cannot start any token while scanning "
                + "for the next token at line 4, column 1; YAML indentation must use spaces, not tabs"])
    }

    @Test("a duplicate key is reported at the repeat, naming the first line")
    func duplicateKey() {
        #expect(lint(Self.header + "stages:\n  a:\n    run: echo 1\n    run: echo 2\n  a:\n    run: echo 3\n")
            == ["pipeline.yaml:6:5: error: duplicate key 'run' (first defined on line 5); remove one of them or rename it",
                "pipeline.yaml:7:3: error: duplicate key 'a' (first defined on line 4); remove one of them or rename it"])
    }

    @Test("unknown keys at every level are reported with a did-you-mean")
    func unknownKeys() {
        let yaml = Self.header + """
            parms: {}
            secrets:
              TOKEN: { evn: TOKEN }
            stages:
              a:
                kidn: command
                run: echo
                zzz: 1

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:3:1: error: unknown key 'parms' at the top level; did you mean 'params'?",
            "pipeline.yaml:5:12: error: unknown secret provider 'evn' in secret 'TOKEN'; did you mean 'env'? "
                + "(known providers: env, file, vault)",
            "pipeline.yaml:8:5: error: unknown key 'kidn' in stage 'a'; did you mean 'kind'?",
            "pipeline.yaml:10:5: error: unknown key 'zzz' in stage 'a'; valid keys are: cache, env, executor, inputs, kind, "
                + "matrix, metrics, needs, node_selector, outputs, resources, retries, run, secrets, timeout, with",
        ].sorted(by: Self.byPosition))
    }

    @Test("a value of the wrong type says what was expected and what was found")
    func wrongType() {
        let yaml = Self.header + "stages:\n  a:\n    run: echo\n    needs: { b: 1 }\n    inputs: [x, [y]]\n"
            + "    retries: -1\n    cache: 'no'\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:6:12: error: expected a string or a list of strings for `needs` of stage 'a', found a mapping; "
                + "write e.g. `needs: [train, evaluate]`",
            "pipeline.yaml:7:17: error: expected a list of strings for `inputs` of stage 'a', found a list in the list",
            "pipeline.yaml:8:14: error: expected a whole number of 0 or more for `retries`, found the number -1; "
                + "write e.g. `retries: 2`",
            "pipeline.yaml:9:12: error: expected true or false for `cache`, found the string 'no'; "
                + "write `cache: false` (without quotes)",
        ])
    }

    @Test("a need on an unknown stage is reported at its line and column with a did-you-mean")
    func unknownNeed() {
        #expect(lint(Self.header + "stages:\n  train:\n    run: 'true'\n  b:\n    needs: [trian]\n    run: 'true'\n")
            == ["pipeline.yaml:7:13: error: unknown stage 'trian' in needs; did you mean 'train'?"])
        #expect(lint(Self.header + "stages:\n  b:\n    needs: zzz\n    run: 'true'\n")
            == ["pipeline.yaml:5:12: error: unknown stage 'zzz' in needs; stages are: b"])
    }

    @Test("an expression naming an unknown stage is reported at the reference")
    func unknownStageInExpression() {
        let yaml = Self.header + "stages:\n  train:\n    run: echo\n    outputs: { model: m.bin }\n"
            + "  b:\n    run: cp ${{ stages.trian.outputs.model }} .\n"
        #expect(lint(yaml) == ["pipeline.yaml:8:17: error: unknown stage 'trian' in expression; did you mean 'train'?"])
    }

    @Test("an expression naming an unknown param is reported with a did-you-mean")
    func unknownParam() {
        let yaml = Self.header + "params:\n  min_accuracy: 0.9\nstages:\n  a:\n    run: echo ${{ params.min_acuracy }}\n"
        #expect(lint(yaml)
            == ["pipeline.yaml:7:19: error: unknown param 'min_acuracy' in expression; did you mean 'min_accuracy'?"])
    }

    @Test("an expression naming an undeclared output, of this stage or another, is reported")
    func unknownOutput() {
        let yaml = Self.header + """
            stages:
              train:
                run: echo ${{ outputs.modle }}
                outputs: { model: m.bin }
              b:
                run: echo ${{ stages.train.outputs.weights }}

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:5:19: error: unknown output 'modle' of stage 'train' in expression; did you mean 'model'?",
            "pipeline.yaml:8:19: error: unknown output 'weights' of stage 'train' in expression; its outputs are: model",
        ])
    }

    @Test("an expression naming an undeclared secret, variable or context is reported")
    func unknownSecretEnvAndContext() {
        let yaml = Self.header + """
            env: { MODE: fast }
            secrets: { TOKEN: { env: TOKEN } }
            stages:
              a:
                run: echo ${{ env.MOD }} ${{ gti.sha }} ${{ git.commit }}
                env: { T: "${{ secrets.TOKEM }}" }
                secrets: [TOKEN]

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:7:19: error: unknown variable 'MOD' in expression; did you mean 'MODE'?",
            "pipeline.yaml:7:34: error: unknown context 'gti' in expression; did you mean 'git'?",
            "pipeline.yaml:7:49: error: unknown git field in 'git.commit'; use git.sha, git.short_sha or git.branch",
            "pipeline.yaml:8:20: error: unknown secret 'TOKEM' in expression; did you mean 'TOKEN'?",
        ])
    }

    @Test("an unterminated ${{ is reported where it opens")
    func unterminatedExpression() {
        #expect(lint(Self.header + "stages:\n  a:\n    run: echo ${{ params.x\n")
            == ["pipeline.yaml:5:15: error: unterminated '${{'; close the expression with '}}'"])
    }

    @Test("a bad token is reported at its own column, and later expressions are still checked")
    func badToken() {
        let yaml = Self.header + "params: { x: 1 }\nstages:\n  a:\n    run: \"echo ${{ params.x = 1 }} ${{ \\\"q\\\" }} ${{ params.y }}\"\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:6:29: error: unexpected character '=' in expression; compare with '=='",
            "pipeline.yaml:6:40: error: unexpected character '\"' in expression; strings in expressions use single quotes: 'text'",
            "pipeline.yaml:6:53: error: unknown param 'y' in expression; did you mean 'x'?",
        ])
    }

    @Test("malformed expressions name what was expected")
    func malformedExpressions() {
        let yaml = Self.header + """
            stages:
              a:
                run: echo ${{ }} ${{ params. }} ${{ (true }} ${{ format('x') }} ${{ 'open }}

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:5:19: error: empty expression; write a value between '${{' and '}}', e.g. ${{ params.name }}",
            "pipeline.yaml:5:34: error: expression ends early; expected a name after '.' before '}}'",
            "pipeline.yaml:5:47: error: expression ends early; expected ')' before '}}'",
            "pipeline.yaml:5:54: error: unknown function 'format'; expressions support no functions, only names, "
                + "literals and operators",
            "pipeline.yaml:5:73: error: unterminated string in expression; close it with a single quote "
                + "(write '' for a quote inside)",
        ])
    }

    @Test("a cycle is reported once with its whole path, at its first stage")
    func cycle() {
        let yaml = Self.header + """
            stages:
              a:
                run: echo
                needs: c
              b:
                run: echo
                needs: a
                outputs: { o: o.txt }
              c:
                run: cat ${{ stages.b.outputs.o }}

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:4:3: error: dependency cycle: a -> c -> b -> a; each stage depends on the next, "
                + "remove one of these needs or references",
        ])
    }

    @Test("a stage that needs itself is told so")
    func selfNeed() {
        #expect(lint(Self.header + "stages:\n  a:\n    run: echo\n    needs: [a]\n")
            == ["pipeline.yaml:6:13: error: stage 'a' needs itself; remove 'a' from its `needs`"])
    }

    @Test("output paths that collide or nest are reported at the later one")
    func duplicateAndNestedOutputs() {
        let yaml = Self.header + "stages:\n  a:\n    run: echo\n    outputs:\n      model: out/model.onnx\n"
            + "      again: ./out/model.onnx\n      folder: out\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:8:14: error: output 'again' has the same path 'out/model.onnx' as output 'model'; "
                + "give each output its own path",
            "pipeline.yaml:9:15: error: output 'folder' path 'out' contains output 'model' path 'out/model.onnx'; "
                + "declare only the folder, or give them separate paths",
        ])
    }

    @Test("an output path that is absolute or leaves the stage's folder is refused")
    func escapingOutputs() {
        let yaml = Self.header + "stages:\n  a:\n    run: echo\n    outputs: { a: /tmp/x, b: ../x, c: x/../.. }\n"
            + "    metrics: ../m.json\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:6:19: error: output path '/tmp/x' is absolute; write it relative to the stage's output folder, "
                + "e.g. 'model.onnx'",
            "pipeline.yaml:6:30: error: output path '../x' leaves the stage's output folder; remove the '..' components",
            "pipeline.yaml:6:39: error: output path 'x/../..' leaves the stage's output folder; remove the '..' components",
            "pipeline.yaml:7:14: error: metrics path '../m.json' leaves the stage's output folder; remove the '..' components",
        ])
    }

    @Test("an unknown kind is reported with a did-you-mean among the registered kinds")
    func unknownKind() {
        #expect(lint(Self.header + "stages:\n  a:\n    kind: valdate\n    with: { model: m }\n")
            == ["pipeline.yaml:5:11: error: unknown kind 'valdate' in stage 'a'; did you mean 'validate'?"])
    }

    @Test("run: on a kind that does not take it is refused")
    func runNotAllowed() {
        #expect(lint(Self.header + "stages:\n  a:\n    kind: validate\n    run: echo\n    with: { model: m }\n")
            == ["pipeline.yaml:6:5: error: kind 'validate' takes no `run:`; remove it, or use `kind: command` for a "
                + "shell command"])
    }

    @Test("a command stage without run: is told to add one")
    func missingRun() {
        #expect(lint(Self.header + "stages:\n  a:\n    kind: command\n")
            == ["pipeline.yaml:4:3: error: stage 'a' of kind 'command' has no `run:`; add the shell command to run"])
        #expect(lint(Self.header + "stages:\n  a:\n    needs: []\n")
            == ["pipeline.yaml:4:3: error: stage 'a' has no `kind:`; add `kind:` (one of: command, deploy, register, "
                + "serialize, smoke-test, validate) or a `run:` command"])
    }

    @Test("a missing required with: key of the kind is reported")
    func missingWithKey() {
        #expect(lint(Self.header + "stages:\n  a:\n    kind: smoke-test\n    with:\n      endpoint: http://x\n")
            == ["pipeline.yaml:6:5: error: stage 'a' is missing `with:` key 'requests' required by kind 'smoke-test'; "
                + "add it under `with:`"])
        #expect(lint(Self.header + "stages:\n  a:\n    kind: validate\n")
            == ["pipeline.yaml:4:3: error: stage 'a' is missing `with:` key 'model' required by kind 'validate'; "
                + "add it under `with:`"])
    }

    @Test("an unknown with: key is reported with a did-you-mean among the kind's keys")
    func unknownWithKey() {
        #expect(lint(Self.header + "stages:\n  a:\n    kind: validate\n    with: { model: m, fromat: onnx, zz: 1 }\n")
            == ["pipeline.yaml:6:23: error: unknown `with:` key 'fromat' for kind 'validate'; did you mean 'format'?",
                "pipeline.yaml:6:37: error: unknown `with:` key 'zz' for kind 'validate'; its keys are: checksum, "
                    + "format, max_size, model, signature"])
    }

    @Test("with: on a command stage is refused with the alternatives")
    func withOnCommand() {
        #expect(lint(Self.header + "stages:\n  a:\n    run: echo\n    with: { x: 1 }\n")
            == ["pipeline.yaml:6:5: error: kind 'command' takes no `with:` settings; pass values to the command in "
                + "`run:` or `env:`"])
    }

    @Test("a secret used in run: is refused, and the message says how to pass it")
    func secretInRun() {
        let yaml = Self.header + "secrets: { TOKEN: { env: TOKEN } }\nstages:\n  a:\n    run: curl -u ${{ secrets.TOKEN }}\n"
            + "    env: { T: \"${{ secrets.TOKEN }}\" }\n    secrets: [TOKEN]\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:6:22: error: secrets cannot be used in `run:`, where they would show in process listings; "
                + "pass it through the stage's env (`env: { TOKEN: \"${{ secrets.TOKEN }}\" }`) and use $TOKEN in the command",
        ])
    }

    @Test("version, name and stages are required and checked")
    func topLevelRequirements() {
        #expect(lint("version: 2\nname: 'my pipeline'\nstages: {}\n") == [
            "pipeline.yaml:1:10: error: unsupported version 2; this mlpipe reads `version: 1`",
            "pipeline.yaml:2:7: error: invalid pipeline name 'my pipeline'; use only letters, digits, '_', '.' and '-'",
            "pipeline.yaml:3:9: error: `stages` is empty; add at least one stage",
        ])
        #expect(lint("env: {}\n") == [
            "pipeline.yaml:1:1: error: missing `name`; add a pipeline name, e.g. `name: iris`",
            "pipeline.yaml:1:1: error: missing `stages`; add a `stages:` mapping with at least one stage",
            "pipeline.yaml:1:1: error: missing `version`; add `version: 1` at the top of the file",
        ])
    }

    @Test("bad names, timeouts and secret sources are each reported")
    func namesAndValues() {
        let yaml = Self.header + """
            env: { 1BAD: x, OK: [1] }
            secrets: { A: { env: A, file: /a }, B: token }
            stages:
              9lives:
                run: echo
              a:
                run: echo
                timeout: 10 minutes

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:3:8: error: invalid variable name '1BAD'; use letters, digits and '_', not starting with a digit",
            "pipeline.yaml:3:21: error: expected a string, number or boolean for env 'OK', found a list",
            "pipeline.yaml:4:12: error: secret 'A' has both `env:` and `file:`; keep one of them",
            "pipeline.yaml:4:40: error: expected a mapping for secret 'B', found a string; write it as `key: value` lines, "
                + "e.g. `{ env: B }` or `{ file: /run/secrets/x }`",
            "pipeline.yaml:6:3: error: invalid stage name '9lives'; use letters, digits, '_' and '-', starting with a "
                + "letter or '_'",
            "pipeline.yaml:10:14: error: invalid timeout: found the string '10 minutes'; write a positive number of "
                + "seconds (600) or a duration like '90s', '10m' or '1h30m'",
        ])
    }

    @Test("every problem in a file is reported at once, sorted by line and column")
    func allAtOnce() {
        let yaml = """
            version: 1
            name: demo
            stages:
              b:
                needs: [nope]
                run: echo ${{ params.x }}
              a:
                kind: deplyo

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:5:13: error: unknown stage 'nope' in needs; stages are: a, b",
            "pipeline.yaml:6:19: error: unknown param 'x' in expression; the pipeline declares no params, add 'x' "
                + "under `params:`",
            "pipeline.yaml:8:11: error: unknown kind 'deplyo' in stage 'a'; did you mean 'deploy'?",
        ])
    }

    @Test("a file that cannot be read is reported at FILE:1:1")
    func unreadableFile() {
        #expect(throws: SpecErrors.self) {
            try PipelineLoader.load(path: "/nonexistent/pipe.yaml", displayPath: "pipelines/pipe.yaml", kinds: testKinds,
                                        secretProviders: testSecretProviders)
        }
        do {
            _ = try PipelineLoader.load(path: "/nonexistent/pipe.yaml", displayPath: "pipelines/pipe.yaml", kinds: testKinds,
                                        secretProviders: testSecretProviders)
        } catch {
            #expect(error.diagnostics.map(\.rendered)
                == ["pipelines/pipe.yaml:1:1: error: cannot read the pipeline file: no such file; check the path"])
        }
    }

    @Test("a file that is not UTF-8 is reported at its first bad byte")
    func notUTF8() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("p.yaml")
        try Data("version: 1\nname: \u{e9}t\u{e9}\nx: ".utf8 + [0xFF, 0xFE]).write(to: file)
        do {
            _ = try PipelineLoader.load(path: file.path, displayPath: "p.yaml", kinds: testKinds,
                                        secretProviders: testSecretProviders)
            Issue.record("loading a non-UTF-8 file succeeded")
        } catch {
            #expect(error.diagnostics.map(\.rendered) == ["p.yaml:3:4: error: the file is not UTF-8 text; save it as UTF-8"])
        }
    }

    @Test("a readable file loads with its display path in every location")
    func loadFromDisk() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString).yaml")
        try irisPipeline.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let pipeline = try PipelineLoader.load(path: file.path, displayPath: "pipelines/iris.yaml", kinds: testKinds,
                                        secretProviders: testSecretProviders)
        #expect(pipeline.file == "pipelines/iris.yaml")
        #expect(pipeline.stage(named: "train")?.location.description == "pipelines/iris.yaml:11:3")
        #expect(pipeline.source == irisPipeline)
    }

    static func byPosition(_ a: String, _ b: String) -> Bool {
        func key(_ line: String) -> (Int, Int) {
            let parts = line.split(separator: ":")
            return (Int(parts[1]) ?? 0, Int(parts[2]) ?? 0)
        }
        return key(a) < key(b)
    }
}

@Test("a string field given a boolean or nothing says how to write it")
func stringFieldHints() {
    #expect(lint("version: 1\nname: true\nstages:\n  a:\n    run:\n")
        == ["pipeline.yaml:2:7: error: expected a string for `name`, found a boolean; put it in quotes if you mean text",
            "pipeline.yaml:5:9: error: expected a string for `run` of stage 'a', found null; write a value after the colon"])
}
