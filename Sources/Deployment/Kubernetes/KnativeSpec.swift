/// How a model runs as a Knative Service: what a pipeline writes under
/// `with: knative:` of a deploy stage.
///
/// ```yaml
/// knative:
///   namespace: ml
///   resources:                      # required, as for kubernetes
///     requests: { cpu: 500m, memory: 512Mi }
///     limits: { cpu: "1", memory: 1Gi }
///   min_scale: 0                    # 0 = scale to zero when idle (the default)
///   max_scale: 5
///   target: 10                      # concurrent requests per pod the autoscaler aims at
///   secrets: [ { env: MLPIPE_AUTH_JWT_KEY, secret: iris-auth, key: jwt-key } ]
///   traffic:                        # without it, the new revision takes all traffic
///     percent: 10                   # to the new revision; the rest to the previous one
///     tag: candidate                # candidate-NAME.NAMESPACE… reaches the new one directly
///     previous_tag: stable
///     previous_revision: iris-v2    # default: the revision the last deploy recorded
/// ```
public struct KnativeSpec: Decodable, Sendable, Equatable {
    /// Where the Service is created; default `default`.
    public var namespace: String
    /// Requests and limits, all four required.
    public var resources: ContainerResources
    /// `autoscaling.knative.dev/min-scale`; 0 lets the service scale to zero.
    public var minScale: Int
    /// `autoscaling.knative.dev/max-scale`; nil for no cap.
    public var maxScale: Int?
    /// `autoscaling.knative.dev/target`: concurrent requests per pod.
    public var target: Int?
    /// Environment variables from Secret references.
    public var secrets: [KubernetesSpec.SecretReference]
    /// The split with the previous revision; nil sends all traffic to the new one.
    public var traffic: Traffic?

    /// The split between the revision being deployed and the one before it.
    public struct Traffic: Decodable, Sendable, Equatable {
        /// Percent of requests to the new revision, 0 to 100.
        public var percent: Int
        /// The new revision's tag (its own URL), default `candidate`.
        public var tag: String
        /// The previous revision's tag, default `stable`.
        public var previousTag: String
        /// The previous revision's name; nil to take it from the caller.
        public var previousRevision: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case percent, tag
            case previousTag = "previous_tag"
            case previousRevision = "previous_revision"
        }

        /// Reads and checks the split.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            guard let percent = try SpecValue.whole(fields, CodingKeys.percent, from: 0, to: 100,
                                                    meaning: "a percentage") else {
                throw SpecValue.refuse("`percent` is required: the share of requests the new revision takes",
                                       at: fields.codingPath)
            }
            self.percent = percent
            tag = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .tag)?.text ?? "candidate"
            previousTag = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .previousTag)?.text ?? "stable"
            guard tag != previousTag else {
                throw SpecValue.refuse("`tag` and `previous_tag` are both '\(tag)'; a tag names one revision",
                                       at: fields.codingPath + [CodingKeys.previousTag])
            }
            previousRevision = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .previousRevision)?.text
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case namespace, resources, target, secrets, traffic
        case minScale = "min_scale"
        case maxScale = "max_scale"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        namespace = try fields.decodeIfPresent(SpecValue.Label.self, forKey: .namespace)?.text
            ?? KubernetesSpec.defaultNamespace
        resources = try fields.decode(ContainerResources.self, forKey: .resources)
        minScale = try SpecValue.whole(fields, CodingKeys.minScale, from: 0, meaning: "a scale") ?? 0
        maxScale = try SpecValue.whole(fields, CodingKeys.maxScale, from: 1, meaning: "a scale")
        if let maxScale, minScale > maxScale {
            throw SpecValue.refuse("`min_scale` \(minScale) is more than `max_scale` \(maxScale)",
                                   at: fields.codingPath + [CodingKeys.minScale])
        }
        target = try SpecValue.whole(fields, CodingKeys.target, from: 1, meaning: "a concurrency target")
        secrets = try fields.decodeIfPresent([KubernetesSpec.SecretReference].self, forKey: .secrets) ?? []
        try KubernetesSpec.SecretReference.checkDistinct(secrets, at: fields.codingPath + [CodingKeys.secrets])
        traffic = try fields.decodeIfPresent(Traffic.self, forKey: .traffic)
    }
}
