import PipelineSpec

/// The secret values of one run, each looked up once before the first stage starts, and
/// the masker that hides all of them.
///
/// A stage sees only its share: `scoped(to:)` with the names from its `secrets:` (and its
/// kind's). The masker hides every value of the run wherever text is written, whichever
/// stage printed it.
public struct ResolvedSecrets: Sendable {
    /// Secret name -> value, for every secret the run resolved.
    public private(set) var values: [String: String]
    /// Hides every value in `values`.
    public let masker: SecretMasker

    /// Secrets with known values (tests, and `status`, which resolves none).
    public init(values: [String: String]) {
        self.values = values
        self.masker = SecretMasker(values: values.values)
    }

    /// The shortest secret value a run accepts: masking a shorter one (`a`, `ab`) would
    /// replace ordinary text in every log, as `comm***nd`.
    public static let shortestMaskable = 4

    /// Resolves each secret of `declared` once, in the order the file declares them,
    /// through the provider its source names.
    ///
    /// Every secret that cannot be resolved is reported, not only the first: one
    /// diagnostic each, at the line that declares it, naming the secret and its source,
    /// never a value. The error is an environment error (exit 3): the file is right, the
    /// machine lacks the value.
    public static func resolve(_ declared: [String: SecretSource],
                               providers: SecretProviderRegistry) async throws(EngineError) -> ResolvedSecrets {
        var values: [String: String] = [:]
        var failures: [Diagnostic] = []
        for (name, source) in declared.sorted(by: { ($0.value.location, $0.key) < ($1.value.location, $1.key) }) {
            do {
                let value = try await providers.value(of: name, from: source)
                let length = value.count
                guard length >= Self.shortestMaskable else {
                    failures.append(Diagnostic(location: source.location, message:
                        "secret \(name) is \(length) character\(length == 1 ? "" : "s") long; mlpipe masks secrets in every "
                        + "log and record, and a value this short would mask ordinary text (GitHub Actions declines to "
                        + "mask them too): use a value of at least \(Self.shortestMaskable) characters"))
                    continue
                }
                values[name] = value
            } catch {
                failures.append(Diagnostic(location: source.location, message: error.description))
            }
        }
        guard failures.isEmpty else {
            throw EngineError(.environment,
                              "\(failures.count) secret(s) could not be resolved: "
                                  + failures.map(\.message).joined(separator: "; "),
                              diagnostics: failures)
        }
        return ResolvedSecrets(values: values)
    }

    /// The values a stage may see: those of `names` that the run resolved. A name the
    /// run has no value for is left out (the loader makes sure a stage names only
    /// secrets the pipeline declares, and the run resolves every one of those).
    public func scoped(to names: [String]) -> [String: String] {
        var scoped: [String: String] = [:]
        for name in names {
            if let value = values[name] { scoped[name] = value }
        }
        return scoped
    }
}
