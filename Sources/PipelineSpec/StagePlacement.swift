/// Where and on what a stage runs when it leaves this machine: its `resources:`,
/// `node_selector:` and `executor:`, as written in the pipeline file and checked by the
/// loader.
///
/// ```yaml
/// train:
///   run: python3 train.py
///   executor: kubernetes            # or local (the default)
///   resources:
///     requests: { cpu: 500m, memory: 2Gi }
///     limits: { cpu: "2", memory: 4Gi, gpu: 1 }
///   node_selector: { cloud.google.com/gke-accelerator: nvidia-l4 }
/// ```
///
/// The local executor ignores all of it: the command runs on this host with what it can
/// use here. An exported Argo workflow and a Kubernetes Job carry it into the pod spec
/// (`gpu` as `nvidia.com/gpu`). None of it enters the cache key: where a stage runs does
/// not change what it makes.
public struct StagePlacement: Sendable, Hashable {
    /// What the pod asks for (the scheduler places it by these) and may use at most.
    public var resources: StageResources
    /// Node labels the pod must land on (`nodeSelector`), by label key.
    public var nodeSelector: [String: String]
    /// `executor:`; nil when not written (the run's `--executor`, else local).
    public var executor: StageExecutorName?

    /// A placement; everything empty by default.
    public init(resources: StageResources = StageResources(), nodeSelector: [String: String] = [:],
                executor: StageExecutorName? = nil) {
        self.resources = resources
        self.nodeSelector = nodeSelector
        self.executor = executor
    }
}

/// The executors a stage may name with `executor:`.
public enum StageExecutorName: String, Sendable, Hashable, CaseIterable {
    /// A process on the machine that runs mlpipe.
    case local
    /// A `batch/v1` Job on the cluster of a declared kubeconfig secret.
    case kubernetes
}

/// `resources:` of a stage: requests and limits of CPU, memory and GPUs.
///
/// Invariant (checked by the loader): a request is at most its limit where both are
/// written, and GPUs are written under `limits` only (Kubernetes takes a GPU request from
/// its limit and refuses a different one).
public struct StageResources: Sendable, Hashable {
    /// `requests:`.
    public var requests: ResourceAmounts
    /// `limits:`.
    public var limits: ResourceAmounts

    /// Resources; none by default.
    public init(requests: ResourceAmounts = ResourceAmounts(), limits: ResourceAmounts = ResourceAmounts()) {
        self.requests = requests
        self.limits = limits
    }

    /// True when nothing is asked for.
    public var isEmpty: Bool { requests.isEmpty && limits.isEmpty }
}

/// CPU, memory and GPUs, each optional.
public struct ResourceAmounts: Sendable, Hashable {
    /// Cores: `500m`, `2`.
    public var cpu: ResourceQuantity?
    /// Bytes: `512Mi`, `4Gi`.
    public var memory: ResourceQuantity?
    /// Whole GPUs (`nvidia.com/gpu`).
    public var gpu: Int?

    /// Amounts; leave out what the stage does not need.
    public init(cpu: ResourceQuantity? = nil, memory: ResourceQuantity? = nil, gpu: Int? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.gpu = gpu
    }

    /// True when no amount is set.
    public var isEmpty: Bool { cpu == nil && memory == nil && gpu == nil }
}

/// A Kubernetes resource quantity (`500m`, `2`, `0.5`, `512Mi`, `1G`, `2e3`): kept as
/// written for the manifest, and as a number to compare a request with its limit.
///
/// The grammar is the API server's: a decimal number, then an optional binary suffix
/// (`Ki` … `Ei`), decimal suffix (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or
/// exponent (`e3`). A negative quantity is refused.
public struct ResourceQuantity: Sendable, Hashable, CustomStringConvertible {
    /// As written.
    public var text: String
    /// In base units (cores, bytes); for comparisons only.
    public var amount: Double

    /// Parses `text`; nil unless the API server would accept it as a non-negative quantity.
    public init?(_ text: String) {
        guard let amount = Self.amount(of: text) else { return nil }
        self.text = text
        self.amount = amount
    }

    public var description: String { text }

    static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
        ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
        ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ("P", 1e15), ("E", 1e18),
    ]

    static func amount(of text: String) -> Double? {
        var number = Substring(text)
        var scale = 1.0
        if let (suffix, factor) = suffixes.first(where: { text.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            scale = factor
        } else if let mark = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let exponent = Int(text[text.index(after: mark)...]), abs(exponent) <= 18 else { return nil }
            number = text[..<mark]
            scale = pow10(exponent)
        }
        if number.hasPrefix("+") { number = number.dropFirst() }
        // Digits with at most one '.', and at least one digit.
        guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1,
              number.contains(where: \.isASCIIDigit),
              number.allSatisfy({ $0.isASCIIDigit || $0 == "." }),
              let value = Double(number) else { return nil }
        return value * scale
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
