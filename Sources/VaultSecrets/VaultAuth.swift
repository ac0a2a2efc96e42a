/// How mlpipe gets a token from OpenBao / Vault: one is chosen from the environment by
/// `VaultSettings.fromEnvironment`.
///
/// `description` says which method and where its credential came from, never the
/// credential: it is what errors show ("the token from VAULT_TOKEN").
public enum VaultAuth: Sendable, CustomStringConvertible {
    /// A token given as it is; `source` names where it came from (`VAULT_TOKEN`,
    /// `~/.vault-token`).
    case token(String, source: String)
    /// `POST /v1/auth/MOUNT/login` with `{"role_id","secret_id"}` (mount `approle` unless
    /// `VAULT_APPROLE_MOUNT` says otherwise).
    case appRole(roleID: String, secretID: String, mount: String)
    /// `POST /v1/auth/MOUNT/login` with `{"role","jwt"}`, the JWT read from `jwtPath`
    /// (the pod's service-account token) when the login is made.
    case kubernetes(role: String, jwtPath: String, mount: String)

    /// The method and the origin of its credential, without the credential.
    public var description: String {
        switch self {
        case .token(_, let source): "the token from \(source)"
        case .appRole(_, _, let mount): "the AppRole login (VAULT_ROLE_ID, VAULT_SECRET_ID) at auth/\(mount)"
        case .kubernetes(let role, let jwtPath, let mount):
            "the Kubernetes login as role '\(role)' at auth/\(mount) (service-account token \(jwtPath))"
        }
    }
}
