import Foundation

/// Where the OpenBao / Vault server is and how to log in to it, from the variables its
/// own CLIs read.
///
/// - Address: `VAULT_ADDR`, else `BAO_ADDR`.
/// - Namespace: `VAULT_NAMESPACE`, else `BAO_NAMESPACE`; sent as `X-Vault-Namespace` on
///   every request, logins too.
/// - Credentials, the first that is set: a token in `VAULT_TOKEN` or `BAO_TOKEN`; AppRole
///   with `VAULT_ROLE_ID` and `VAULT_SECRET_ID` (mount `VAULT_APPROLE_MOUNT`, default
///   `approle`); Kubernetes with `VAULT_K8S_ROLE` (the JWT from `VAULT_K8S_TOKEN_PATH`,
///   default the pod's service-account token; mount `VAULT_K8S_MOUNT`, default
///   `kubernetes`); the token that `bao login` / `vault login` left in `~/.vault-token`.
///   An explicit token comes first, as for the CLIs; the token file comes last, so that a
///   stale one on a CI runner does not shadow the runner's AppRole.
public struct VaultSettings: Sendable {
    /// `http(s)://host:port`, without a trailing `/`.
    public var address: String
    /// Which variable gave the address, for messages.
    public var addressSource: String
    /// The namespace (Vault Enterprise, OpenBao), or nil.
    public var namespace: String?
    public var auth: VaultAuth
    /// How long one request may take, connecting included.
    public var timeout: Duration
    /// Attempts per request, the first included: connection failures, 429 and 5xx
    /// answers other than "sealed" are tried again after 0.2, 0.4, 0.8 s.
    public var maxAttempts: Int

    /// The default path of a pod's service-account token.
    public static let serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    /// Settings given in full (tests).
    public init(address: String, addressSource: String = "VAULT_ADDR", namespace: String? = nil, auth: VaultAuth,
                timeout: Duration = .seconds(30), maxAttempts: Int = 4) {
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
        self.addressSource = addressSource
        self.namespace = namespace
        self.auth = auth
        self.timeout = timeout
        self.maxAttempts = maxAttempts
    }

    /// The settings `environment` gives; `homeDirectory` holds `.vault-token`.
    public static func fromEnvironment(_ environment: [String: String],
                                       homeDirectory: String) throws(VaultError) -> VaultSettings {
        func variable(_ names: String...) -> (name: String, value: String)? { first(names, in: environment) }
        guard let address = variable("VAULT_ADDR", "BAO_ADDR") else {
            throw VaultError(.configuration, "neither VAULT_ADDR nor BAO_ADDR is set; export the address of the "
                + "OpenBao/Vault server, e.g. VAULT_ADDR=https://vault.example.com:8200")
        }
        guard let url = URL(string: address.value), let scheme = url.scheme, ["http", "https"].contains(scheme),
              url.host != nil else {
            throw VaultError(.configuration, "\(address.name)='\(address.value)' is not an http:// or https:// "
                + "address; write it as https://HOST:PORT")
        }
        let auth = try authentication(environment, homeDirectory: homeDirectory)
        return VaultSettings(address: address.value, addressSource: address.name,
                             namespace: variable("VAULT_NAMESPACE", "BAO_NAMESPACE")?.value, auth: auth)
    }

    /// The first method the environment configures (see the type's comment).
    private static func authentication(_ environment: [String: String],
                                       homeDirectory: String) throws(VaultError) -> VaultAuth {
        func variable(_ names: String...) -> (name: String, value: String)? { first(names, in: environment) }
        if let token = variable("VAULT_TOKEN", "BAO_TOKEN") {
            return .token(token.value, source: token.name)
        }
        let roleID = variable("VAULT_ROLE_ID"), secretID = variable("VAULT_SECRET_ID")
        if roleID != nil || secretID != nil {
            guard let roleID, let secretID else {
                let missing = roleID == nil ? "VAULT_ROLE_ID" : "VAULT_SECRET_ID"
                throw VaultError(.configuration, "AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID, and "
                    + "\(missing) is not set; export it too (or unset the other to use another login)")
            }
            return .appRole(roleID: roleID.value, secretID: secretID.value,
                            mount: variable("VAULT_APPROLE_MOUNT")?.value ?? "approle")
        }
        if let role = variable("VAULT_K8S_ROLE") {
            return .kubernetes(role: role.value,
                               jwtPath: variable("VAULT_K8S_TOKEN_PATH")?.value ?? serviceAccountTokenPath,
                               mount: variable("VAULT_K8S_MOUNT")?.value ?? "kubernetes")
        }
        let file = homeDirectory + "/.vault-token"
        if let data = FileManager.default.contents(atPath: file) {
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return .token(token, source: "~/.vault-token") }
        }
        throw VaultError(.configuration, "no OpenBao/Vault credentials: set VAULT_TOKEN (or BAO_TOKEN); or "
            + "VAULT_ROLE_ID and VAULT_SECRET_ID for an AppRole login; or VAULT_K8S_ROLE for a Kubernetes login; "
            + "or run `bao login` / `vault login`, which writes ~/.vault-token")
    }

    /// The first of `names` set to a non-empty value, with its name.
    private static func first(_ names: [String], in environment: [String: String]) -> (name: String, value: String)? {
        for name in names {
            if let value = environment[name], !value.isEmpty { return (name, value) }
        }
        return nil
    }
}
