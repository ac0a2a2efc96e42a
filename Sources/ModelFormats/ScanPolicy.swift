import Foundation

/// Which Python globals a model file may import and call while it is loaded.
///
/// An allow-list: a pickle (or a Keras config) may name only what is listed here;
/// everything else is `unsafe`. The defaults cover what numpy, scikit-learn, joblib
/// and PyTorch's tensor rebuild functions write, `collections` and plain builtin
/// types. `allowing(_:)` extends the list with the stage's `with: allow`.
///
/// Names are compared component by component, never as string prefixes:
/// `collections.OrderedDict` does not allow `collections.OrderedDict.fromkeys`, and
/// `numpy.prod.a` (an attribute chain through an allowed function) is not allowed.
/// An entry ending in `.*` allows the classes and functions directly inside one module
/// and its submodules, but never a dunder name and never an attribute chain.
///
/// Some globals resolve or run other code however they are called: `importlib`,
/// `pkgutil.resolve_name`, `pydoc.locate`, `operator.attrgetter`, `functools.partial`,
/// `builtins.getattr`, code-object constructors, `marshal`, nested `pickle.loads` and
/// `torch.load`, … They are unsafe even under a `.*` entry; only an entry that names
/// them exactly allows them.
public struct ScanPolicy: Sendable {
    /// What a global may be used for once it is allowed.
    enum Use: Sendable, Equatable {
        /// A class or value: safe to import, construct, and keep as an attribute.
        case type
        /// A function that is safe to call while loading (`_reconstruct`,
        /// `_rebuild_tensor_v2`). Keeping it as an attribute through `BUILD` is not.
        case function
    }

    /// How a global was classified, with the reason a person reads in a finding.
    enum Classification: Sendable, Equatable {
        case allowed(Use)
        case denied(reason: String)

        var isAllowed: Bool {
            if case .allowed = self { return true }
            return false
        }
    }

    /// Exact entries: dotted name → use.
    private var exact: [String: Use]
    /// Module prefixes from `.*` entries, as component arrays.
    private var wildcards: [[Substring]]
    /// Entries the user added, in the order given (for reports).
    public private(set) var extraAllowed: [String]

    /// The policy every scan starts from.
    public static let `default` = ScanPolicy(
        exact: ScanPolicy.defaultTypes.reduce(into: [:]) { $0[$1] = .type }
            .merging(ScanPolicy.defaultFunctions.reduce(into: [:]) { $0[$1] = .function },
                     uniquingKeysWith: { $1 }),
        wildcards: ScanPolicy.defaultClassWildcards.map { $0.split(separator: ".") },
        extraAllowed: [])

    private init(exact: [String: Use], wildcards: [[Substring]], extraAllowed: [String]) {
        self.exact = exact
        self.wildcards = wildcards
        self.extraAllowed = extraAllowed
    }

    /// This policy plus `globals`, each `module.qualname` or `module.*`.
    ///
    /// An exact name is allowed as a function (it may be called and kept), since
    /// the user named it on purpose; this is also the only way to allow a name from
    /// the always-unsafe list. Empty strings are ignored.
    public func allowing(_ globals: [String]) -> ScanPolicy {
        var copy = self
        for raw in globals {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            copy.extraAllowed.append(entry)
            if entry.hasSuffix(".*") {
                let module = entry.dropLast(2)
                if !module.isEmpty {
                    copy.wildcards.append(module.split(separator: ".", omittingEmptySubsequences: false))
                }
            } else {
                copy.exact[entry] = .function
            }
        }
        return copy
    }

