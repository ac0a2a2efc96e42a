import PipelineSpec
import Testing

@Suite("graph rendering")
struct GraphRendererTests {
    static let yaml = """
        version: 1
        name: demo
        stages:
          train: { run: train }
          check-model:
            kind: validate
            with: { model: "${{ stages.train.outputs.model }}" }
          report: { run: report, needs: [train, check-model] }

        """.replacingOccurrences(of: "{ run: train }", with: "{ run: train, outputs: { model: m.onnx } }")

    @Test("text lists stages in topological order with their kinds and dependencies")
    func text() throws {
        let pipeline = try load(Self.yaml)
        #expect(GraphRenderer.render(pipeline, format: .text) == """
            pipeline demo: 3 stages
              1. train        command
              2. check-model  validate  <- train
              3. report       command   <- check-model, train

            """)
    }

    @Test("dot draws one box per stage and an edge from each dependency")
    func dot() throws {
        let pipeline = try load(Self.yaml)
        #expect(GraphRenderer.render(pipeline, format: .dot) == #"""
            digraph "demo" {
              rankdir=LR;
              node [shape=box];
              "train" [label="train\ncommand"];
              "check-model" [label="check-model\nvalidate"];
              "report" [label="report\ncommand"];
              "train" -> "check-model";
              "check-model" -> "report";
              "train" -> "report";
            }

            """#)
    }

    @Test("mermaid uses positional ids so that names with dashes stay valid")
    func mermaid() throws {
        let pipeline = try load(Self.yaml)
        #expect(GraphRenderer.render(pipeline, format: .mermaid) == """
            flowchart LR
              s1["train<br/>command"]
              s2["check-model<br/>validate"]
              s3["report<br/>command"]
              s1 --> s2
              s2 --> s3
              s1 --> s3

            """)
    }

    @Test("every format renders a one-stage pipeline")
    func single() throws {
        let pipeline = try load("version: 1\nname: one\nstages:\n  only: { run: x }\n")
        for format in GraphFormat.allCases {
            #expect(GraphRenderer.render(pipeline, format: format).contains("only"))
        }
        #expect(GraphRenderer.render(pipeline, format: .text) == "pipeline one: 1 stage\n  1. only  command\n")
    }
}
