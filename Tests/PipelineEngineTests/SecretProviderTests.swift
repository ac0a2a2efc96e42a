import Foundation
import PipelineEngine
import PipelineSpec
import RunStore
import Testing

/// Counts how often each reference is looked up: a provider written outside the engine.
actor LookupCounter {
    private(set) var counts: [String: Int] = [:]
    func record(_ reference: String) { counts[reference, default: 0] += 1 }
}

struct CountingProvider: SecretProvider {
    var name: String
    var counter: LookupCounter

    func value(of secret: String, reference: String) async throws(SecretError) -> String {
        await counter.record(reference)
        return "value-of-\(reference)"
    }
}

@Suite("secret providers")
struct SecretProviderTests {
    static func source(_ provider: String, _ reference: String, line: Int) -> SecretSource {
        SecretSource(provider: provider, reference: reference, location: SourceLocation(file: "p.yaml", line: line, column: 3))
    }

    @Test("the built-in registry has env, file and vault, and one register call adds or replaces a provider by name")
    func registry() async throws {
        var providers = SecretProviderRegistry.builtin(repositoryRoot: "/nonexistent", environment: ["X": "from-env"])
        #expect(providers.names == ["env", "file", "vault"])
        providers.register(InMemorySecretProvider(name: "vault", values: ["secret/data/ci#token": "from-vault"]))
        #expect(providers.names == ["env", "file", "vault"])
        #expect(try await providers.value(of: "T", from: Self.source("vault", "secret/data/ci#token", line: 1)) == "from-vault")
        #expect(try await providers.value(of: "T", from: Self.source("env", "X", line: 1)) == "from-env")
        await #expect(throws: SecretError.self) {
            try await providers.value(of: "T", from: Self.source("keychain", "x", line: 1))
        }
    }

    @Test("the file provider reads a relative path from the repository root it was given, less one trailing newline")
    func fileProvider() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/.secrets", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("line one\nline two\n".utf8).write(to: URL(fileURLWithPath: folder + "/.secrets/token"))
        let provider = FileSecretProvider(baseDirectory: folder)
        #expect(try await provider.value(of: "T", reference: ".secrets/token") == "line one\nline two")
        #expect(try await provider.value(of: "T", reference: folder + "/.secrets/token") == "line one\nline two")
        do {
            _ = try await provider.value(of: "T", reference: ".secrets")
            Issue.record("a folder was read as a secret")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description == "secret T: cannot read file .secrets in \(folder): it is a folder; create it, "
                + "or fix the path in the pipeline's `secrets:` (relative paths start at the repository's root)")
        }
    }

    @Test("resolve looks up each declared secret once, through the provider its source names")
    func resolvesEachOnce() async throws {
        let counter = LookupCounter()
        var providers = SecretProviderRegistry()
        providers.register(CountingProvider(name: "vault", counter: counter))
        providers.register(InMemorySecretProvider(values: ["m": "from-memory"]))
        let declared = [
            "A": Self.source("vault", "a", line: 3), "B": Self.source("vault", "b", line: 4),
            "C": Self.source("memory", "m", line: 5),
        ]
        let secrets = try await ResolvedSecrets.resolve(declared, providers: providers)
        #expect(secrets.values == ["A": "value-of-a", "B": "value-of-b", "C": "from-memory"])
        #expect(await counter.counts == ["a": 1, "b": 1])
        #expect(secrets.masker.mask("x value-of-a from-memory") == "x *** ***")
    }

    @Test("resolve reports every secret it cannot resolve at its line, by name and source, never with a value")
    func errorsNeverHoldValues() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        var providers = SecretProviderRegistry.builtin(repositoryRoot: folder, environment: ["GOOD": "value-1234-env"])
        providers.register(InMemorySecretProvider(name: "vault", values: ["ci#token": "value-5678-vault"]))
        let declared = [
            "GOOD": Self.source("env", "GOOD", line: 3),
            "VAULTED": Self.source("vault", "ci#token", line: 4),
            "NO_ENV": Self.source("env", "MISSING", line: 5),
            "NO_FILE": Self.source("file", "token.txt", line: 6),
            "NO_KEY": Self.source("vault", "ci#other", line: 7),
            "NO_PROVIDER": Self.source("keychain", "login", line: 8),
        ]
        do {
            _ = try await ResolvedSecrets.resolve(declared, providers: providers)
            Issue.record("resolving missing secrets succeeded")
        } catch {
            #expect(error.category == .environment)
            let rendered = error.diagnostics.map(\.rendered)
            #expect(rendered == [
                "p.yaml:5:3: error: secret NO_ENV: environment variable MISSING is not set; export it before running "
                    + "mlpipe (its value is never printed or stored)",
                "p.yaml:6:3: error: secret NO_FILE: cannot read file token.txt in \(folder): no such file; create it, "
                    + "or fix the path in the pipeline's `secrets:` (relative paths start at the repository's root)",
                "p.yaml:7:3: error: secret NO_KEY: the vault provider has no value for 'ci#other'; add it, or fix the "
                    + "reference in the pipeline's `secrets:`",
                "p.yaml:8:3: error: secret NO_PROVIDER: no secret provider 'keychain' is registered (known providers: "
                    + "env, file, vault); use one of them in the pipeline's `secrets:`",
            ])
            for text in rendered + [error.message, error.description, String(describing: error)] {
                #expect(!text.contains("value-1234-env") && !text.contains("value-5678-vault"), "\(text)")
            }
        }
    }

    @Test("scoped(to:) gives a stage only the secrets it lists")
    func scoped() {
        let secrets = ResolvedSecrets(values: ["A": "1", "B": "2", "C": "3"])
        #expect(secrets.scoped(to: ["C", "A"]) == ["A": "1", "C": "3"])
        #expect(secrets.scoped(to: []) == [:])
        #expect(secrets.scoped(to: ["UNKNOWN"]) == [:])
        #expect(secrets.masker.mask("1 2 3") == "*** *** ***", "the masker hides every value of the run")
    }

    @Test("lint accepts exactly the providers of the registry it is given")
    func lintUsesRegistry() throws {
        let repo = try GitFixture()
        try repo.write("pipelines/v.yaml", """
            version: 1
            name: v
            secrets:
              T: { vault: "secret/data/ci#token" }
            stages:
              a:
                run: 'true'
                secrets: [T]

            """)
        let envAndFile = try Linter(kinds: .core, secretProviders: { root in
            var providers = SecretProviderRegistry()
            providers.register(EnvironmentSecretProvider())
            providers.register(FileSecretProvider(baseDirectory: root))
            return providers
        }).lint(["v"], currentDirectory: repo.root)
        #expect(envAndFile.flatMap(\.diagnostics).map(\.rendered) == [
            "pipelines/v.yaml:4:8: error: unknown secret provider 'vault' in secret 'T'; known providers: env, file",
        ])
        let builtin = try Linter(kinds: .core).lint(["v"], currentDirectory: repo.root)
        #expect(builtin.flatMap(\.diagnostics).isEmpty)
        let withVault = try Linter(kinds: .core, secretProviders: { root in
            var providers = SecretProviderRegistry.builtin(repositoryRoot: root)
            providers.register(InMemorySecretProvider(name: "vault", values: [:]))
            return providers
        }).lint(["v"], currentDirectory: repo.root)
        #expect(withVault.flatMap(\.diagnostics).isEmpty)
    }

    @Test("a stage gets only its listed secrets, and its cache key names only those")
    func stageScope() async throws {
        let repo = try GitFixture()
        try repo.write("pipelines/s.yaml", """
            version: 1
            name: s
            secrets:
              A: { vault: "secret/data/a#value" }
              B: { vault: "secret/data/b#value" }
            stages:
              one:
                run: env | grep -E '^(A|B)=' | sort > ${{ outputs.seen }}
                outputs: { seen: seen.txt }
                secrets: [A]
              two:
                run: 'true'
                secrets: [B]

            """)
        try repo.commit()
        let runner = PipelineRunner(kinds: .core, version: "test", secretProviders: { _ in
            var providers = SecretProviderRegistry()
            providers.register(InMemorySecretProvider(name: "vault", values: ["secret/data/a#value": "alpha-value",
                                                                               "secret/data/b#value": "beta-value"]))
            return providers
        })
        let report = try await runner.run(RunOptions(pipeline: "s", currentDirectory: repo.root), events: { _ in })
        #expect(report.status == .succeeded)
        let seen = try String(contentsOfFile: repo.root + "/workspace/runs/\(report.runID)/one/seen.txt", encoding: .utf8)
        #expect(seen == "A=alpha-value\n")
        let store = try SQLiteRunStore(path: repo.root + "/workspace/mlpipe.db")
        let components = try #require(try store.stages(runID: report.runID).first { $0.name == "one" }?.keyComponentsJSON)
        #expect(components.contains(#""secrets":["A"]"#), "\(components)")
    }
}
