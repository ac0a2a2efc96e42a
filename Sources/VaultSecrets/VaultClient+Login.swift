import Foundation

extension VaultClient {
    /// A token for the requests of this run: the one given, or a new one from the AppRole
    /// or Kubernetes login. It lives in memory only.
    public func login() async throws(VaultError) -> String {
        switch settings.auth {
        case .token(let token, _):
            return token
        case .appRole(let roleID, let secretID, let mount):
            return try await login(mount: mount, body: ["role_id": roleID, "secret_id": secretID], hiding: [],
                                   method: "AppRole",
                                   fix: "check VAULT_ROLE_ID and VAULT_SECRET_ID (a secret id may have expired or used "
                                       + "up its uses; ask for a new one) and that the AppRole auth method is enabled "
                                       + "at auth/\(mount)")
        case .kubernetes(let role, let jwtPath, let mount):
            let jwt = try serviceAccountToken(at: jwtPath)
            return try await login(mount: mount, body: ["role": role, "jwt": jwt], hiding: [jwt],
                                   method: "Kubernetes",
                                   fix: "check that the Kubernetes auth method is enabled at auth/\(mount) and that "
                                       + "role '\(role)' is bound to this pod's service account and namespace")
        }
    }

    /// The pod's service-account JWT, read when the login is made, never kept.
    func serviceAccountToken(at path: String) throws(VaultError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw VaultError(.configuration, "the Kubernetes login (VAULT_K8S_ROLE is set) needs the service-account "
                + "token at \(path), which \(exists ? "cannot be read" : "does not exist"); run mlpipe in a pod "
                + "with a service account, or set VAULT_K8S_TOKEN_PATH to the token's file")
        }
        let jwt = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !jwt.isEmpty else {
            throw VaultError(.configuration, "the service-account token at \(path) is empty; the Kubernetes login "
                + "needs the pod's token there (or set VAULT_K8S_TOKEN_PATH)")
        }
        return jwt
    }

    /// `POST /v1/auth/MOUNT/login` with `body`; the `auth.client_token` of the answer.
    private func login(mount: String, body: [String: String], hiding: [String], method: String,
                       fix: String) async throws(VaultError) -> String {
        let path = "auth/" + Self.encoded(mount) + "/login"
        let what = "the \(method) login"
        let answer = try await send(.POST, path, token: nil, body: body, what: what)
        if answer.isSealed { throw sealed(answer, during: what) }
        guard answer.status == 200 else {
            throw VaultError(.loginFailed, "\(method) login at \(url(path)) was refused (\(quoted(answer, hiding: hiding))); "
                + fix, status: answer.status)
        }
        guard let auth = answer.json?["auth"] as? [String: Any], let token = auth["client_token"] as? String,
              !token.isEmpty else {
            throw VaultError(.unexpected, "\(method) login at \(url(path)) answered HTTP 200 without `auth.client_token`; "
                + "is \(settings.address) an OpenBao or Vault server?", status: answer.status)
        }
        return token
    }

    /// The error for a sealed server.
    func sealed(_ answer: Answer, during what: String) -> VaultError {
        VaultError(.sealed, "OpenBao/Vault at \(settings.address) is sealed (HTTP 503) and cannot serve \(what) until "
            + "it is unsealed; ask its operators to unseal it (`bao operator unseal`), then run again", status: answer.status)
    }
}
