import PipelineSpec
import Testing

/// `resources:`, `node_selector:` and `executor:` of a stage.
@Suite("stage placement: resources, node selector, executor")
struct PlacementTests {
    static let header = "version: 1\nname: p\nstages:\n"

    @Test("requests, limits with GPUs, a node selector and the executor are read as written")
    func decoded() throws {
        let pipeline = try load(Self.header + """
              train:
                run: 'true'
                executor: kubernetes
                resources:
                  requests: { cpu: 500m, memory: 2Gi }
                  limits: { cpu: 2, memory: 4Gi, gpu: 1 }
                node_selector: { nvidia.com/gpu.present: "true", kubernetes.io/arch: amd64, tier: 2 }
              plain:
                run: 'true'

            """)
        let train = try #require(pipeline.stage(named: "train"))
        #expect(train.placement.executor == .kubernetes)
        #expect(train.placement.resources.requests.cpu?.text == "500m")
        #expect(train.placement.resources.requests.memory?.amount == 2_147_483_648.0)
        #expect(train.placement.resources.limits.cpu?.text == "2")
        #expect(train.placement.resources.limits.gpu == 1)
        #expect(train.placement.nodeSelector == ["nvidia.com/gpu.present": "true", "kubernetes.io/arch": "amd64",
                                                 "tier": "2"])
        let plain = try #require(pipeline.stage(named: "plain"))
        #expect(plain.placement == StagePlacement())
    }

    @Test("every mistake in resources is reported at its line and column, with what to write")
    func resourceMistakes() {
        let diagnostics = lint(Self.header + """
              train:
                run: 'true'
                resources:
                  requests: { cpu: lots, memory: 8Gi, gpu: 1 }
                  limit: { cpu: 1 }
                  limits: { memory: 4Gi, gpu: half }

            """)
        #expect(diagnostics == [
            "pipeline.yaml:7:24: error: invalid cpu quantity the string 'lots' in `resources.requests`; write e.g. `cpu: 500m` or `cpu: \"2\"`",
            "pipeline.yaml:7:38: error: the memory request 8Gi of stage 'train' is more than its limit 4Gi; a request may be at most the limit",
            "pipeline.yaml:7:43: error: GPUs are written under `limits` only (Kubernetes takes the request from the limit); move `gpu` to `resources.limits`",
            "pipeline.yaml:8:7: error: unknown key 'limit' in `resources` of stage 'train'; did you mean 'limits'?",
            "pipeline.yaml:9:35: error: expected a whole number of GPUs for `gpu`, found the string 'half'; write e.g. `gpu: 1`",
        ])
    }

    @Test("an unknown executor and an invalid node label are reported with the valid forms")
    func executorAndLabels() {
        let diagnostics = lint(Self.header + """
              train:
                run: 'true'
                executor: kubernets
                node_selector: { "-bad": x, zone: "not ok" }

            """)
        #expect(diagnostics == [
            "pipeline.yaml:6:15: error: unknown executor 'kubernets' in stage 'train'; did you mean 'kubernetes'?",
            "pipeline.yaml:7:22: error: invalid node label '-bad' in `node_selector` of stage 'train'; a label is [PREFIX/]NAME, NAME up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            "pipeline.yaml:7:39: error: invalid value 'not ok' of node label 'zone'; a label value is up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        ])
    }

    @Test("Kubernetes quantities are read as the API server reads them", arguments: [
        ("500m", 0.5), ("2", 2), ("0.5", 0.5), ("1Ki", 1024), ("1G", 1e9), ("2e3", 2000), ("+1", 1),
    ])
    func quantities(_ text: String, _ amount: Double) {
        #expect(ResourceQuantity(text)?.amount == amount)
    }

    @Test("text that is not a quantity is refused", arguments: ["", "-1", "1.2.3", "1 Gi", "Gi", "1gi", "e3", "1e"])
    func notQuantities(_ text: String) {
        #expect(ResourceQuantity(text) == nil)
    }
}
