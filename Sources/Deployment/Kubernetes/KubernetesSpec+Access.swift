extension KubernetesSpec {
    /// `network_policy:`: who may reach the model's port. Nothing may unless `allow`
    /// names it (the NetworkPolicy is always rendered: default deny).
    public struct NetworkPolicy: Decodable, Sendable, Equatable {
        /// The sources admitted, each a namespace, pods, or pods in a namespace.
        public var allow: [Peer]

        /// Pods matching `pods` in `namespace`; a nil namespace means the model's own, an
        /// empty `pods` every pod of the namespace.
        public struct Peer: Decodable, Sendable, Equatable {
            /// The namespace, matched by its `kubernetes.io/metadata.name` label.
            public var namespace: String?
            /// Pod labels, all of which must match.
            public var pods: [String: String]

            enum CodingKeys: String, CodingKey, CaseIterable { case namespace, pods }

            /// Creates a peer.
            public init(namespace: String?, pods: [String: String]) {
                self.namespace = namespace
                self.pods = pods
            }

            /// Reads `{ namespace: NAME }`, `{ pods: LABELS }` or both.
            public init(from decoder: any Decoder) throws {
                let fields = try decoder.container(keyedBy: CodingKeys.self)
                namespace = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .namespace)?.text
                pods = try fields.decodeIfPresent(SpecValue.Labels.self, forKey: .pods)?.pairs ?? [:]
                guard namespace != nil || !pods.isEmpty else {
                    throw SpecValue.refuse("a peer names a `namespace`, `pods` (labels), or both; an empty one would "
                                           + "admit every pod of the namespace", at: fields.codingPath)
                }
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case allow }

        /// Creates the policy.
        public init(allow: [Peer]) { self.allow = allow }
    }

    /// One environment variable from a key of a Secret: the manifest names the Secret
    /// and the key; the value stays in the cluster.
    public struct SecretReference: Decodable, Sendable, Equatable {
        /// The variable's name in the container.
        public var env: String
        /// The Secret's name, in the model's namespace.
        public var secret: String
        /// The key inside the Secret.
        public var key: String

        enum CodingKeys: String, CodingKey, CaseIterable { case env, secret, key }

        /// Creates a reference.
        public init(env: String, secret: String, key: String) {
            self.env = env
            self.secret = secret
            self.key = key
        }

        /// Reads and checks the three names.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            env = try fields.decode(String.self, forKey: .env)
            guard SpecValue.isEnvironmentName(env) else {
                throw SpecValue.refuse("'\(env)' is not an environment variable name; use letters, digits and '_', "
                                       + "not starting with a digit", at: fields.codingPath + [CodingKeys.env])
            }
            guard !Self.reserved.contains(env) else {
                throw SpecValue.refuse("`\(env)` is set by mlpipe or Knative for the serving app; choose another name",
                                       at: fields.codingPath + [CodingKeys.env])
            }
            secret = try fields.decode(SpecValue.SecretName.self, forKey: .secret).text
            key = try fields.decode(String.self, forKey: .key)
            guard SpecValue.isSecretKey(key) else {
                throw SpecValue.refuse("'\(key)' is not a key of a Secret; use letters, digits, '-', '_' and '.'",
                                       at: fields.codingPath + [CodingKeys.key])
            }
        }

        /// The variables the renderer or Knative sets itself.
        static let reserved: Set<String> = [
            "HOST", "K_CONFIGURATION", "K_REVISION", "K_SERVICE", "MLPIPE_MODEL_DIR", "MLPIPE_MODEL_VERSION", "PORT",
        ]

        /// Refuses two references to the same variable.
        static func checkDistinct(_ references: [SecretReference], at codingPath: [any CodingKey]) throws {
            var seen = Set<String>()
            for reference in references where !seen.insert(reference.env).inserted {
                throw SpecValue.refuse("`\(reference.env)` is set twice; each variable comes from one Secret key",
                                       at: codingPath)
            }
        }
    }

    /// `vault:`: Vault Agent Injector annotations. The agent logs in with the pod's
    /// ServiceAccount under `role` and writes each secret to `/vault/secrets/FILE`.
    public struct Vault: Decodable, Sendable, Equatable {
        /// The Vault role bound to the ServiceAccount.
        public var role: String
        /// FILE -> Vault path (`database/creds/iris`), sorted when written.
        public var secrets: [String: String]

        enum CodingKeys: String, CodingKey, CaseIterable { case role, secrets }

        /// Reads and checks the role and each file name and path.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            role = try fields.decode(String.self, forKey: .role)
            guard !role.isEmpty, role.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw SpecValue.refuse("'\(role)' is not a Vault role name", at: fields.codingPath + [CodingKeys.role])
            }
            secrets = try fields.decode([String: String].self, forKey: .secrets)
            guard !secrets.isEmpty else {
                throw SpecValue.refuse("`secrets` is empty; name at least one FILE: VAULT_PATH",
                                       at: fields.codingPath + [CodingKeys.secrets])
            }
            // "agent-inject-secret-" takes 20 of the 63 characters of the annotation's name.
            for (file, path) in secrets.sorted(by: { $0.key < $1.key }) {
                guard SpecValue.isLabelValue(file, allowEmpty: false), file.utf8.count <= 43 else {
                    throw SpecValue.refuse("'\(file)' is not a file name the injector can take; use 1 to 43 letters, "
                                           + "digits, '-', '_' and '.'", at: fields.codingPath + [CodingKeys.secrets])
                }
                guard !path.isEmpty, !path.hasPrefix("/"), path.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                    throw SpecValue.refuse("'\(path)' (for '\(file)') is not a Vault path; write it without a "
                                           + "leading '/' (secret/data/iris)", at: fields.codingPath + [CodingKeys.secrets])
                }
            }
        }
    }

    /// `route:`: how traffic from outside the cluster reaches the Service, with TLS.
    ///
    /// `kind: httproute` (the default) attaches a Gateway API HTTPRoute to a listener of
    /// a Gateway (`gateway.section`), which terminates TLS with its own certificate.
    /// `kind: ingress` writes an Ingress whose `tls` names `tls_secret`.
    public struct Route: Decodable, Sendable, Equatable {
        /// Gateway API HTTPRoute or networking.k8s.io Ingress.
        public enum Kind: String, Sendable, Equatable, CaseIterable { case httproute, ingress }

        /// Which object routes the traffic.
        public var kind: Kind
        /// The host name clients use.
        public var host: String
        /// The path prefix routed to the model; default `/`.
        public var path: String
        /// The Gateway and its HTTPS listener (HTTPRoute).
        public var gateway: Gateway?
        /// The TLS Secret (Ingress).
        public var tlsSecret: String?
        /// `ingressClassName` (Ingress); nil for the cluster's default class.
        public var ingressClass: String?

        /// A Gateway's listener: `{ name, namespace, section }`.
        public struct Gateway: Decodable, Sendable, Equatable {
            /// The Gateway's name.
            public var name: String
            /// nil for the model's namespace.
            public var namespace: String?
            /// The listener's name (its HTTPS listener).
            public var section: String

            enum CodingKeys: String, CodingKey, CaseIterable { case name, namespace, section }

            /// Reads the three names.
            public init(from decoder: any Decoder) throws {
                let fields = try decoder.container(keyedBy: CodingKeys.self)
                name = try fields.decode(SpecValue.SecretName.self, forKey: .name).text
                namespace = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .namespace)?.text
                guard fields.contains(.section) else {
                    throw SpecValue.refuse("`section` is required: name the Gateway's HTTPS listener, whose certificate "
                                           + "serves this route (section: https)", at: fields.codingPath)
                }
                section = try fields.decode(SpecValue.Label.self, forKey: .section).text
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, host, path, gateway
            case tlsSecret = "tls_secret"
            case ingressClass = "ingress_class"
        }

        /// Reads the route and checks that its kind has what it needs for TLS.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            let kindText = try fields.decodeIfPresent(String.self, forKey: .kind) ?? Kind.httproute.rawValue
            guard let kind = Kind(rawValue: kindText) else {
                throw SpecValue.refuse("'\(kindText)' is not a route kind; use httproute (Gateway API) or ingress",
                                       at: fields.codingPath + [CodingKeys.kind])
            }
            self.kind = kind
            host = try fields.decode(String.self, forKey: .host)
            let bareHost = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
            guard SpecValue.isSubdomain(bareHost), bareHost.contains(".") else {
                throw SpecValue.refuse("'\(host)' is not a host name; write a lower-case DNS name (iris.example.com)",
                                       at: fields.codingPath + [CodingKeys.host])
            }
            path = try fields.decodeIfPresent(String.self, forKey: .path) ?? "/"
            guard path.hasPrefix("/"), path.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 35 && $0 != 63 }) else {
                throw SpecValue.refuse("'\(path)' is not a path prefix; write /, or /models/iris",
                                       at: fields.codingPath + [CodingKeys.path])
            }
            gateway = try fields.decodeIfPresent(Gateway.self, forKey: .gateway)
            tlsSecret = try fields.decodeIfPresent(SpecValue.SecretName.self, forKey: .tlsSecret)?.text
            ingressClass = try fields.decodeIfPresent(SpecValue.SecretName.self, forKey: .ingressClass)?.text
            switch kind {
            case .httproute:
                // `contains`, not `gateway != nil`: a gateway refused above is not missing.
                guard fields.contains(.gateway) else {
                    throw SpecValue.refuse("an HTTPRoute needs `gateway: { name, namespace, section }`, the Gateway "
                                           + "listener that terminates TLS", at: fields.codingPath)
                }
                for key in [CodingKeys.tlsSecret, .ingressClass] where fields.contains(key) {
                    throw SpecValue.refuse("`\(key.rawValue)` is for `kind: ingress`; an HTTPRoute takes TLS from its "
                                           + "Gateway's listener (`gateway.section`)", at: fields.codingPath + [key])
                }
            case .ingress:
                guard fields.contains(.tlsSecret) else {
                    throw SpecValue.refuse("an Ingress needs `tls_secret`, the Secret with the host's certificate",
                                           at: fields.codingPath)
                }
                if fields.contains(.gateway) {
                    throw SpecValue.refuse("`gateway` is for `kind: httproute`", at: fields.codingPath + [CodingKeys.gateway])
                }
            }
        }
    }

    /// `istio:`: a PeerAuthentication for the model's pods (mTLS `strict`, the default,
    /// or `permissive` while clients move to the mesh), and, when principals or
    /// namespaces are named, an AuthorizationPolicy that admits only them.
    public struct Istio: Decodable, Sendable, Equatable {
        /// `STRICT` or `PERMISSIVE`.
        public var mtlsMode: String
        /// SPIFFE principals (`cluster.local/ns/gateway/sa/gateway`), in the order written.
        public var allowedPrincipals: [String]
        /// Namespaces whose workloads may call.
        public var allowedNamespaces: [String]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case mtls
            case allowedPrincipals = "allowed_principals"
            case allowedNamespaces = "allowed_namespaces"
        }

        /// Reads the mode and the allowed callers.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            let mode = try fields.decodeIfPresent(String.self, forKey: .mtls) ?? "strict"
            guard ["strict", "permissive"].contains(mode) else {
                throw SpecValue.refuse("'\(mode)' is not an mTLS mode; use strict (the default) or permissive",
                                       at: fields.codingPath + [CodingKeys.mtls])
            }
            mtlsMode = mode.uppercased()
            allowedPrincipals = try fields.decodeIfPresent([String].self, forKey: .allowedPrincipals) ?? []
            for principal in allowedPrincipals where principal.isEmpty || principal.utf8.contains(where: { $0 <= 32 || $0 >= 127 }) {
                throw SpecValue.refuse("'\(principal)' is not a principal; write TRUST_DOMAIN/ns/NAMESPACE/sa/ACCOUNT",
                                       at: fields.codingPath + [CodingKeys.allowedPrincipals])
            }
            allowedNamespaces = try fields.decodeIfPresent([SpecValue.Label].self, forKey: .allowedNamespaces)?
                .map(\.text) ?? []
        }
    }

    /// `service_monitor:`: a Prometheus Operator ServiceMonitor scraping `/metrics` of
    /// the Service. Rendered unless `enabled: false` (for a cluster without the operator).
    public struct ServiceMonitor: Decodable, Sendable, Equatable {
        /// Whether the ServiceMonitor is rendered.
        public var enabled: Bool
        /// The scrape interval (`30s`, `1m`).
        public var interval: String
        /// Labels a Prometheus selects ServiceMonitors by (`release: prometheus`).
        public var labels: [String: String]

        /// Enabled, every 30 seconds, no extra labels.
        public static let `default` = ServiceMonitor(enabled: true, interval: "30s", labels: [:])

        enum CodingKeys: String, CodingKey, CaseIterable { case enabled, interval, labels }

        init(enabled: Bool, interval: String, labels: [String: String]) {
            self.enabled = enabled
            self.interval = interval
            self.labels = labels
        }

        /// Reads the settings.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try fields.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            interval = try fields.decodeIfPresent(String.self, forKey: .interval) ?? Self.default.interval
            let unit = interval.last.map(String.init) ?? ""
            let digits = interval.dropLast()
            guard ["s", "m", "h"].contains(unit), digits.allSatisfy(\.isASCIIDigit), let amount = Int(digits), amount > 0 else {
                throw SpecValue.refuse("'\(interval)' is not a scrape interval; write a whole number of s, m or h (30s)",
                                       at: fields.codingPath + [CodingKeys.interval])
            }
            labels = try fields.decodeIfPresent(SpecValue.Labels.self, forKey: .labels)?.pairs ?? [:]
        }
    }
}
