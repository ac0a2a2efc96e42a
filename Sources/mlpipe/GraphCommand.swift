import ArgumentParser
import PipelineEngine
import PipelineSpec
import StageKinds

/// `mlpipe graph`: the pipeline's DAG as text, Graphviz dot or Mermaid.
struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Print the stage graph (text, dot or mermaid).")

    @Argument(help: "A pipeline file, or a name under pipelines/.") var pipeline: String?
    @Option(name: .long, help: "text, dot or mermaid.") var format: String = "text"

    func validate() throws {
        guard GraphFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format '\(format)'; use text, dot or mermaid")
        }
    }

    func run() async throws {
        let loaded = try Linter(kinds: BuiltinKinds.registry()).load(pipeline)
        Console.shared.out(GraphRenderer.render(loaded, format: GraphFormat(rawValue: format) ?? .text))
    }
}
