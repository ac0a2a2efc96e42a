import Testing
@testable import Deployment

@Suite("KnativeRenderer: a Knative Service with scale-to-zero and a traffic split")
struct KubernetesKnativeTests {
    static func spec(_ text: String) throws -> KnativeSpec {
        try #require(try KubernetesFixtures.settings(text).knative)
    }

    @Test("the revision is named after the version, with the scaling annotations and a 10/90 split by tag")
    func split() throws {
        let rendering = try KnativeRenderer.render(try Self.spec(try KubernetesFixtures.exampleText()),
                                                   for: KubernetesFixtures.workload)
        #expect(rendering.revisionName == "iris-v3" && rendering.rolloutResource == "ksvc/iris")
        #expect(rendering.endpoint.description == "http://iris.ml.svc.cluster.local:80")
        let text = try #require(rendering.manifests.first).text
        #expect(text.hasPrefix("apiVersion: serving.knative.dev/v1\nkind: Service\n"))
        // Knative refuses a container that sets PORT or names its port.
        #expect(!text.contains("name: PORT") && !text.contains("name: http"))
        for line in [
            "      name: iris-v3\n",
            "        autoscaling.knative.dev/max-scale: \"5\"\n        autoscaling.knative.dev/min-scale: \"0\"\n"
                + "        autoscaling.knative.dev/target: \"10\"\n",
            "  traffic:\n  - revisionName: iris-v3\n    percent: 10\n    tag: candidate\n"
                + "  - revisionName: iris-v2\n    percent: 90\n    tag: stable\n",
        ] {
            #expect(text.contains(line), "missing:\n\(line)")
        }
    }

    @Test("without traffic, the new revision takes all requests; a split needs the previous revision")
    func withoutSplit() throws {
        let minimal = try KnativeRenderer.render(try Self.spec(KubernetesFixtures.minimalText),
                                                 for: KubernetesFixtures.workload)
        #expect(try #require(minimal.manifests.first).text.hasSuffix("  traffic:\n  - revisionName: iris-v3\n    percent: 100\n"))

        var spec = try Self.spec(try KubernetesFixtures.exampleText())
        spec.traffic?.previousRevision = nil
        #expect(throws: KubernetesError.noPreviousRevision(service: "iris")) {
            try KnativeRenderer.render(spec, for: KubernetesFixtures.workload)
        }
        let given = try KnativeRenderer.render(spec, for: KubernetesFixtures.workload, previousRevision: "iris-v1")
        #expect(try #require(given.manifests.first).text.contains("  - revisionName: iris-v1\n    percent: 90\n"))
    }
}
