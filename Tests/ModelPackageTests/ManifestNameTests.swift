import ModelPackage
import Testing

@Suite("model package basics")
struct ManifestNameTests {
    @Test("the manifest is named mlpipe-model.json, as the serving template reads it")
    func manifestName() {
        #expect(ModelPackage.manifestName == "mlpipe-model.json")
    }
}
