/// `resources:`, `node_selector:` and `executor:` of a stage (see `StagePlacement`), each
/// problem reported at its key or value with what to write instead.
extension PipelineDecoder {
    static let placementKeys = ["resources", "node_selector", "executor"]

    /// The stage's placement from its fields; what is wrong is reported and left out.
    func placement(_ byKey: [String: Entry], context: String) -> StagePlacement {
        var placement = StagePlacement()
        if let entry = byKey["resources"], !isNull(entry.value) {
            placement.resources = resources(entry, context: context)
        }
        if let entry = byKey["node_selector"], !isNull(entry.value),
           let labels = entries(of: entry.value, what: "`node_selector` of \(context)",
                                example: "`kubernetes.io/arch: amd64`") {
            for label in labels {
                guard Self.isLabelKey(label.key) else {
                    sink.error("invalid node label '\(label.key)' in `node_selector` of \(context); a label is "
                               + "[PREFIX/]NAME, NAME up to 63 letters, digits, '-', '_' and '.', starting and ending "
                               + "with a letter or digit", at: location(label.keyNode))
                    continue
                }
                let value: String
                switch label.value.scalarValue {
                case .string(let text)?: value = text
                case .int?, .double?, .bool?: value = label.value.scalar?.text ?? ""
                default:
                    sink.error("expected a string for node label '\(label.key)', found \(label.value.typeDescription); "
                               + "write e.g. `\(label.key): \"true\"`", at: location(label.value))
                    continue
                }
                guard Self.isLabelValue(value) else {
                    sink.error("invalid value '\(value.prefix(70))' of node label '\(label.key)'; a label value is up to 63 "
                               + "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
                               at: location(label.value))
                    continue
                }
                placement.nodeSelector[label.key] = value
            }
        }
        if let entry = byKey["executor"], !isNull(entry.value),
           let name = string(entry.value, what: "`executor` of \(context)") {
            if let executor = StageExecutorName(rawValue: name) {
                placement.executor = executor
            } else {
                sink.error("unknown executor '\(name)' in \(context)"
                           + sink.hint(for: name, in: StageExecutorName.allCases.map(\.rawValue), listing: "executors"),
                           at: location(entry.value))
            }
        }
        return placement
    }

    private func resources(_ entry: Entry, context: String) -> StageResources {
        let example = "`requests: { cpu: 500m, memory: 2Gi }` and `limits: { cpu: \"2\", memory: 4Gi, gpu: 1 }`"
        guard let fields = entries(of: entry.value, what: "`resources` of \(context)", example: example) else {
            return StageResources()
        }
        checkKeys(fields, allowed: ["requests", "limits"], in: "in `resources` of \(context)")
        var result = StageResources()
        var sites: [String: (requests: YAMLNode?, limits: YAMLNode?)] = [:]
        for field in fields where field.key == "requests" || field.key == "limits" {
            guard !isNull(field.value),
                  let items = entries(of: field.value, what: "`resources.\(field.key)` of \(context)",
                                      example: "`{ cpu: 500m, memory: 2Gi }`") else { continue }
            checkKeys(items, allowed: ["cpu", "memory", "gpu"], in: "in `resources.\(field.key)` of \(context)")
            var amounts = ResourceAmounts()
            for item in items {
                switch item.key {
                case "cpu", "memory":
                    guard let quantity = quantity(item.value, name: item.key, in: field.key) else { continue }
                    if item.key == "cpu" { amounts.cpu = quantity } else { amounts.memory = quantity }
                    if field.key == "requests" { sites[item.key, default: (nil, nil)].requests = item.value }
                    else { sites[item.key, default: (nil, nil)].limits = item.value }
                case "gpu":
                    guard field.key == "limits" else {
                        sink.error("GPUs are written under `limits` only (Kubernetes takes the request from the limit); "
                                   + "move `gpu` to `resources.limits`", at: location(item.keyNode))
                        continue
                    }
                    if case .int(let count)? = item.value.scalarValue, count >= 0 {
                        amounts.gpu = count
                    } else {
                        sink.error("expected a whole number of GPUs for `gpu`, found \(describe(item.value)); write e.g. `gpu: 1`",
                                   at: location(item.value))
                    }
                default: continue
                }
            }
            if field.key == "requests" { result.requests = amounts } else { result.limits = amounts }
        }
        // A request above its limit: the API server would refuse the pod.
        for (name, request, limit) in [("cpu", result.requests.cpu, result.limits.cpu),
                                       ("memory", result.requests.memory, result.limits.memory)] {
            guard let request, let limit, request.amount > limit.amount, let site = sites[name]?.requests else { continue }
            sink.error("the \(name) request \(request.text) of \(context) is more than its limit \(limit.text); "
                       + "a request may be at most the limit", at: location(site))
        }
        return result
    }

    private func quantity(_ node: YAMLNode, name: String, in block: String) -> ResourceQuantity? {
        let example = name == "cpu" ? "`cpu: 500m` or `cpu: \"2\"`" : "`memory: 512Mi` or `memory: 4Gi`"
        let text: String?
        switch node.scalarValue {
        case .string(let written)?: text = written
        case .int?, .double?: text = node.scalar?.text
        default: text = nil
        }
        guard let text, let quantity = ResourceQuantity(text) else {
            sink.error("invalid \(name) quantity \(describe(node)) in `resources.\(block)`; write e.g. \(example)",
                       at: location(node))
            return nil
        }
        return quantity
    }

    /// `[PREFIX/]NAME` as Kubernetes label keys are: PREFIX a DNS subdomain, NAME up to 63.
    static func isLabelKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                  prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
                      !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                          && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
                  }) else { return false }
        }
        return !name.isEmpty && isLabelValue(String(name))
    }

    /// Empty, or up to 63 of `[A-Za-z0-9_.-]` starting and ending with a letter or digit.
    static func isLabelValue(_ value: String) -> Bool {
        guard !value.isEmpty else { return true }
        let scalars = Array(value.unicodeScalars)
        guard scalars.count <= 63, let first = scalars.first, let last = scalars.last,
              isASCIIAlphanumeric(first), isASCIIAlphanumeric(last) else { return false }
        return scalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
