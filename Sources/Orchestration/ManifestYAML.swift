import PipelineSpec
import Yams

/// The pieces of a pod spec that an Argo template and a Job share, as YAML nodes in the
/// order people expect to read them, and the one place that writes a document.
///
/// A string that a YAML reader would take for something else (`true`, `600`, `1.0`,
/// `null`, and YAML 1.1's `yes`/`on`/`off`, which Kubernetes' Go YAML reader still
/// honours) is single-quoted; libyaml's emitter quotes what would change the document's
/// structure (`a: b`, `- x`). A stage name or a label value can never turn into a number
/// or a boolean.
enum ManifestYAML {
    /// A string scalar.
    static func string(_ text: String) -> Node {
        let plain = Node.Scalar(text)
        let ambiguous = Resolver.default.resolveTag(of: .scalar(plain)) != .str || yaml11Words.contains(text.lowercased())
        return .scalar(ambiguous ? Node.Scalar(text, Tag(.str), .singleQuoted) : plain)
    }

    /// YAML 1.1's booleans and null, which a YAML 1.2 resolver reads as strings.
    static let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]
    /// A whole-number scalar.
    static func int(_ number: Int) -> Node { Node(String(number), Tag(.int)) }
    /// A boolean scalar.
    static func bool(_ flag: Bool) -> Node { Node(flag ? "true" : "false", Tag(.bool)) }
    /// A mapping in the order given.
    static func map(_ pairs: [(String, Node)]) -> Node {
        // Tagged `map` and `seq`, which the emitter leaves implicit (an untagged
        // collection would be written with an explicit `!!map` tag).
        Node.mapping(Node.Mapping(pairs.map { (string($0.0), $0.1) }, Tag(.map)))
    }
    /// A sequence in the order given.
    static func list(_ items: [Node]) -> Node { Node.sequence(Node.Sequence(items, Tag(.seq))) }
    /// A mapping of strings sorted by key (labels, a node selector).
    static func sorted(_ strings: [String: String]) -> Node {
        map(strings.keys.sorted().map { ($0, string(strings[$0] ?? "")) })
    }

    /// The document as block YAML, ending in a newline.
    static func document(_ node: Node) throws(OrchestrationError) -> String {
        do {
            return try Yams.serialize(node: node, indent: 2, width: -1, allowUnicode: true,
                                      sequenceStyle: .block, mappingStyle: .block)
        } catch {
            throw .yaml("\(error)")
        }
    }

    /// `requests:` and `limits:` as Kubernetes writes them; nil when nothing is asked.
    static func resources(_ resources: StageResources) -> Node? {
        func amounts(_ amounts: ResourceAmounts) -> Node? {
            var pairs: [(String, Node)] = []
            if let cpu = amounts.cpu { pairs.append(("cpu", string(cpu.text))) }
            if let memory = amounts.memory { pairs.append(("memory", string(memory.text))) }
            if let gpu = amounts.gpu { pairs.append(("nvidia.com/gpu", string(String(gpu)))) }
            return pairs.isEmpty ? nil : map(pairs)
        }
        var pairs: [(String, Node)] = []
        if let requests = amounts(resources.requests) { pairs.append(("requests", requests)) }
        if let limits = amounts(resources.limits) { pairs.append(("limits", limits)) }
        return pairs.isEmpty ? nil : map(pairs)
    }

    /// Plain variables sorted by name, then the secret references in the order given.
    static func environment(_ task: PodTask) -> Node? {
        var items = task.environment.keys.sorted().map { name in
            map([("name", string(name)), ("value", string(task.environment[name] ?? ""))])
        }
        for reference in task.secrets {
            var selector: [(String, Node)] = [("name", string(reference.secret)), ("key", string(reference.key))]
            if reference.optional { selector.append(("optional", bool(true))) }
            items.append(map([("name", string(reference.variable)),
                              ("valueFrom", map([("secretKeyRef", map(selector))]))]))
        }
        return items.isEmpty ? nil : list(items)
    }

    /// The container that runs the stage: `mlpipe ARGUMENTS` in the checkout.
    static func container(_ task: PodTask, settings: PodSettings, source: SourceCheckout,
                          named: Bool, mounts: Node? = nil) -> Node {
        var pairs: [(String, Node)] = []
        if named { pairs.append(("name", string(task.name))) }
        pairs.append(("image", string(settings.image)))
        pairs.append(("command", list([string("mlpipe")])))
        pairs.append(("args", list(task.arguments.map(string))))
        pairs.append(("workingDir", string(source.path)))
        if let env = environment(task) { pairs.append(("env", env)) }
        if let resources = resources(task.resources) { pairs.append(("resources", resources)) }
        if let mounts { pairs.append(("volumeMounts", mounts)) }
        return map(pairs)
    }

    /// `app.kubernetes.io/…` and `mlpipe.dev/…` labels of everything mlpipe renders.
    static func labels(pipeline: String, stage: String? = nil) -> [String: String] {
        var labels = ["app.kubernetes.io/managed-by": "mlpipe", "mlpipe.dev/pipeline": labelValue(pipeline)]
        if let stage { labels["mlpipe.dev/stage"] = labelValue(stage) }
        return labels
    }

    /// A label value: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at the ends.
    static func labelValue(_ text: String) -> String {
        var out = String(text.unicodeScalars.map { scalar -> Character in
            let keep = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                                          || scalar == "-" || scalar == "_" || scalar == ".")
            return keep ? Character(scalar) : "-"
        }.prefix(63))
        while let last = out.last, !(last.isLetter || last.isNumber) { out.removeLast() }
        while let first = out.first, !(first.isLetter || first.isNumber) { out.removeFirst() }
        return out
    }
}
