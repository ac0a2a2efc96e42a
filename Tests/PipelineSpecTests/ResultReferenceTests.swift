import Testing
import PipelineSpec

@Suite("stages.NAME.results.KEY")
struct ResultReferenceTests {
    @Test("a result reference in run, env and with adds the stage it names to the dependencies")
    func resultsAddEdges() throws {
        let yaml = """
            version: 1
            name: t
            stages:
              train: { run: train, outputs: { model: m.onnx } }
              check:
                kind: validate
                with: { model: "${{ stages.train.outputs.model }}" }
              a: { run: "echo ${{ stages.check.results.sha256 }}" }
              b: { run: echo, env: { V: "${{ stages.check.results.verdict }}" } }
              c: { kind: validate, with: { model: "${{ stages.check.results.sha256 }}" } }

            """
        let pipeline = try load(yaml)
        #expect(pipeline.stage(named: "a")?.dependencies == ["check"])
        #expect(pipeline.stage(named: "b")?.dependencies == ["check"])
        #expect(pipeline.stage(named: "c")?.dependencies == ["check"])
        #expect(pipeline.topologicalOrder == ["train", "check", "a", "b", "c"])
    }

    @Test("a result its kind does not return is reported with a did-you-mean or the kind's lack of results")
    func unknownResults() {
        let yaml = """
            version: 1
            name: t
            stages:
              train: { run: train }
              check: { kind: validate, with: { model: m } }
              a: { run: "echo ${{ stages.check.results.sha265 }} ${{ stages.train.results.x }} ${{ stages.check.results }}" }

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:6:23: error: unknown result 'sha265' of stage 'check' in expression; did you mean 'sha256'?",
            "pipeline.yaml:6:58: error: unknown result 'x' of stage 'train' in expression; kind 'command' returns no results",
            "pipeline.yaml:6:88: error: 'stages.check.results' is not a result; write stages.check.results.NAME",
        ])
    }
}
