import Testing
@testable import Deployment

@Suite("KubernetesSpec: the `kubernetes:` and `knative:` settings, checked where they are written")
struct KubernetesSpecTests {
    @Test("a spec without limits is refused at FILE:LINE:COL, naming the key and why")
    func limitsRequired() {
        let diagnostics = KubernetesFixtures.lint("""
            kubernetes:
              namespace: ml
              resources:
                requests: { cpu: 500m, memory: 512Mi }
            """)
        #expect(diagnostics == [
            "pipeline.yaml:10:11: error: with.kubernetes.resources: `limits` is required (a model without limits can "
                + "starve every other workload on its node); add `limits: { cpu: \"1\", memory: 1Gi }` with what "
                + "the model needs",
        ])
    }

    @Test("a memory limit alone is refused: the missing CPU limit is named at the `limits` mapping")
    func cpuLimitRequired() {
        let diagnostics = KubernetesFixtures.lint("""
            kubernetes:
              resources:
                requests: { cpu: 500m, memory: 512Mi }
                limits: { memory: 1Gi }
            """)
        #expect(diagnostics == [
            "pipeline.yaml:10:19: error: with.kubernetes.resources.limits: `cpu` is required (a model without limits "
                + "can starve every other workload on its node); add `cpu: 500m`",
        ])
    }

    @Test("a Knative spec without resources is refused too")
    func knativeResourcesRequired() {
        #expect(KubernetesFixtures.lint("knative:\n  min_scale: 0\n") == [
            "pipeline.yaml:8:9: error: with.knative: missing key 'resources'; add it",
        ])
    }

    @Test("a bad quantity, a request above its limit and a bad namespace are each reported at their value")
    func badValues() {
        #expect(KubernetesFixtures.lint("""
            kubernetes:
              namespace: ML_Serving
              resources:
                requests: { cpu: lots, memory: 512Mi }
                limits: { cpu: "1", memory: 1Gi }
            """) == [
            "pipeline.yaml:8:20: error: with.kubernetes.namespace: 'ML_Serving' is not a Kubernetes name; use 1 to 63 "
                + "lower-case letters, digits and '-', starting and ending with a letter or digit (ml-serving)",
            "pipeline.yaml:10:28: error: with.kubernetes.resources.requests.cpu: 'lots' is not a resource quantity; "
                + "write a number with an optional suffix: 500m or 2 for CPU, 512Mi or 1Gi for memory",
        ])
        #expect(KubernetesFixtures.lint("""
            kubernetes:
              resources:
                requests: { cpu: "2", memory: 512Mi }
                limits: { cpu: 1500m, memory: 1Gi }
            """) == [
            "pipeline.yaml:9:21: error: with.kubernetes.resources.requests: the cpu request 2 is more than its limit "
                + "1500m; a request may be at most the limit",
        ])
    }

    @Test("a value beside a Secret reference is an unknown key: no setting takes a secret's value")
    func noSecretValues() {
        let diagnostics = KubernetesFixtures.lint("""
            kubernetes:
              resources:
                requests: { cpu: 500m, memory: 512Mi }
                limits: { cpu: "1", memory: 1Gi }
              secrets:
                - { env: API_KEY, secret: iris-auth, key: api-key, value: hunter2 }
            """)
        #expect(diagnostics == [
            "pipeline.yaml:12:62: error: with.kubernetes.secrets[0]: unknown key 'value'; its keys are: env, key, secret",
        ])
        #expect(!diagnostics.joined().contains("hunter2"))
    }

    @Test("replicas beside autoscaling, an HTTPRoute without its listener and an Ingress without TLS are refused")
    func conflicts() {
        let resources = "  resources:\n    requests: { cpu: 500m, memory: 512Mi }\n    limits: { cpu: \"1\", memory: 1Gi }\n"
        #expect(KubernetesFixtures.lint("kubernetes:\n" + resources
            + "  replicas: 2\n  autoscaling: { max_replicas: 4, cpu_utilization: 60 }\n")
            .first?.contains("with.kubernetes.replicas: `replicas` and `autoscaling` are both set") == true)
        #expect(KubernetesFixtures.lint("kubernetes:\n" + resources
            + "  route: { host: iris.example.com, gateway: { name: public } }\n") == [
            "pipeline.yaml:11:51: error: with.kubernetes.route.gateway: `section` is required: name the Gateway's "
                + "HTTPS listener, whose certificate serves this route (section: https)",
        ])
        #expect(KubernetesFixtures.lint("kubernetes:\n" + resources + "  route: { kind: ingress, host: iris.example.com }\n")
            .first?.contains("an Ingress needs `tls_secret`") == true)
    }

    @Test("a value from an expression is left for the stage start to judge, not refused at lint")
    func expressions() {
        #expect(KubernetesFixtures.lint("""
            kubernetes:
              namespace: ${{ params.namespace }}
              replicas: ${{ params.replicas }}
              resources:
                requests: { cpu: 500m, memory: 512Mi }
                limits: { cpu: "${{ params.cpu }}", memory: 1Gi }
            """, params: "{ namespace: ml, replicas: 2, cpu: 2 }") == [])
    }

    @Test("the example spec of templates/kubernetes passes lint and decodes every setting")
    func example() throws {
        let text = try KubernetesFixtures.exampleText()
        #expect(KubernetesFixtures.lint(text) == [])
        let settings = try KubernetesFixtures.settings(text)
        let spec = try #require(settings.kubernetes)
        #expect(spec.namespace == "ml" && spec.resources.limits.memory.text == "2Gi" && spec.gpu?.count == 1)
        #expect(spec.autoscaling?.metrics.first?.averageValue.text == "20")
        #expect(spec.secretNames == ["iris-auth"] && spec.vault?.role == "iris")
        #expect(settings.knative?.traffic?.previousRevision == "iris-v2")
    }
}
