import Foundation
import PipelineSpec
import Testing

/// Valid documents the mutator starts from: block style, flow style with anchors, and
/// multi-line scalars with expressions.
private let seeds: [String] = [
    irisPipeline,
    """
    version: 1
    name: flow.example
    params: { lr: 0.01, layers: [64, 32], opts: { a: 1 } }
    secrets: { TOKEN: { file: /run/secrets/token } }
    stages:
      prep: &base { run: "make data ${{ params['lr'] }}", outputs: { data: data/ }, retries: 1 }
      fit:
        <<: *base
        needs: [prep]
        outputs: { model: model.bin }
        env: { TOKEN: "${{ secrets.TOKEN }}", DATA: "${{ stages.prep.outputs.data }}" }
        secrets: [TOKEN]
      check: { run: "test ${{ params.layers[0] }} -gt 1 && echo ${{ stages.fit.outputs.model }}", timeout: 90 }

    """,
    """
    version: 1
    name: multi
    env:
      MODE: fast
      LEVEL: 3
    stages:
      a:
        run: |
          echo "${{ git.sha }} ${{ run.id }}"
          echo ${{ pipeline.name }} $HOME ${VAR}
        outputs:
          report: out/report.txt
        metrics: out/metrics.json
      b:
        run: >
          python3 -c 'print(1)'
          --mode ${{ env.MODE }}
        needs: a
        env:
          ACC: ${{ stages.a.metrics.accuracy }}
      c:
        kind: validate
        with:
          model: "${{ stages.a.outputs.report }}"
          max_size: 100
        cache: true

    """,
]

@Test("every seed document of the mutation test is valid to begin with")
func mutationSeedsAreValid() {
    for seed in seeds {
        #expect(lint(seed) == [])
    }
}

@Test("the mutator gives the same variants for the same seed, and different ones for another")
func mutatorIsDeterministic() {
    let first = PipelineMutator.variants(of: irisPipeline, count: 50, seed: 7)
    #expect(first == PipelineMutator.variants(of: irisPipeline, count: 50, seed: 7))
    #expect(first != PipelineMutator.variants(of: irisPipeline, count: 50, seed: 8))
    #expect(Set(first).count > 40)
}

@Test("1,200 mutated pipeline files each load or give only well-formed diagnostics inside the file")
func mutatedFilesNeverCrash() {
    let diagnosticPattern = /^pipeline\.yaml:(\d+):(\d+): error: (.+)$/
    var valid = 0
    var invalid = 0
    for (index, seed) in seeds.enumerated() {
        for (number, variant) in PipelineMutator.variants(of: seed, count: 400, seed: UInt64(index) &+ 2026).enumerated() {
            let lineCount = variant.split(separator: "\n", omittingEmptySubsequences: false).count
            do {
                let pipeline = try PipelineLoader.parse(source: variant, file: "pipeline.yaml", kinds: testKinds,
                                                            secretProviders: testSecretProviders)
                valid += 1
                // A loaded pipeline keeps its promises: an order over all stages, each after its dependencies.
                let order = pipeline.topologicalOrder
                #expect(Set(order) == Set(pipeline.stages.map(\.name)))
                for stage in pipeline.stages {
                    let position = order.firstIndex(of: stage.name) ?? -1
                    #expect(stage.dependencies.allSatisfy { (order.firstIndex(of: $0) ?? .max) < position })
                }
            } catch {
                invalid += 1
                #expect(!error.diagnostics.isEmpty, "seed \(index) variant \(number)")
                for diagnostic in error.diagnostics {
                    guard let match = diagnostic.rendered.wholeMatch(of: diagnosticPattern),
                          let line = Int(match.1), let column = Int(match.2) else {
                        Issue.record("seed \(index) variant \(number): malformed diagnostic \(diagnostic.rendered)")
                        continue
                    }
                    #expect(line >= 1 && line <= lineCount + 1, "seed \(index) variant \(number): \(diagnostic.rendered)")
                    #expect(column >= 1, "seed \(index) variant \(number): \(diagnostic.rendered)")
                }
            }
        }
    }
    // Both outcomes occur, so the mutations are neither all harmless nor all fatal.
    #expect(valid > 50)
    #expect(invalid > 600)
}
