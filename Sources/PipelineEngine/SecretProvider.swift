import Foundation
import PipelineSpec

/// Resolves a secret's value from where the pipeline file says it lives.
///
/// The seam for secret stores: `env` and `file` today; HashiCorp Vault / OpenBao (KV v2)
/// next. A provider returns the value or throws an error that names the secret and its
/// source — never the value.
public protocol SecretProvider: Sendable {
    /// Whether this provider handles `source`.
    func handles(_ source: SecretSource) -> Bool
    func value(of name: String, from source: SecretSource) throws(EngineError) -> String
}

/// `{ env: VAR }`: the value of an environment variable of the mlpipe process.
public struct EnvironmentSecretProvider: SecretProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func handles(_ source: SecretSource) -> Bool {
        if case .env = source { return true }
        return false
    }

    public func value(of name: String, from source: SecretSource) throws(EngineError) -> String {
        guard case .env(let variable) = source else {
            throw EngineError(.internal, "secret \(name) is not an env secret")
        }
        guard let value = environment[variable] else {
            throw EngineError(.environment,
                "secret \(name): environment variable \(variable) is not set; export it before running mlpipe (its value is never printed or stored)")
        }
        return value
    }
}

/// `{ file: PATH }`: the content of a file (one trailing newline removed), relative to
/// the repository root when not absolute.
public struct FileSecretProvider: SecretProvider {
    let baseDirectory: String

    public init(baseDirectory: String) {
        self.baseDirectory = baseDirectory
    }

    public func handles(_ source: SecretSource) -> Bool {
        if case .file = source { return true }
        return false
    }

    public func value(of name: String, from source: SecretSource) throws(EngineError) -> String {
        guard case .file(let path) = source else {
            throw EngineError(.internal, "secret \(name) is not a file secret")
        }
        let full = path.hasPrefix("/") ? path : baseDirectory + "/" + path
        guard let data = FileManager.default.contents(atPath: full) else {
            throw EngineError(.environment,
                "secret \(name): cannot read file \(path); create it or fix the path in the pipeline's secrets")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// The secrets of one run, resolved once, with the masker that hides them.
public struct ResolvedSecrets: Sendable {
    public var values: [String: String]
    public var masker: SecretMasker

    public init(values: [String: String]) {
        self.values = values
        self.masker = SecretMasker(values: values.values)
    }

    /// Resolves every secret the pipeline declares, through the first provider that
    /// handles each one.
    public static func resolve(_ declared: [String: SecretSource], providers: [any SecretProvider]) throws(EngineError) -> ResolvedSecrets {
        var values: [String: String] = [:]
        for name in declared.keys.sorted() {
            let source = declared[name]!
            guard let provider = providers.first(where: { $0.handles(source) }) else {
                throw EngineError(.definition, "secret \(name): no provider for its source")
            }
            values[name] = try provider.value(of: name, from: source)
        }
        return ResolvedSecrets(values: values)
    }
}
