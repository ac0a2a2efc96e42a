import PipelineSpec
import Testing

@Suite("pipelines")
struct PipelineTests {
    @Test("the DESIGN.md pipeline loads with every field decoded")
    func iris() throws {
        let pipeline = try load(irisPipeline)
        #expect(pipeline.name == "iris")
        #expect(pipeline.version == 1)
        #expect(pipeline.paramOrder == ["min_accuracy", "epochs"])
        #expect(pipeline.params == ["min_accuracy": .double(0.9), "epochs": .int(3)])
        #expect(pipeline.env == ["PYTHONHASHSEED": "0"])
        #expect(pipeline.secrets == ["REGISTRY_PASSWORD": SecretSource(
            provider: "env", reference: "REGISTRY_PASSWORD", location: SourceLocation(file: "pipeline.yaml", line: 9, column: 3))])
        #expect(pipeline.stages.map(\.name) == ["train", "validate", "serialize", "register", "evaluate"])

        let train = try #require(pipeline.stage(named: "train"))
        #expect(train.kind == "command")
        #expect(train.inputs == ["examples/iris/train.py", "examples/iris/data.csv"])
        #expect(train.outputs == [StageOutput(name: "model", path: "model.onnx",
                                              location: SourceLocation(file: "pipeline.yaml", line: 15, column: 16))])
        #expect(train.timeout == 600)
        #expect(train.metrics == "metrics.json")
        #expect(train.run?.references == [["params", "epochs"], ["outputs", "model"]])
        #expect(train.dependencies.isEmpty)

        let register = try #require(pipeline.stage(named: "register"))
        #expect(register.retries == 2)
        #expect(register.cache == nil)
        #expect(register.dependencies == ["serialize"])
        #expect(register.references == [["stages", "serialize", "outputs", "package"], ["secrets", "REGISTRY_PASSWORD"]])
        #expect(register.secrets == ["REGISTRY_PASSWORD"])

        let evaluate = try #require(pipeline.stage(named: "evaluate"))
        #expect(evaluate.kind == "command")  // the default when only `run:` is given
        #expect(evaluate.cache == false)
        #expect(evaluate.needs == ["train"])
        #expect(evaluate.dependencies == ["train"])

        let serialize = try #require(pipeline.stage(named: "serialize"))
        #expect(serialize.needs == ["validate"])
        #expect(serialize.dependencies == ["train", "validate"])
        #expect(serialize.outputs.map(\.path) == ["package"])
    }

    @Test("the topological order puts dependencies first and breaks ties by file order")
    func topologicalOrder() throws {
        let pipeline = try load(irisPipeline)
        #expect(pipeline.topologicalOrder == ["train", "validate", "serialize", "register", "evaluate"])
        let reversed = try load("""
            version: 1
            name: order
            stages:
              d: { run: d, needs: [b, c] }
              c: { run: c, needs: a }
              b: { run: b, needs: a }
              e: { run: e }
              a: { run: a }

            """)
        #expect(reversed.topologicalOrder == ["e", "a", "c", "b", "d"])
    }

    @Test("downstream and upstream follow dependencies transitively and leave out the start")
    func downstreamAndUpstream() throws {
        let pipeline = try load(irisPipeline)
        #expect(pipeline.downstream(of: ["validate"]) == ["serialize", "register"])
        #expect(pipeline.downstream(of: ["train"]) == ["validate", "serialize", "register", "evaluate"])
        #expect(pipeline.downstream(of: ["register", "evaluate"]) == [])
        #expect(pipeline.upstream(of: ["register"]) == ["serialize", "validate", "train"])
        #expect(pipeline.upstream(of: ["train"]) == [])
    }

    @Test("param overrides are typed by the YAML core schema and a later one wins")
    func paramOverrides() throws {
        let pipeline = try load(irisPipeline)
        let changed = try pipeline.applying(paramOverrides: [("epochs", "5"), ("min_accuracy", "0.95"), ("epochs", "7")])
        #expect(changed.params == ["min_accuracy": .double(0.95), "epochs": .int(7)])
        #expect(pipeline.params["epochs"] == .int(3))
        let text = try pipeline.applying(paramOverrides: [("epochs", "many")])
        #expect(text.params["epochs"] == .string("many"))
    }

    @Test("overriding an unknown param is reported at the params key with a did-you-mean")
    func unknownOverride() throws {
        let pipeline = try load(irisPipeline)
        #expect(throws: SpecErrors.self) { try pipeline.applying(paramOverrides: [("epoch", "1")]) }
        do {
            _ = try pipeline.applying(paramOverrides: [("epoch", "1"), ("zzz", "2")])
        } catch {
            #expect(error.diagnostics.map(\.rendered) == [
                "pipeline.yaml:3:1: error: unknown param 'epoch' in --param; did you mean 'epochs'?",
                "pipeline.yaml:3:1: error: unknown param 'zzz' in --param; declared params are: min_accuracy, epochs",
            ])
        }
        let bare = try load("version: 1\nname: bare\nstages:\n  a: { run: echo }\n")
        do {
            _ = try bare.applying(paramOverrides: [("x", "1")])
            Issue.record("an unknown param was accepted")
        } catch {
            #expect(error.diagnostics.map(\.rendered) == [
                "pipeline.yaml:1:1: error: unknown param 'x' in --param; the pipeline declares no params, "
                    + "add it under `params:` first",
            ])
        }
    }

    @Test("timeouts accept seconds and durations")
    func timeouts() throws {
        let pipeline = try load("""
            version: 1
            name: t
            stages:
              a: { run: a, timeout: 90 }
              b: { run: b, timeout: 1.5 }
              c: { run: c, timeout: 1h30m }
              d: { run: d, timeout: "250ms" }
              e: { run: e, timeout: "45s" }

            """)
        #expect(pipeline.stages.map(\.timeout) == [90, 1.5, 5400, 0.25, 45])
    }

    @Test("anchors, aliases and merge keys share settings between stages")
    func anchorsAndMerges() throws {
        let pipeline = try load("""
            version: 1
            name: shared
            stages:
              a: &defaults
                run: echo a
                retries: 3
                timeout: 10m
              b:
                <<: *defaults
                run: echo b
                inputs: &list [data/a, data/b]
              c:
                run: echo c
                inputs: *list

            """)
        let b = try #require(pipeline.stage(named: "b"))
        #expect(b.retries == 3)
        #expect(b.timeout == 600)
        #expect(b.run?.raw == "echo b")
        #expect(pipeline.stage(named: "c")?.inputs == ["data/a", "data/b"])
        #expect(lint("version: 1\nname: x\nstages:\n  a: { run: echo, needs: *nope }\n")
            == ["pipeline.yaml:4:26: error: unknown alias '*nope'; define the anchor '&nope' before using it"])
    }

    @Test("an expression inside a block scalar is located on its own line")
    func blockScalarLocations() {
        let yaml = "version: 1\nname: x\nstages:\n  a:\n    run: |\n      echo one\n      echo ${{ params.nope }}\n"
        #expect(lint(yaml) == ["pipeline.yaml:7:16: error: unknown param 'nope' in expression; the pipeline declares "
                               + "no params, add 'nope' under `params:`"])
    }
}