    /// What is wrong with an allow-list entry, or nil when it is one `allowing(_:)`
    /// understands: `module.name` or `module.*`, dotted, without empty or blank parts.
    ///
    /// `allowing(_:)` takes any string; an entry such as `os` or `numpy.` would simply
    /// never match, so the stage and `mlpipe scan --allow` reject it up front instead
    /// of letting the user believe something is allowed.
    public static func problem(withEntry entry: String) -> String? {
        let parts = entry.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 else {
            return "'\(entry)' is not module.name or module.*; name the global with its module, "
                + "for example 'mypkg.models.Net' or 'mypkg.*'"
        }
        guard !parts.contains(where: { $0.isEmpty || $0.contains(where: \.isWhitespace) }) else {
            return "'\(entry)' has an empty or blank part between dots"
        }
        if parts.dropLast().contains("*") || (parts.last?.contains("*") == true && parts.last != "*") {
            return "'\(entry)' uses '*' other than as the whole last part (module.*)"
        }
        return nil
    }

    /// Whether loading may import `module` and look up `name` in it.
    ///
    /// The entry point the Keras config and HDF5 readers use for `module` /
    /// `class_name` / `registered_name` entries.
    public func isAllowed(module: String, name: String) -> Bool {
        classify(module: module, name: name).isAllowed
    }

    /// Classifies one global. `name` may be dotted (protocol 4 attribute chains).
    func classify(module: String, name: String) -> Classification {
        let full = module.isEmpty ? name : module + "." + name
        if let use = exact[full] { return .allowed(use) }
        let moduleParts = module.split(separator: ".", omittingEmptySubsequences: false)
        let nameParts = name.split(separator: ".", omittingEmptySubsequences: false)
        if module.isEmpty || name.isEmpty || moduleParts.contains(where: \.isEmpty)
            || nameParts.contains(where: \.isEmpty) {
            return .denied(reason: "is not a valid module and name")
        }
        if let reason = Self.alwaysUnsafeReason(moduleParts + nameParts) {
            return .denied(reason: reason)
        }
        if nameParts.contains(where: Self.isDunder) {
            return .denied(reason: "reaches a dunder attribute, which can lead anywhere")
        }
        if nameParts.count == 1 {
            for prefix in wildcards where Self.hasPrefix(moduleParts, prefix) {
                return .allowed(.type)
            }
            for rule in Self.defaultCamelCaseRules where Self.hasPrefix(moduleParts, rule.module)
                && !rule.excluded.contains(where: { Self.hasPrefix(moduleParts, $0) })
                && Self.isCamelCaseClassName(nameParts[0]) {
                return .allowed(.type)
            }
        } else {
            // An attribute chain through an allowed object (`numpy.prod.a`) reaches
            // whatever a `BUILD` stored there.
            let head = moduleParts + nameParts.prefix(1)
            if exact[head.joined(separator: ".")] != nil {
                return .denied(reason: "is an attribute chain through an allowed global")
            }
        }
        return .denied(reason: "is not in the allow-list")
    }

    static func hasPrefix(_ parts: [Substring], _ prefix: [Substring]) -> Bool {
        parts.count >= prefix.count && zip(parts, prefix).allSatisfy { $0 == $1 }
    }

    static func isDunder(_ part: Substring) -> Bool {
        part.count > 4 && part.hasPrefix("__") && part.hasSuffix("__")
    }

    static func isCamelCaseClassName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isUppercase, first.isASCII else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// The reason a dotted name is unsafe whatever a `.*` entry says, or nil.
    static func alwaysUnsafeReason(_ parts: [Substring]) -> String? {
        for (count, table) in alwaysUnsafe.enumerated().reversed() where parts.count > count {
            let key = parts.prefix(count + 1).joined(separator: ".")
            if let reason = table[key] { return reason }
        }
        return nil
    }

    /// Always-unsafe names, indexed by their number of components minus one, so that
    /// `os` covers `os.path.join` and `builtins.getattr` covers `builtins.getattr.x`.
    private static let alwaysUnsafe: [[String: String]] = {
        var tables: [[String: String]] = Array(repeating: [:], count: 4)
        for (reason, names) in alwaysUnsafeGroups {
            for name in names {
                let count = name.split(separator: ".").count
                tables[count - 1][name] = reason
            }
        }
        return tables
    }()
}
