import PipelineSpec

extension DeploySettings {
    /// The resources a cluster target needs at least, as a fix to paste.
    static let resourcesExample = "resources: { requests: { cpu: 500m, memory: 512Mi }, limits: { cpu: \"1\", memory: 1Gi } }"

    /// Refuses a key that `target` does not read, a cluster target without its spec, and
    /// `apply` without `kubeconfig` (or the reverse), each at the key, with the fix.
    ///
    /// `given` says which keys hold a value that was read; a key that is absent, or that
    /// was set aside after being reported, is false, so nothing is reported twice.
    /// `applies` is nil when `apply` is not known yet.
    static func checkTargetKeys(_ target: Target, given: [CodingKeys: Bool], applies: Bool?,
                                settings: KeyedDecodingContainer<CodingKeys>) throws {
        func refuse(_ key: CodingKeys, _ message: String) -> SettingsError {
            SettingsError(message, at: settings.codingPath + [key])
        }
        func has(_ key: CodingKeys) -> Bool { given[key] == true }
        guard target.isCluster else {
            if has(.kubernetes) || has(.knative) {
                let key: CodingKeys = has(.kubernetes) ? .kubernetes : .knative
                throw refuse(key, "`\(key.rawValue):` is the spec of `target: \(key.rawValue)`, and this stage's target "
                             + "is local; add `target: \(key.rawValue)` to deploy to a cluster, or remove it")
            }
            if let key = clusterKeys.first(where: has) {
                throw refuse(key, "`\(key.rawValue)` is read by the kubernetes and knative targets only, and this "
                             + "stage's target is local; add `target: kubernetes` (or knative), or remove it")
            }
            return
        }
        let own: CodingKeys = target == .kubernetes ? .kubernetes : .knative
        let other: CodingKeys = target == .kubernetes ? .knative : .kubernetes
        // Present but not read: its own error is already reported.
        if !has(own) && !settings.contains(own) {
            throw refuse(.target, "`target: \(target.rawValue)` needs `\(own.rawValue):` with at least the container's "
                         + "CPU and memory requests and limits (a model without limits can starve a whole cluster); "
                         + "add `\(own.rawValue): { \(resourcesExample) }`")
        }
        if has(other) {
            throw refuse(other, "`\(other.rawValue):` is the spec of `target: \(other.rawValue)`, and this stage's "
                         + "target is \(target.rawValue); put the settings under `\(own.rawValue):`, or remove it")
        }
        let local: [(CodingKeys, String)] = [
            (.port, "the container listens on 8080, and so does its Service"),
            (.env, "give environment variables from Secrets with `\(own.rawValue).secrets`"),
            (.token, "give the JWT key from a Secret with `\(own.rawValue).secrets: [ { env: MLPIPE_AUTH_JWT_KEY, "
                + "secret: NAME, key: KEY } ]`"),
            (.tls, target == .kubernetes ? "TLS ends at `kubernetes.route` (or the mesh, `kubernetes.istio`)"
                : "Knative's ingress ends TLS"),
            (.readyTimeout, "the rollout's wait is `rollout_timeout`"),
            (.package, "a cluster runs the version's image"),
            (.template, "a cluster runs the version's image"),
        ]
        if let entry = local.first(where: { has($0.0) }) {
            let (key, instead) = entry
            throw refuse(key, "`\(key.rawValue)` is for the local target, and this stage's target is "
                         + "\(target.rawValue): \(instead); remove it")
        }
        guard let applies else { return }
        if applies && !has(.kubeconfig) && !settings.contains(.kubeconfig) {
            throw refuse(.apply, "`apply: true` needs `kubeconfig: SECRET`, the pipeline secret whose value is the "
                         + "cluster's kubeconfig (list it under the stage's `secrets:` too)")
        }
        if !applies, let key = [CodingKeys.kubeconfig, .kubectl, .rolloutTimeout].first(where: has) {
            throw refuse(key, "`\(key.rawValue)` is used only when the manifests are applied; add `apply: true`, "
                         + "or remove it")
        }
        if !applies && has(.promote) {
            throw refuse(.promote, "`promote` moves the alias once the version runs, and manifests that are only "
                         + "rendered run nothing yet; add `apply: true`, or move the alias with `mlpipe models alias` "
                         + "once the manifests are applied")
        }
    }

    /// `rollout_timeout`: a whole number of seconds above 0 (`kubectl --timeout=Ns`).
    struct WholeSeconds: Decodable {
        var value: Int

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .int(let number) = value, number > 0 else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a whole number of seconds above 0")
            }
            self.value = number
        }
    }
}
