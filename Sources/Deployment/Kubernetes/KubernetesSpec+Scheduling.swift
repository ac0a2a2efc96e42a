extension KubernetesSpec {
    /// `gpu:` GPUs the container gets as an extended-resource limit: `gpu: 1`, or
    /// `gpu: { count: 1, resource: amd.com/gpu }`. The default resource is `nvidia.com/gpu`.
    public struct GPU: Decodable, Sendable, Equatable {
        /// How many; at least 1.
        public var count: Int
        /// The extended resource's name.
        public var resource: String

        /// The NVIDIA device plugin's resource.
        public static let defaultResource = "nvidia.com/gpu"

        enum CodingKeys: String, CodingKey, CaseIterable { case count, resource }

        /// Creates the setting.
        public init(count: Int, resource: String = GPU.defaultResource) {
            self.count = count
            self.resource = resource
        }

        /// Reads a whole number or a mapping.
        public init(from decoder: any Decoder) throws {
            if let count = try? decoder.singleValueContainer().decode(Int.self) {
                guard count >= 1 else {
                    throw SpecValue.refuse("\(count) is not a GPU count; use 1 or more, or remove `gpu`", at: decoder.codingPath)
                }
                self.init(count: count)
                return
            }
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            guard let count = try SpecValue.whole(fields, CodingKeys.count, from: 1, meaning: "a GPU count") else {
                throw SpecValue.refuse("`count` is required; write `gpu: { count: 1 }`", at: fields.codingPath)
            }
            let resource = try fields.decodeIfPresent(String.self, forKey: .resource) ?? Self.defaultResource
            guard SpecValue.isLabelKey(resource), resource.contains("/") else {
                throw SpecValue.refuse("'\(resource)' is not an extended resource name; write DOMAIN/NAME (nvidia.com/gpu)",
                                       at: fields.codingPath + [CodingKeys.resource])
            }
            self.init(count: count, resource: resource)
        }
    }

    /// One toleration of the pod: it may run on nodes with a matching taint.
    public struct Toleration: Decodable, Sendable, Equatable {
        /// The taint's key; nil with `Exists` tolerates every taint.
        public var key: String?
        /// `Exists` or `Equal` (the default).
        public var `operator`: String
        /// The taint's value, with `Equal`.
        public var value: String?
        /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; nil for all three.
        public var effect: String?
        /// With `NoExecute`: how long the pod stays after the taint appears.
        public var tolerationSeconds: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case key, `operator`, value, effect
            case tolerationSeconds = "toleration_seconds"
        }

        static let operators = ["Equal", "Exists"]
        static let effects = ["NoExecute", "NoSchedule", "PreferNoSchedule"]

        /// Reads and checks one toleration.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            key = try fields.decodeIfPresent(String.self, forKey: .key)
            if let key, !SpecValue.isLabelKey(key) {
                throw SpecValue.refuse("'\(key)' is not a taint key; write [PREFIX/]NAME (nvidia.com/gpu)",
                                       at: fields.codingPath + [CodingKeys.key])
            }
            `operator` = try fields.decodeIfPresent(String.self, forKey: .operator) ?? "Equal"
            guard Self.operators.contains(`operator`) else {
                throw SpecValue.refuse("'\(`operator`)' is not a toleration operator; use Exists or Equal",
                                       at: fields.codingPath + [CodingKeys.operator])
            }
            value = try fields.decodeIfPresent(String.self, forKey: .value)
            if `operator` == "Exists", value != nil {
                throw SpecValue.refuse("an `Exists` toleration matches any value; remove `value` or use `operator: Equal`",
                                       at: fields.codingPath + [CodingKeys.value])
            }
            if key == nil, `operator` != "Exists" {
                throw SpecValue.refuse("a toleration without `key` must have `operator: Exists`", at: fields.codingPath)
            }
            effect = try fields.decodeIfPresent(String.self, forKey: .effect)
            if let effect, !Self.effects.contains(effect) {
                throw SpecValue.refuse("'\(effect)' is not a taint effect; use one of "
                                       + Self.effects.joined(separator: ", "), at: fields.codingPath + [CodingKeys.effect])
            }
            tolerationSeconds = try SpecValue.whole(fields, CodingKeys.tolerationSeconds, from: 0, meaning: "a time in seconds")
            if tolerationSeconds != nil, effect != "NoExecute" {
                throw SpecValue.refuse("`toleration_seconds` only applies to `effect: NoExecute`",
                                       at: fields.codingPath + [CodingKeys.tolerationSeconds])
            }
        }
    }

    /// `autoscaling:`: a HorizontalPodAutoscaler (autoscaling/v2) between two replica
    /// counts, on CPU utilisation, on per-pod custom metrics, or both.
    public struct Autoscaling: Decodable, Sendable, Equatable {
        /// The fewest replicas; default 1.
        public var minReplicas: Int
        /// The most replicas: what the model may take from the cluster.
        public var maxReplicas: Int
        /// Average CPU use as a percentage of the CPU request.
        public var cpuUtilization: Int?
        /// Per-pod metrics from a custom metrics API (Prometheus Adapter, KEDA, …).
        public var metrics: [PodMetric]

        /// A custom metric averaged over the pods: scale so that each pod sees `averageValue`.
        public struct PodMetric: Decodable, Sendable, Equatable {
            /// The metric's name in the custom metrics API.
            public var name: String
            /// The per-pod value to scale towards.
            public var averageValue: Quantity

            enum CodingKeys: String, CodingKey, CaseIterable {
                case name
                case averageValue = "average_value"
            }

            /// Reads one metric target.
            public init(from decoder: any Decoder) throws {
                let fields = try decoder.container(keyedBy: CodingKeys.self)
                name = try fields.decode(String.self, forKey: .name)
                guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                    throw SpecValue.refuse("'\(name)' is not a metric name; use the name the metrics API serves "
                                           + "(inference_requests_per_second)", at: fields.codingPath + [CodingKeys.name])
                }
                averageValue = try fields.decode(Quantity.self, forKey: .averageValue)
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case metrics
            case minReplicas = "min_replicas"
            case maxReplicas = "max_replicas"
            case cpuUtilization = "cpu_utilization"
        }

        /// Reads and checks the bounds and the targets.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            minReplicas = try SpecValue.whole(fields, CodingKeys.minReplicas, from: 1, meaning: "a replica count") ?? 1
            guard let maxReplicas = try SpecValue.whole(fields, CodingKeys.maxReplicas, from: 1, meaning: "a replica count")
            else {
                throw SpecValue.refuse("`max_replicas` is required: it caps what the model may take from the cluster",
                                       at: fields.codingPath)
            }
            self.maxReplicas = maxReplicas
            guard minReplicas <= maxReplicas else {
                throw SpecValue.refuse("`min_replicas` \(minReplicas) is more than `max_replicas` \(maxReplicas)",
                                       at: fields.codingPath + [CodingKeys.minReplicas])
            }
            cpuUtilization = try SpecValue.whole(fields, CodingKeys.cpuUtilization, from: 1, to: 100,
                                                 meaning: "a CPU utilisation percentage")
            metrics = try fields.decodeIfPresent([PodMetric].self, forKey: .metrics) ?? []
            guard cpuUtilization != nil || !metrics.isEmpty else {
                throw SpecValue.refuse("autoscaling needs a target; add `cpu_utilization: 70` (percent of the CPU "
                                       + "request) or `metrics: [ { name: …, average_value: … } ]`", at: fields.codingPath)
            }
        }
    }

    /// `disruption_budget:`: how many pods a voluntary disruption (a node drain) may take
    /// at once. Exactly one of `min_available` and `max_unavailable`, each a count or a
    /// percentage (`"50%"`). The default, `max_unavailable: 1`, never blocks a drain.
    public enum DisruptionBudget: Decodable, Sendable, Equatable {
        case minAvailable(ManifestNode)
        case maxUnavailable(ManifestNode)

        /// At most one pod down at a time.
        public static let `default` = DisruptionBudget.maxUnavailable(.int(1))

        enum CodingKeys: String, CodingKey, CaseIterable {
            case minAvailable = "min_available"
            case maxUnavailable = "max_unavailable"
        }

        /// Reads exactly one of the two keys.
        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            let present = CodingKeys.allCases.filter { fields.contains($0) }
            guard present.count == 1, let key = present.first else {
                throw SpecValue.refuse("write exactly one of `min_available` and `max_unavailable` (a count or a "
                                       + "percentage such as \"50%\")", at: fields.codingPath)
            }
            let value: ManifestNode
            if let count = try? fields.decode(Int.self, forKey: key) {
                guard count >= 0 else {
                    throw SpecValue.refuse("\(count) is not a pod count; use 0 or more", at: fields.codingPath + [key])
                }
                value = .int(count)
            } else {
                let text = try fields.decode(String.self, forKey: key)
                let digits = text.dropLast()
                guard text.hasSuffix("%"), digits.allSatisfy(\.isASCIIDigit), let percent = Int(digits),
                      (0...100).contains(percent) else {
                    throw SpecValue.refuse("'\(text)' is not a pod count or a percentage; write 1 or \"50%\"",
                                           at: fields.codingPath + [key])
                }
                value = .string(text)
            }
            self = key == .minAvailable ? .minAvailable(value) : .maxUnavailable(value)
        }
    }
}
