import Foundation
import PipelineSpec
import VaultSecrets

/// `{ vault: "MOUNT/data/PATH#KEY" }` (or `…#KEY@VERSION`): a key of a KV v2 secret in
/// OpenBao or HashiCorp Vault.
///
/// An adapter from `VaultSession` (the `VaultSecrets` target: settings from
/// `VAULT_ADDR`/`BAO_ADDR` and the login variables, one login and one request per path
/// per run, values in memory only) to the engine's `SecretProvider`. A registry is made
/// per run, and so is this provider's session. Errors name the secret, its path and the
/// server, never a value or a credential; a missing key lists the keys the secret has,
/// by name, with a did-you-mean.
public struct VaultSecretProvider: SecretProvider {
    public var name: String { "vault" }
    let session: VaultSession

    /// A provider whose settings come from `environment` (read when the first `vault`
    /// secret is resolved); `~/.vault-token` is looked for in `HOME`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        self.session = VaultSession(environment: environment, homeDirectory: home)
    }

    /// A provider over `session` (tests give one with settings in full).
    public init(session: VaultSession) {
        self.session = session
    }

    public func value(of secret: String, reference: String) async throws(SecretError) -> String {
        let location: VaultReference
        do throws(VaultReference.Malformed) {
            location = try VaultReference(parsing: reference)
        } catch {
            // The loader refuses these; a registry used without it still gets a clear error.
            throw SecretError(.notFound, secret: secret, provider: name, reference: reference,
                              message: "`vault` reference \(error.problem)")
        }
        do throws(VaultError) {
            return try await session.value(of: location.key, mount: location.mount, path: location.path,
                                           version: location.version)
        } catch {
            var message = error.message
            if error.code == .noSuchKey, let closest = Suggestions.closest(to: location.key, in: error.keys) {
                message += "; did you mean '\(closest)'?"
            }
            let code: SecretError.Code = [.notFound, .noSuchKey].contains(error.code) ? .notFound : .unreadable
            throw SecretError(code, secret: secret, provider: name, reference: reference, message: message)
        }
    }
}
