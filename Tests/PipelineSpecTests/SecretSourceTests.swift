import PipelineSpec
import Testing

/// `{ PROVIDER: REFERENCE }` sources, checked against the providers the engine registers.
@Suite("secret sources")
struct SecretSourceTests {
    static let header = "version: 1\nname: p\n"

    @Test("an unknown secret provider is reported at its key with a did-you-mean and the known providers")
    func unknownProvider() {
        let yaml = Self.header + """
            secrets:
              A: { valut: "secret/data/ci#token" }
              B: { keychain: login }
            stages:
              a:
                run: 'true'
                env: { A: "${{ secrets.A }}" }
                secrets: [A, B]

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:4:8: error: unknown secret provider 'valut' in secret 'A'; did you mean 'vault'? "
                + "(known providers: env, file, vault)",
            "pipeline.yaml:5:8: error: unknown secret provider 'keychain' in secret 'B'; known providers: env, file, vault",
        ])
    }

    @Test("any registered provider is accepted, and the source keeps its provider, reference and location")
    func openSource() throws {
        let pipeline = try load(Self.header + """
            secrets:
              CI_TOKEN: { vault: "secret/data/ci#token" }
              PORT: { env: 8080 }
            stages:
              a:
                run: 'true'
                secrets: [CI_TOKEN, PORT]

            """)
        #expect(pipeline.secrets["CI_TOKEN"] == SecretSource(
            provider: "vault", reference: "secret/data/ci#token",
            location: SourceLocation(file: "pipeline.yaml", line: 4, column: 3)))
        #expect(pipeline.secrets["PORT"]?.reference == "8080")
        #expect(pipeline.secrets["CI_TOKEN"]?.written == "{ vault: secret/data/ci#token }")
    }

    @Test("a source must have exactly one provider and a non-empty string reference")
    func malformedSources() {
        let yaml = Self.header + """
            secrets:
              A: {}
              B: { env: B, file: b, vault: b }
              C: { env: "" }
              D: { env: [x] }
            stages:
              a:
                run: 'true'

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:4:3: error: secret 'A' has no source; write `{ PROVIDER: REFERENCE }`, e.g. `{ env: A }` or "
                + "`{ file: /run/secrets/x }`; known providers: env, file, vault",
            "pipeline.yaml:5:3: error: secret 'B' has 3 sources (`env:`, `file:`, `vault:`); keep one of them",
            "pipeline.yaml:6:13: error: `env` of secret 'C' is empty; write what the provider looks up, e.g. `{ env: C }` "
                + "or `{ file: /run/secrets/x }`",
            "pipeline.yaml:7:13: error: expected a string for `env` of secret 'D', found a list",
        ])
    }

    @Test("the loader knows only the providers it is given")
    func providersComeFromTheCaller() {
        let yaml = Self.header + "secrets: { T: { env: T } }\nstages:\n  a:\n    run: 'true'\n    secrets: [T]\n"
        #expect(throws: SpecErrors.self) {
            try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: testKinds, secretProviders: ["vault"])
        }
        do {
            _ = try PipelineLoader.parse(source: yaml, file: "pipeline.yaml", kinds: testKinds, secretProviders: [])
        } catch {
            #expect(error.diagnostics.map(\.rendered) == [
                "pipeline.yaml:3:17: error: unknown secret provider 'env' in secret 'T'; no secret provider is registered",
            ])
        }
    }

    @Test("a secret whose source is wrong is reported once, not again where stages use it")
    func noCascade() {
        let yaml = Self.header + """
            secrets: { T: { evn: T } }
            stages:
              a:
                run: 'true'
                env: { T: "${{ secrets.T }}" }
                secrets: [T]

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:3:17: error: unknown secret provider 'evn' in secret 'T'; did you mean 'env'? "
                + "(known providers: env, file, vault)",
        ])
    }
}
