import PipelineEngine
import StageKinds
import Testing

@Suite("built-in stage kinds")
struct BuiltinKindsTests {
    @Test("validate is registered with its results")
    func validateRegistered() throws {
        let kinds = BuiltinKinds.registry()
        let validate = try #require(kinds.kinds["validate"])
        #expect(validate.schema.results.sorted() == ["format", "sha256", "verdict"])
    }
}
