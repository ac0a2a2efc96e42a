import ModelRegistry
import Testing

@Suite("model registry backends")
struct BackendNameTests {
    @Test("the backends a pipeline can name are local and mlflow")
    func names() {
        #expect(ModelRegistryBackendName.allCases.map(\.rawValue) == ["local", "mlflow"])
    }
}
