import Foundation
import PipelineSpec

/// `{ vault: … }` secrets in pods: the pod's own mlpipe reads them from Vault, logging in
/// with its Kubernetes service account, the way Vault users on Kubernetes expect.
///
/// The pod's container gets plain variables, taken from the environment of the mlpipe
/// that renders it (`mlpipe export argo`, or the run whose stage has
/// `executor: kubernetes`):
///
///     VAULT_ADDR            from VAULT_ADDR, else BAO_ADDR (required)
///     VAULT_NAMESPACE       from VAULT_NAMESPACE, else BAO_NAMESPACE, when set
///     VAULT_K8S_ROLE        from VAULT_K8S_ROLE (required)
///     VAULT_K8S_MOUNT       when set (the pod's mlpipe defaults to `kubernetes`)
///     VAULT_K8S_TOKEN_PATH  when set (it defaults to the pod's service-account token)
///
/// Never a token or an AppRole secret (`VAULT_TOKEN`, `BAO_TOKEN`, `VAULT_ROLE_ID`,
/// `VAULT_SECRET_ID`): a manifest is read by everyone who can read the Workflow or the
/// Job, and the pod's login proves who it is by its service account instead. An address
/// on this machine's loopback interface (`http://127.0.0.1:8200`, `localhost`) is
/// refused, since a pod would reach its own loopback and find no Vault there.
extension PodTaskPlan {
    /// The variables the pod's mlpipe logs in to Vault with (see the extension's comment).
    func vaultEnvironment() throws(VaultPodError) -> [String: String] {
        func variable(_ names: String...) -> (name: String, value: String)? {
            for name in names {
                if let value = environment[name], !value.isEmpty { return (name, value) }
            }
            return nil
        }
        guard let address = variable("VAULT_ADDR", "BAO_ADDR") else { throw .noAddress }
        guard let url = URL(string: address.value), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            throw .badAddress(variable: address.name, value: address.value)
        }
        if Self.isLoopback(host) { throw .loopback(variable: address.name, value: address.value) }
        guard let role = variable("VAULT_K8S_ROLE") else { throw .noRole(serviceAccount: cluster.serviceAccount) }

        var result = ["VAULT_ADDR": address.value, "VAULT_K8S_ROLE": role.value]
        if let namespace = variable("VAULT_NAMESPACE", "BAO_NAMESPACE") { result["VAULT_NAMESPACE"] = namespace.value }
        if let mount = variable("VAULT_K8S_MOUNT") { result["VAULT_K8S_MOUNT"] = mount.value }
        if let path = variable("VAULT_K8S_TOKEN_PATH") { result["VAULT_K8S_TOKEN_PATH"] = path.value }
        return result
    }

    /// True for a host that names this machine to whoever resolves it: `localhost` (and
    /// `*.localhost`), `127.0.0.0/8`, `::1`, and the unspecified `0.0.0.0` / `::`.
    static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if ["::1", "::", "0.0.0.0", "0:0:0:0:0:0:0:1"].contains(host) { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// Why a pod cannot be told how to reach Vault; rendered against the stage and its
/// `vault` secrets by `message(stage:secrets:)`.
enum VaultPodError: Error, Sendable {
    /// Neither VAULT_ADDR nor BAO_ADDR is set.
    case noAddress
    /// The address is not an http(s) URL with a host.
    case badAddress(variable: String, value: String)
    /// The address is this machine's loopback, which a pod cannot reach.
    case loopback(variable: String, value: String)
    /// VAULT_K8S_ROLE is not set; the pods' service account, if one is named.
    case noRole(serviceAccount: String?)

    /// The diagnostic's text: which secrets, which stage, what is wrong and what to set.
    func message(stage: String, secrets: [(name: String, source: SecretSource)]) -> String {
        let named = secrets.map { "\($0.name) (\($0.source.written))" }
        let subject = named.count == 1 ? "secret \(named[0]) comes" : "secrets \(named.joined(separator: ", ")) come"
        let context = "\(subject) from Vault, and stage '\(stage)' runs in a pod, whose mlpipe logs in to Vault "
            + "itself with the pod's service account (a Kubernetes login); "
        switch self {
        case .noAddress:
            return context + "neither VAULT_ADDR nor BAO_ADDR is set here, so the pod would not know where Vault is: "
                + "set VAULT_ADDR to the address of the Vault server that the cluster's pods reach, "
                + "e.g. https://vault.example.com:8200"
        case .badAddress(let variable, let value):
            return context + "\(variable)='\(value)' is not an http:// or https:// address; "
                + "write it as https://HOST:PORT, an address the cluster's pods reach"
        case .loopback(let variable, let value):
            return context + "\(variable) is \(value), this machine's loopback address, which a pod cannot reach "
                + "(it would reach its own): set \(variable) to an address of the Vault server that the cluster's "
                + "pods reach, e.g. https://vault.example.com:8200"
        case .noRole(let account):
            let who = account.map { "the service account '\($0)'" }
                ?? "the namespace's default service account (name another with --service-account)"
            return context + "VAULT_K8S_ROLE is not set: set VAULT_K8S_ROLE to the Vault role the pods' service "
                + "account logs in with (here \(who)), and VAULT_K8S_MOUNT if its Kubernetes auth is not "
                + "mounted at auth/kubernetes"
        }
    }
}
