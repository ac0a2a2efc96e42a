/// One run's reads from OpenBao / HashiCorp Vault: one login, one request per secret
/// path, whatever number of keys are taken from it.
///
/// The settings are read from the environment on the first request, not before, so a
/// run that names no `vault` secret never needs `VAULT_ADDR`. Everything it learns —
/// the token of a login, each secret's data — is kept in memory for the session's life
/// (one run) and never written anywhere. A failure is kept too: a server that did not
/// answer, or a login that was refused, is reported for every secret without asking
/// again, and so are a path's 403 and 404.
///
/// Callers ask one secret at a time (`ResolvedSecrets.resolve` does): two requests for
/// the same path that overlapped would both be sent, which is wasteful, never wrong.
public actor VaultSession {
    /// Where the settings come from, until the first request reads them.
    private let environment: [String: String]
    private let homeDirectory: String
    private var client: Result<VaultClient, VaultError>?
    private var token: Result<String, VaultError>?
    /// The first "no answer" of the session: the server is not asked again.
    private var unreachable: VaultError?
    private var secrets: [Location: Result<[String: String], VaultError>] = [:]

    /// A secret version's address.
    private struct Location: Hashable {
        var mount: String
        var path: String
        var version: Int?
    }

    /// A session whose settings `environment` gives (`VaultSettings.fromEnvironment`)
    /// when it is first asked; `homeDirectory` holds `.vault-token`.
    public init(environment: [String: String], homeDirectory: String) {
        self.environment = environment
        self.homeDirectory = homeDirectory
    }

    /// A session with settings given in full.
    public init(settings: VaultSettings) {
        self.environment = [:]
        self.homeDirectory = ""
        self.client = .success(VaultClient(settings: settings))
    }

    /// The value of `key` in the KV v2 secret `MOUNT/data/PATH` (its latest version, or
    /// `version`).
    public func value(of key: String, mount: String, path: String, version: Int?) async throws(VaultError) -> String {
        let data = try await secret(Location(mount: mount, path: path, version: version))
        guard let value = data[key] else {
            let address = (try? client?.get())?.settings.address ?? "the server"
            let keys = data.keys.sorted()
            let shown = "\(mount)/data/\(path)" + (version.map { " (version \($0))" } ?? "")
            let present = keys.isEmpty ? "it has no keys" : "its keys: \(keys.joined(separator: ", "))"
            throw VaultError(.noSuchKey, "\(shown) at \(address) has no key '\(key)'; \(present)", keys: keys)
        }
        return value
    }

    /// The data at `location`, read once per session.
    private func secret(_ location: Location) async throws(VaultError) -> [String: String] {
        if let known = secrets[location] { return try known.get() }
        let client = try prepared()
        let token = try await loggedIn(client)
        if let unreachable { throw unreachable }
        let result: Result<[String: String], VaultError>
        do throws(VaultError) {
            result = .success(try await client.read(mount: location.mount, path: location.path,
                                                    version: location.version, token: token))
        } catch {
            if error.code == .unreachable { unreachable = error }
            result = .failure(error)
        }
        secrets[location] = result
        return try result.get()
    }

    /// The client, its settings read on first use.
    private func prepared() throws(VaultError) -> VaultClient {
        if let client { return try client.get() }
        let result: Result<VaultClient, VaultError>
        do throws(VaultError) {
            result = .success(VaultClient(settings: try VaultSettings.fromEnvironment(environment,
                                                                                      homeDirectory: homeDirectory)))
        } catch {
            result = .failure(error)
        }
        client = result
        return try result.get()
    }

    /// The session's token, logging in on first use.
    private func loggedIn(_ client: VaultClient) async throws(VaultError) -> String {
        if let token { return try token.get() }
        let result: Result<String, VaultError>
        do throws(VaultError) {
            result = .success(try await client.login())
        } catch {
            if error.code == .unreachable { unreachable = error }
            result = .failure(error)
        }
        token = result
        return try result.get()
    }
}
