import Foundation

/// `{ env: VARIABLE }`: the value of an environment variable of the mlpipe process.
public struct EnvironmentSecretProvider: SecretProvider {
    public var name: String { "env" }
    let environment: [String: String]

    /// A provider reading `environment`, by default mlpipe's own.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func value(of secret: String, reference: String) async throws(SecretError) -> String {
        guard let value = environment[reference] else {
            throw SecretError(.notFound, secret: secret, provider: name, reference: reference,
                message: "environment variable \(reference) is not set; export it before running mlpipe "
                    + "(its value is never printed or stored)")
        }
        return value
    }
}
