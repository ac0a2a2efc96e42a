import PipelineSpec
import Testing

/// A stage's `secrets:` list and the references it allows.
@Suite("secret scopes")
struct SecretScopeTests {
    static let header = "version: 1\nname: p\n"

    @Test("a stage's `secrets:` is read in file order without repeats, as a list or a single name")
    func stageSecretsDecoded() throws {
        let pipeline = try load(Self.header + """
            secrets:
              A: { env: A }
              B: { file: .secrets/b }
            stages:
              both:
                run: 'true'
                secrets: [B, A, B]
              one:
                run: 'true'
                secrets: A
              none:
                run: 'true'

            """)
        #expect(pipeline.stage(named: "both")?.secrets == ["B", "A"])
        #expect(pipeline.stage(named: "one")?.secrets == ["A"])
        #expect(pipeline.stage(named: "none")?.secrets == [])
    }

    @Test("a name in a stage's `secrets:` that the pipeline does not declare is reported at the name")
    func unknownSecretInList() {
        let yaml = Self.header + """
            secrets: { API_TOKEN: { env: API_TOKEN }, DB_PASSWORD: { env: DB } }
            stages:
              a:
                run: 'true'
                secrets: [API_TOKEM, DB_PASSWORD, ZZZ]

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:3:12: error: secret 'API_TOKEN' is declared but no stage lists it in `secrets:`; "
                + "add API_TOKEN to the `secrets:` of each stage that uses it, or remove it",
            "pipeline.yaml:7:15: error: unknown secret 'API_TOKEM' in `secrets` of stage 'a'; did you mean 'API_TOKEN'?",
            "pipeline.yaml:7:39: error: unknown secret 'ZZZ' in `secrets` of stage 'a'; declared secrets are: "
                + "API_TOKEN, DB_PASSWORD",
        ])
        #expect(lint(Self.header + "stages:\n  a:\n    run: 'true'\n    secrets: [T]\n") == [
            "pipeline.yaml:6:15: error: unknown secret 'T' in `secrets` of stage 'a'; the pipeline declares no secrets, "
                + "add 'T' under the top-level `secrets:`",
        ])
    }

    @Test("a reference to a secret the stage does not list is reported at the reference, with the fix")
    func undeclaredReference() {
        let yaml = Self.header + """
            secrets: { TOKEN: { env: TOKEN }, OTHER: { env: OTHER } }
            stages:
              a:
                run: 'true'
                env: { T: "${{ secrets.TOKEN }}", O: "${{ secrets.OTHER }}" }
                secrets: [OTHER]
              b:
                kind: register
                with: { package: p, password: "x-${{ secrets.TOKEN }}" }

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:7:20: error: stage 'a' does not list secret 'TOKEN' in its `secrets:`, so it would not get it; "
                + "add TOKEN to the stage's `secrets:`",
            "pipeline.yaml:11:42: error: stage 'b' does not list secret 'TOKEN' in its `secrets:`, so it would not get it; "
                + "add TOKEN to the stage's `secrets:`",
        ])
    }

    @Test("a secret in run: that the stage does not list gets both fixes in one message")
    func undeclaredInRun() {
        let yaml = Self.header + "secrets: { TOKEN: { env: TOKEN } }\nstages:\n  a:\n    run: curl -u ${{ secrets.TOKEN }}\n"
        #expect(lint(yaml) == [
            "pipeline.yaml:6:22: error: secrets cannot be used in `run:`, where they would show in process listings; "
                + "pass it through the stage's env (`env: { TOKEN: \"${{ secrets.TOKEN }}\" }`) and use $TOKEN in the "
                + "command, and add TOKEN to the stage's `secrets:`",
        ])
    }

    @Test("a declared secret that no stage lists is reported at its declaration, with the fix")
    func unlistedSecret() {
        // A pipeline from before stages listed their secrets: its command reads $TOKEN.
        let yaml = Self.header + """
            secrets:
              TOKEN: { env: TOKEN }
              USED: { file: .secrets/used }
            stages:
              push:
                run: curl -u "user:$TOKEN" https://example.com
                secrets: [USED]

            """
        #expect(lint(yaml) == [
            "pipeline.yaml:4:3: error: secret 'TOKEN' is declared but no stage lists it in `secrets:`; "
                + "add TOKEN to the `secrets:` of each stage that uses it, or remove it",
        ])
    }
}
