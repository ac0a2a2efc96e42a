import Foundation

/// How the client proves who it is to a registry: nobody, a username and password, or a
/// token the caller already holds.
///
/// The values come from pipeline secrets and must never be shown: `description`,
/// `debugDescription` and the mirror name only the user and the secrets the values came
/// from, so that `print(credentials)`, string interpolation or a test failure dump cannot
/// leak a password. A username and password serve both Basic auth and the token endpoint
/// of a Bearer challenge (Docker Hub, GHCR, Harbor): the client picks whichever scheme the
/// registry's `WWW-Authenticate` asks for.
public struct RegistryCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    enum Kind: Sendable {
        case anonymous
        case basic(username: String, password: String)
        case bearer(token: String)
    }

    let kind: Kind
    /// Names of the secrets the values came from, used in error messages.
    let secretNames: [String]

    /// No credentials: pulls and pushes that the registry allows anonymously.
    public static let anonymous = RegistryCredentials(kind: .anonymous, secretNames: [])

    /// A username and password (or personal access token as the password).
    ///
    /// - Parameter secrets: the names of the pipeline secrets the values came from, named
    ///   in errors ("check the secret REGISTRY_PASSWORD") in place of the values.
    public static func basic(username: String, password: String, secrets: [String] = []) -> RegistryCredentials {
        RegistryCredentials(kind: .basic(username: username, password: password), secretNames: secrets)
    }

    /// A bearer token sent as is, with no token exchange (a registry token minted elsewhere).
    public static func bearer(token: String, secrets: [String] = []) -> RegistryCredentials {
        RegistryCredentials(kind: .bearer(token: token), secretNames: secrets)
    }

    /// True when no credentials are given.
    public var isAnonymous: Bool {
        if case .anonymous = kind { return true }
        return false
    }

    /// Where the credentials came from, for an error to point at: "the secret REGISTRY_PASSWORD".
    var sourceDescription: String {
        switch secretNames.count {
        case 0: return isAnonymous ? "anonymous access" : "the credentials given"
        case 1: return "the secret \(secretNames[0])"
        default: return "the secrets " + secretNames.joined(separator: ", ")
        }
    }

    /// `Authorization: Basic …` for these credentials, when they are a username and password.
    var basicAuthorization: String? {
        guard case .basic(let username, let password) = kind else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// Names the kind of credentials and their secrets, never their values.
    public var description: String {
        switch kind {
        case .anonymous: return "anonymous"
        case .basic(let username, _): return "basic credentials for user '\(username)' from \(sourceDescription)"
        case .bearer: return "a bearer token from \(sourceDescription)"
        }
    }

    /// The same as `description`: a debug dump must not show the values either.
    public var debugDescription: String { description }

    /// A mirror without the values, for `dump` and test failure output.
    public var customMirror: Mirror {
        Mirror(self, children: ["description": description], displayStyle: .struct)
    }
}
