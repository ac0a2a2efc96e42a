import Testing
import PipelineSpec

/// `with.port`: a port number, checked by its own type.
private struct Port: Decodable, Sendable {
    var number: Int
    init(from decoder: any Decoder) throws {
        number = try decoder.singleValueContainer().decode(Int.self)
        guard (1...65_535).contains(number) else { throw SettingsError("\(number) is not a port; use 1 to 65535") }
    }
}

/// `with.tags`: at most two.
private struct Tags: Decodable, Sendable {
    var names: [String]
    init(from decoder: any Decoder) throws {
        names = try decoder.singleValueContainer().decode([String].self)
        guard names.count <= 2 else { throw SettingsError("at most 2 tags") }
    }
}

private struct DeploySettings: KindSettings {
    var package: String
    var port: Port?
    var tags: Tags?
}

@Suite("a kind's check of with: values at lint time")
struct ValueCheckTests {
    static let kinds: [String: KindSchema] = [
        "command": KindSchema(name: "command", runAllowed: true, runRequired: true),
        "deploy": KindSchema(name: "deploy", settings: DeploySettings.self, cachedByDefault: false),
    ]

    func lint(_ yaml: String) -> [String] {
        do {
            _ = try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: Self.kinds, secretProviders: testSecretProviders)
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
