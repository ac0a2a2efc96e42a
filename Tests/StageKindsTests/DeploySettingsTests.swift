import Foundation
import PipelineEngine
import PipelineSpec
import StageKinds
import Testing

/// A pipeline `p.yaml` with one deploy stage whose `with:` is `lines`, from line 7,
/// indented by 6 (so a value after `key: ` starts at column 7 + the key's length + 2).
private func pipeline(_ lines: [String], params: Bool = false) -> String {
    let header = params ? "version: 1\nname: iris\nparams: { target: kubernetes, apply: false }\n"
        : "version: 1\nname: iris\n"
    let body = lines.map { "      " + $0 }.joined(separator: "\n")
    return header + "stages:\n  deploy:\n    kind: deploy\n    with:\n" + body + "\n"
}

/// The diagnostics `mlpipe lint` gives for the deploy stage's `with:`.
private func lint(_ lines: [String]) -> [String] {
    do {
        _ = try PipelineLoader.parse(source: pipeline(lines), file: "p.yaml", kinds: BuiltinKinds.registry().schemas,
                                     secretProviders: ["env"])
        return []
    } catch {
        return error.diagnostics.map(\.rendered)
    }
}

/// The settings as the stage start decodes them.
private func settings(_ lines: [String]) throws -> DeploySettings {
    let loaded = try PipelineLoader.parse(source: pipeline(lines), file: "p.yaml",
                                          kinds: BuiltinKinds.registry().schemas, secretProviders: ["env"])
    let stage = try #require(loaded.stages.first)
    return try SettingsDecoder.decode(DeploySettings.self, from: stage.with.compactMapValues(\.literal), of: stage)
}

/// A minimal spec with requests and limits, under `key` (kubernetes or knative).
private func spec(_ key: String) -> [String] {
    [key + ":", "  resources:", "    requests: { cpu: 500m, memory: 512Mi }", "    limits: { cpu: \"1\", memory: 1Gi }"]
}

@Suite("deploy settings: the local, kubernetes and knative targets")
struct DeploySettingsTests {
    @Test("a kubernetes target without CPU and memory limits is refused at the resources, with the fix")
    func limitsRequired() {
        #expect(lint(["model: iris@staging", "target: kubernetes", "kubernetes:", "  resources:",
                      "    requests: { cpu: 500m, memory: 512Mi }"]) == [
            "p.yaml:11:11: error: with.kubernetes.resources: `limits` is required (a model without limits can starve "
                + "every other workload on its node); add `limits: { cpu: \"1\", memory: 1Gi }` with what the model needs",
        ])
    }

    @Test("a cluster target without its spec is refused at `target`, naming the resources to add")
    func specRequired() {
        #expect(lint(["model: iris@staging", "target: knative"]) == [
            "p.yaml:8:15: error: with.target: `target: knative` needs `knative:` with at least the container's CPU "
                + "and memory requests and limits (a model without limits can starve a whole cluster); add `knative: "
                + "{ resources: { requests: { cpu: 500m, memory: 512Mi }, limits: { cpu: \"1\", memory: 1Gi } } }`",
        ])
    }

    @Test("a key of the other kind of target is refused at the key, saying what to use instead")
    func keysOfTheOtherTarget() {
        #expect(lint(["model: iris@staging", "target: kubernetes", "port: 8081"] + spec("kubernetes")) == [
            "p.yaml:9:13: error: with.port: `port` is for the local target, and this stage's target is kubernetes: "
                + "the container listens on 8080, and so does its Service; remove it",
        ])
        #expect(lint(["model: iris@staging"] + spec("kubernetes")) == [
            "p.yaml:9:9: error: with.kubernetes: `kubernetes:` is the spec of `target: kubernetes`, and this stage's "
                + "target is local; add `target: kubernetes` to deploy to a cluster, or remove it",
        ])
        #expect(lint(["model: iris@staging", "apply: true"]) == [
            "p.yaml:8:14: error: with.apply: `apply` is read by the kubernetes and knative targets only, and this "
                + "stage's target is local; add `target: kubernetes` (or knative), or remove it",
        ])
    }

    @Test("apply needs a kubeconfig secret, and promote needs apply")
    func applyRules() {
        #expect(lint(["model: iris@staging", "target: kubernetes", "apply: true"] + spec("kubernetes")) == [
            "p.yaml:9:14: error: with.apply: `apply: true` needs `kubeconfig: SECRET`, the pipeline secret whose "
                + "value is the cluster's kubeconfig (list it under the stage's `secrets:` too)",
        ])
        #expect(lint(["model: iris@staging", "target: kubernetes", "promote: production"] + spec("kubernetes")) == [
            "p.yaml:9:16: error: with.promote: `promote` moves the alias once the version runs, and manifests that "
                + "are only rendered run nothing yet; add `apply: true`, or move the alias with `mlpipe models alias` "
                + "once the manifests are applied",
        ])
    }

    @Test("an unknown target names the three there are")
    func unknownTarget() {
        #expect(lint(["model: iris@staging", "target: nomad"]) == [
            "p.yaml:8:15: error: with.target: 'nomad' is not a deploy target; use local, kubernetes or knative",
        ])
    }

    @Test("a target or apply from an expression leaves the rules between keys to the stage start")
    func expressionsAreNotJudged() throws {
        let lines = ["model: iris@staging", "target: ${{ params.target }}", "apply: ${{ params.apply }}",
                     "kubeconfig: KUBECONFIG"] + spec("kubernetes")
        let source = pipeline(lines, params: true)
        #expect(throws: Never.self) {
            _ = try PipelineLoader.parse(source: source, file: "p.yaml", kinds: BuiltinKinds.registry().schemas,
                                         secretProviders: ["env"])
        }
    }

    @Test("an applied kubernetes target reads its spec, kubectl and timeout, and needs the kubeconfig's secret")
    func appliedSettings() throws {
        let read = try settings(["model: iris@3", "target: kubernetes", "apply: true", "kubeconfig: KUBECONFIG",
                                 "kubectl: tools/kubectl", "rollout_timeout: 90", "promote: production"]
                                + spec("kubernetes"))
        #expect(read.target == .kubernetes && read.apply && read.kubeconfig == "KUBECONFIG")
        #expect(read.kubectl == "tools/kubectl" && read.rolloutTimeout == 90)
        #expect(read.kubernetes?.resources.limits.memory.text == "1Gi" && read.knative == nil)
        #expect(DeployKind().secrets(for: read) == ["KUBECONFIG"])
        let rendered = try settings(["model: iris@3", "target: knative"] + spec("knative"))
        #expect(rendered.target == .knative && !rendered.apply && rendered.rolloutTimeout == 300)
        #expect(DeployKind().secrets(for: rendered).isEmpty)
    }
}
