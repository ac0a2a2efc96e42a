/// The CPU and memory a model's container asks for and may use: `resources:` of
/// `kubernetes:` and `knative:`.
///
/// ```yaml
/// resources:
///   requests: { cpu: 500m, memory: 512Mi }
///   limits: { cpu: "1", memory: 1Gi }
/// ```
///
/// All four are required. A model server without limits can take every core and every
/// byte of its node and starve what else runs there, so a spec without them is refused,
/// at the key that is missing, before anything is rendered. A request above its limit
/// is refused too (the API server would refuse the Deployment).
public struct ContainerResources: Decodable, Sendable, Equatable {
    /// `requests.cpu`, `requests.memory`.
    public var requests: Pair
    /// `limits.cpu`, `limits.memory`.
    public var limits: Pair

    /// A CPU and a memory quantity.
    public struct Pair: Sendable, Equatable {
        /// Cores: `500m`, `2`.
        public var cpu: Quantity
        /// Bytes: `512Mi`, `1Gi`.
        public var memory: Quantity
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case requests, limits }
    enum PairKeys: String, CodingKey, CaseIterable { case cpu, memory }

    /// Creates the resources from quantities already checked.
    public init(requests: Pair, limits: Pair) {
        self.requests = requests
        self.limits = limits
    }

    /// Reads and checks all four quantities; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        let why = [
            CodingKeys.requests: "the scheduler places a pod by its requests",
            CodingKeys.limits: "a model without limits can starve every other workload on its node",
        ]
        func pair(_ key: CodingKeys) throws -> Pair {
            guard fields.contains(key) else {
                throw SpecValue.refuse("`\(key.rawValue)` is required (\(why[key] ?? "")); add "
                                       + "`\(key.rawValue): { cpu: \"1\", memory: 1Gi }` with what the model needs",
                                       at: fields.codingPath)
            }
            let inner = try fields.nestedContainer(keyedBy: PairKeys.self, forKey: key)
            func quantity(_ name: PairKeys, example: String) throws -> Quantity {
                guard inner.contains(name) else {
                    throw SpecValue.refuse("`\(name.rawValue)` is required (\(why[key] ?? "")); add "
                                           + "`\(name.rawValue): \(example)`", at: inner.codingPath)
                }
                return try inner.decode(Quantity.self, forKey: name)
            }
            return Pair(cpu: try quantity(.cpu, example: "500m"), memory: try quantity(.memory, example: "512Mi"))
        }
        requests = try pair(.requests)
        limits = try pair(.limits)
        for (name, request, limit) in [("cpu", requests.cpu, limits.cpu), ("memory", requests.memory, limits.memory)]
        where request.amount > limit.amount {
            throw SpecValue.refuse("the \(name) request \(request.text) is more than its limit \(limit.text); "
                                   + "a request may be at most the limit", at: fields.codingPath + [CodingKeys.requests])
        }
    }
}

/// A Kubernetes resource quantity as written (`500m`, `1`, `0.5`, `1Gi`, `2e3`), kept as
/// text for the manifest and as a number for comparing a request with its limit.
public struct Quantity: Decodable, Sendable, Equatable, CustomStringConvertible {
    /// The quantity as the manifest writes it.
    public var text: String
    /// Its value in base units (cores, bytes), for comparisons only.
    var amount: Double

    /// Parses `text`; nil unless it is a non-negative quantity the API server accepts.
    public init?(_ text: String) {
        guard let amount = Self.amount(of: text) else { return nil }
        self.text = text
        self.amount = amount
    }

    /// Reads a string or a number (`cpu: 2`, `cpu: 0.5`), refusing anything else.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        do {
            text = try container.decode(String.self)
        } catch DecodingError.typeMismatch {
            // Not a string: a number, written back as YAML wrote it.
            if let whole = try? container.decode(Int.self) {
                text = String(whole)
            } else {
                text = try container.decode(Double.self).description
            }
        }
        guard let quantity = Quantity(text) else {
            throw SpecValue.refuse("'\(text)' is not a resource quantity; write a number with an optional suffix: "
                                   + "500m or 2 for CPU, 512Mi or 1Gi for memory", at: decoder.codingPath)
        }
        self = quantity
    }

    /// The quantity as written.
    public var description: String { text }

    /// `[digits][.digits][suffix]` with a decimal (`m`, `k`, `M`, …), binary (`Ki`, `Mi`,
    /// …) or exponent (`e3`) suffix, as `resource.Quantity` parses it; no sign.
    static func amount(of text: String) -> Double? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
            ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
            ("P", 1e15), ("E", 1e18),
        ]
        var number = Substring(text)
        var scale = 1.0
        if let (suffix, factor) = suffixes.first(where: { text.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            scale = factor
        } else if let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var digits = text[text.index(after: exponent)...]
            if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let power = Int(text[text.index(after: exponent)...]),
                  abs(power) < 30 else { return nil }
            number = text[..<exponent]
            scale = pow10(power)
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              parts.contains(where: { !$0.isEmpty }), let value = Double(number) else { return nil }
        return value * scale
    }

    private static func pow10(_ power: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(power) { result *= 10 }
        return power < 0 ? 1 / result : result
    }
}

extension Character {
    /// `0` to `9`, and nothing else that Unicode calls a digit.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
