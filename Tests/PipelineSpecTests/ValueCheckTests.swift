import Testing
import PipelineSpec

@Suite("a kind's check of with: values at lint time")
struct ValueCheckTests {
    static let kinds: [String: KindSchema] = [
        "command": KindSchema(name: "command", runAllowed: true, runRequired: true),
        "deploy": KindSchema(name: "deploy", required: ["package"], optional: ["port", "tags"], cachedByDefault: false,
                             checkValue: { key, value in
                                 switch (key, value) {
                                 case ("port", .int(let port)) where (1...65_535).contains(port): return nil
                                 case ("port", _): return "with.port: \(value.canonicalJSON()) is not a port; use 1 to 65535"
                                 case ("tags", .array(let tags)) where tags.count > 2: return "with.tags: at most 2 tags"
                                 default: return nil
                                 }
                             }),
    ]

    func lint(_ yaml: String) -> [String] {
        do {
            _ = try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: Self.kinds)
            return []
        } catch {
            return error.diagnostics.map(\.rendered)
        }
    }

    @Test("a literal value the kind rejects is reported at the value, with the kind's reason")
    func literalValuesAreChecked() {
        let yaml = """
            version: 1
            name: t
            params: { p: 99999 }
            stages:
              up:
                kind: deploy
                with: { package: pkg, port: 70000, tags: [a, b, c] }
              ok:
                kind: deploy
                with: { package: pkg, port: 8080, tags: [a] }
              later:
                kind: deploy
                with: { package: pkg, port: "${{ params.p }}" }

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:7:33: error: with.port: 70000 is not a port; use 1 to 65535",
            "pipeline.yaml:7:46: error: with.tags: at most 2 tags",
        ])
    }
}
