import Foundation
import NIOHTTP1

/// A registry's `WWW-Authenticate` challenge: `Basic realm="..."` or
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`.
struct RegistryChallenge: Sendable, Equatable {
    enum Scheme: Sendable, Equatable { case basic, bearer }
    var scheme: Scheme
    /// The token endpoint, for Bearer.
    var realm: String?
    var service: String?
    /// The scope the registry named for the refused request, if it named one.
    var scope: String?

    var isBearer: Bool { scheme == .bearer }

    /// Parses the header; nil for a scheme the client does not speak, or a Bearer
    /// challenge without a realm.
    init?(_ header: String) {
        let trimmed = header.drop { $0 == " " }
        let space: Substring.Index = trimmed.firstIndex(of: " ") ?? trimmed.endIndex
        switch trimmed[..<space].lowercased() {
        case "basic": scheme = .basic
        case "bearer": scheme = .bearer
        default: return nil
        }
        let parameters = RegistryChallenge.parameters(trimmed[space...])
        realm = parameters["realm"]
        service = parameters["service"]
        scope = parameters["scope"]
        if scheme == .bearer && realm == nil { return nil }
    }

    /// `key="value", key=value` pairs; quoted values may hold commas and `\"`.
    static func parameters(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = text[...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { return result }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false }
                    else if character == "\\" { escaped = true }
                    else if character == "\"" { break }
                    else { value.append(character) }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[key] = value
        }
    }
}

/// What the client has learnt about a registry's authentication, shared by the requests
/// of one ``RegistryClient``: the challenge's scheme and the Bearer tokens fetched, by
/// scope, until they expire.
///
/// An actor because parallel uploads read and refresh it at the same time.
actor RegistryAuthenticator {
    private let credentials: RegistryCredentials
    private var scheme: RegistryChallenge.Scheme?
    private var tokens: [String: (value: String, expires: ContinuousClock.Instant)] = [:]

    init(credentials: RegistryCredentials) {
        self.credentials = credentials
    }

    /// The `Authorization` header for a request needing `scopes`, or nil to go anonymous
    /// (until a challenge says otherwise).
    func authorization(scopes: [String]) -> String? {
        if case .bearer(let token) = credentials.kind { return "Bearer " + token }
        switch scheme {
        case .basic?:
            return credentials.basicAuthorization
        case .bearer?:
            guard let token = tokens[RegistryAuthenticator.key(scopes)], token.expires > .now else { return nil }
            return "Bearer " + token.value
        case nil:
            return nil
        }
    }

    /// Learns `challenge` from a 401 and, for Bearer, fetches a token for `scopes` (plus
    /// the scope the registry named) from its realm, with the credentials as Basic auth.
    /// `stale` is the header that was refused: its token is dropped first.
    func answer(_ challenge: RegistryChallenge, scopes: [String], stale: String?, transport: RegistryTransport,
                repository: String) async throws {
        scheme = challenge.scheme
        guard challenge.scheme == .bearer, let realm = challenge.realm else { return }
        if case .bearer = credentials.kind { return }
        let key = RegistryAuthenticator.key(scopes)
        if let stale, let cached = tokens[key], stale == "Bearer " + cached.value {
            tokens[key] = nil
        }
        if let cached = tokens[key], cached.expires > .now { return }  // another request fetched it meanwhile
        var wanted = scopes
        if let scope = challenge.scope, !wanted.contains(scope) { wanted.append(scope) }
        let token = try await fetchToken(realm: realm, service: challenge.service, scopes: wanted,
                                         transport: transport, repository: repository)
        tokens[key] = token
    }

    private func fetchToken(realm: String, service: String?, scopes: [String], transport: RegistryTransport,
                            repository: String) async throws -> (value: String, expires: ContinuousClock.Instant) {
        guard var components = URLComponents(string: realm), components.host != nil else {
            throw RegistryError(.protocolViolation,
                                "registry \(transport.registry) named '\(realm)' as its token service, which is not a URL")
        }
        var query = components.queryItems ?? []
        if let service { query.append(URLQueryItem(name: "service", value: service)) }
        for scope in scopes { query.append(URLQueryItem(name: "scope", value: scope)) }
        components.queryItems = query
        let url = components.string ?? realm
        let request = RegistryRequest(method: .GET, url: url, scopes: [])
        let started = ContinuousClock.now
        let basic = credentials.basicAuthorization
        let response = try await transport.retrying(request, repository: repository) { request in
            try await transport.execute(request, authorization: basic)
        }
        switch response.status {
        case 200:
            break
        case 401, 403:
            throw RegistryError.unauthorized(registry: transport.registry, repository: repository,
                                             credentials: credentials)
        default:
            throw RegistryError.unexpected(registry: transport.registry, repository: repository,
                                           request: "the token request \(request.label)", status: response.status,
                                           detail: response.detail, attempts: 1)
        }
        struct TokenDocument: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        let document: TokenDocument
        do {
            document = try JSONDecoder().decode(TokenDocument.self, from: Data(response.body.readableBytesView))
        } catch {
            throw RegistryError(.protocolViolation,
                                "the token service of registry \(transport.registry) (\(request.label)) answered "
                                    + "something that is not a token document")
        }
        guard let value = document.token ?? document.access_token, !value.isEmpty else {
            throw RegistryError(.protocolViolation,
                                "the token service of registry \(transport.registry) (\(request.label)) sent no token")
        }
        // A token is good for expires_in seconds (60 when not said), counted from the request.
        let lifetime = max(10, document.expires_in ?? 60) - 5
        return (value, started + .seconds(lifetime))
    }

    static func key(_ scopes: [String]) -> String {
        scopes.sorted().joined(separator: " ")
    }
}
