/// Finds the objects in a Keras model config that run or import code when the model loads.
///
/// Keras rebuilds a model from JSON: every object is `{"class_name", "config", …}`, and in
/// Keras 3 also `"module"` and `"registered_name"`. Loading imports `module` and looks up
/// `class_name` in it (for `"class_name": "function"`, the function named by `config`),
/// so a config can reach any importable callable, and a `Lambda` layer carries marshalled
/// Python bytecode or the name of a function to call. The scanner walks every object at
/// any depth (layers, their initializers, regularizers, activations, the optimizer and
/// losses of a compile config) and reports, with the object's byte offset:
/// - `keras-lambda` (`unsafe`): a `Lambda` layer, a Keras 3 `__lambda__` value, or a
///   layer that unpickles its state (`TorchModuleWrapper`); never allowed by policy;
/// - `keras-module` (`unsafe`): a `module` outside Keras, or a Keras entry point that
///   downloads, loads or turns off safe mode (`get_file`, `load_model`,
///   `enable_unsafe_deserialization`, …), or a `TFOpLambda` calling file or Python
///   functions; allowed when `policy.isAllowed(module:name:)` says so;
/// - `keras-registered-name` (`unsafe`): a `registered_name` `package>Name` whose
///   package is not Keras's; allowed by policy with `module: package`;
/// - `invalid-keras-config` (`invalid`): not JSON, a duplicate key, or not a model.
enum KerasConfigScanner {
    /// Top-level packages whose modules Keras itself ships.
    static let kerasPackages: Set<String> = [
        "keras", "tf_keras", "keras_core", "keras_nlp", "keras_hub", "keras_cv",
    ]

    /// Keras callables that a config must never name: they fetch files, load other
    /// models or switch safe mode off (CVE-2025-1550, CVE-2025-8747, CVE-2025-9906).
    static let deniedKerasNames: Set<String> = [
        "get_file", "load_model", "load_weights", "save_model", "enable_unsafe_deserialization",
        "deserialize_keras_object", "get_registered_object", "func_load", "TorchModuleWrapper",
    ]

    /// `TFOpLambda` function prefixes that reach files, Python callables or raw kernels.
    static let deniedTFOpPrefixes = [
        "io.", "compat.v1.io.", "raw_ops.", "py_function", "numpy_function", "compat.v1.py_func",
        "debugging.", "print", "summary.", "saved_model.", "data.", "gfile.", "compat.v1.gfile",
        "experimental.", "compat.v1.Print", "distribute.",
    ]

    /// The most findings one config gets.
    static let findingLimit = 256

    /// Findings for one Keras model config (`config.json` of a `.keras` archive, or the
    /// `model_config` attribute of an `.h5` file).
    ///
    /// `member` is put on every finding (the archive member or attribute name).
    static func scan(json: UnsafeRawBufferPointer, member: String?, policy: ScanPolicy) -> [Finding] {
        scan(json: json, member: member, policy: policy, requireModel: true)
    }

    /// As `scan(json:member:policy:)`; `requireModel: false` accepts configs whose top
    /// level is not a Keras object, such as an h5 file's `training_config`.
    static func scan(json: UnsafeRawBufferPointer, member: String?, policy: ScanPolicy,
                     requireModel: Bool) -> [Finding] {
        let root: StrictJSON.Node
        do {
            root = try StrictJSON.parse(json)
        } catch {
            return [Finding(kind: "invalid-keras-config", verdict: .invalid,
                            message: "Keras config is not valid JSON: \(error.reason)",
                            offset: Int64(error.offset), member: member)]
        }
        guard case .object = root.value, !requireModel || root["class_name"]?.string != nil else {
            return [Finding(kind: "invalid-keras-config", verdict: .invalid,
                            message: "Keras config is not a Keras object (no top-level class_name)",
                            offset: Int64(root.offset), member: member)]
        }
        var walker = Walker(policy: policy, member: member)
        walker.visit(root)
        return walker.findings
    }

    /// Whether `module` belongs to Keras (`keras.layers`, `tf_keras.src…`, `tensorflow.keras`).
    static func isKerasModule(_ module: String) -> Bool {
        let first = module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? module
        if kerasPackages.contains(first) { return true }
        return module == "tensorflow.keras" || module.hasPrefix("tensorflow.keras.")
            || module.hasPrefix("tensorflow.python.keras")
    }

