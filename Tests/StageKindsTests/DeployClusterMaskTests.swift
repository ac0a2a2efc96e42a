import Testing
@testable import StageKinds

@Suite("deploy to a cluster: what kubectl prints is masked")
struct DeployClusterMaskTests {
    @Test("each credential of the kubeconfig is masked on its own, and the rest of the line stays")
    func credentialsMasked() {
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            users:
            - name: ci
              user:
                token: "eyJhbGciOiJSUzI1NiJ9.payload.signature"
                client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==
            """
        let masker = DeployKind.kubeconfigMasker(kubeconfig)
        #expect(masker.mask("error: You must be logged in (token eyJhbGciOiJSUzI1NiJ9.payload.signature rejected)")
                == "error: You must be logged in (token *** rejected)")
        #expect(masker.mask("key LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ== | kind: Config") == "key *** | kind: Config")
        #expect(masker.mask("user ci in namespace ml") == "user ci in namespace ml")
    }
}
