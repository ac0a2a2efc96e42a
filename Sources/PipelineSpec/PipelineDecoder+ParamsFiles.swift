/// `params_files:` in a pipeline file, and the params files themselves.
extension PipelineDecoder {
    /// The entries of `params_files:` (a path or a list of paths): relative to the
    /// repository root, inside it, no expressions, no repeats.
    func paramsFiles(_ entry: Entry?) -> [ParamsFile] {
        guard let entry, !isNull(entry.value),
              let paths = stringList(entry.value, what: "`params_files`", example: "`params_files: [params.yaml]`") else {
            return []
        }
        var files: [ParamsFile] = []
        for (path, node) in paths {
            let at = location(node)
            if path.contains("${{") {
                sink.error("params file '\(path)' contains an expression; write a plain path relative to the repository root",
                           at: at)
            } else if path.hasPrefix("/") {
                sink.error("params file '\(path)' is absolute; write it relative to the repository root, e.g. 'params.yaml'",
                           at: at)
            } else if Self.normalize(path).map(\.isEmpty) ?? true {
                sink.error("params file '\(path)' is not a file inside the repository; write e.g. 'params.yaml'", at: at)
            } else if files.contains(where: { $0.path == path }) {
                sink.error("params file '\(path)' is listed twice; remove one", at: at)
            } else {
                files.append(ParamsFile(path: path, location: at))
            }
        }
        return files
    }

    /// The values of a params file already composed: a mapping of declared params, or
    /// null (an empty file). Keys the pipeline does not declare are reported at the key.
    func paramsFileValues(_ root: YAMLNode, declared: [String], pipelineFile: String) -> [String: Value] {
        if isNull(root) { return [:] }
        guard let items = entries(of: root, what: "a params file", example: "`min_accuracy: 0.95`") else { return [:] }
        var values: [String: Value] = [:]
        for item in items {
            guard declared.contains(item.key) else {
                let fix = declared.isEmpty
                    ? "; \(pipelineFile) declares no params, add '\(item.key)' under its `params:` first"
                    : sink.hint(for: item.key, in: declared, listing: "declared params")
                sink.error("unknown param '\(item.key)' in params file (it may set only params declared under `params:` "
                           + "in \(pipelineFile))" + fix, at: location(item.keyNode))
                continue
            }
            values[item.key] = value(of: item.value)
        }
        return values
    }
}