    private struct Walker {
        let policy: ScanPolicy
        let member: String?
        var findings: [Finding] = []

        init(policy: ScanPolicy, member: String?) {
            self.policy = policy
            self.member = member
        }

        mutating func visit(_ node: StrictJSON.Node) {
            guard findings.count < findingLimit else { return }
            switch node.value {
            case .object(let members):
                if let className = node["class_name"]?.string {
                    check(node, className: className)
                }
                for (_, value) in members { visit(value) }
            case .array(let elements):
                for element in elements { visit(element) }
            default:
                break
            }
        }

        mutating func check(_ node: StrictJSON.Node, className: String) {
            let offset = Int64(node.offset)
            let layerName = node["config"]?["name"]?.string ?? node["name"]?.string
            let label = layerName.map { "'\($0)' (\(className))" } ?? className
            let registered = node["registered_name"]?.string
            let registeredTail = registered.map { String($0.split(separator: ">").last ?? Substring($0)) }

            if className == "Lambda" || registeredTail == "Lambda" || className == "__lambda__" {
                report("keras-lambda", .unsafe,
                       "layer \(label) is a Lambda layer: loading it runs the Python code it "
                       + "carries or names", global: "keras.layers.Lambda", offset: offset)
                return
            }
            if className == "TorchModuleWrapper" || registeredTail == "TorchModuleWrapper" {
                report("keras-lambda", .unsafe,
                       "layer \(label) unpickles a torch module when it loads",
                       global: "keras.layers.TorchModuleWrapper", offset: offset)
                return
            }
            if className == "TFOpLambda" || className == "SlicingOpLambda",
               let function = node["config"]?["function"]?.string,
               deniedTFOpPrefixes.contains(where: { function.hasPrefix($0) }),
               !policy.isAllowed(module: "tensorflow", name: function) {
                report("keras-module", .unsafe,
                       "layer \(label) calls tf.\(function), which reaches files or Python code",
                       global: "tensorflow.\(function)", offset: offset)
            }

            var moduleFlagged = false
            if let moduleNode = node["module"], !moduleNode.isNull {
                guard let module = moduleNode.string else {
                    report("invalid-keras-config", .invalid,
                           "object \(label) has a module that is not a string", offset: offset)
                    return
                }
                // The name Keras looks up in the module: a function's name is its config.
                let name: String
                if className == "function" {
                    name = node["config"]?.string ?? registered ?? className
                } else if className == "__typespec__" {
                    name = node["spec_name"]?.string ?? className
                } else {
                    name = className
                }
                if isKerasModule(module) {
                    if deniedKerasNames.contains(name) || registeredTail.map(deniedKerasNames.contains) == true,
                       !policy.isAllowed(module: module, name: name) {
                        moduleFlagged = true
                        report("keras-module", .unsafe,
                               "object \(label) names \(module).\(name), a Keras function that "
                               + "fetches or loads code or turns safe mode off",
                               global: "\(module).\(name)", offset: offset)
                    }
                } else if !policy.isAllowed(module: module, name: name) {
                    moduleFlagged = true
                    report("keras-module", .unsafe,
                           "object \(label) imports \(module).\(name), outside Keras; loading "
                           + "the model imports and calls it", global: "\(module).\(name)", offset: offset)
                }
            }

            if !moduleFlagged, let registered, let separator = registered.firstIndex(of: ">") {
                let package = String(registered[..<separator])
                let name = String(registered[registered.index(after: separator)...])
                if !isKerasModule(package), !policy.isAllowed(module: package, name: name) {
                    report("keras-registered-name", .unsafe,
                           "object \(label) is registered as '\(registered)', a custom object from "
                           + "package '\(package)' outside Keras", global: "\(package).\(name)",
                           offset: offset)
                }
            }
        }

        mutating func report(_ kind: String, _ verdict: Verdict, _ message: String,
                             global: String? = nil, offset: Int64) {
            guard findings.count < findingLimit else { return }
            findings.append(Finding(kind: kind, verdict: verdict, message: message,
                                    global: global, offset: offset, member: member))
        }
    }
}
