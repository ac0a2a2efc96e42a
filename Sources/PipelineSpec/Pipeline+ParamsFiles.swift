import Foundation

extension Pipeline {
    /// The pipeline with the values of its `params_files:` applied over the `params:`
    /// defaults, file by file in the order listed (a later file wins). `--param`
    /// overrides (`applying(paramOverrides:)`) come after this.
    ///
    /// Each file is YAML or JSON (JSON is YAML), relative to `repositoryRoot`, read from
    /// the working tree. A missing or unreadable file is reported at its entry in
    /// `params_files:`; a syntax error, a file that is not a mapping, or a key that
    /// `params:` does not declare, at its place in the params file. All problems at once.
    /// A stage's cache key holds only the params it references, so a changed value
    /// re-runs only the stages that use it.
    public func applying(paramsFilesIn repositoryRoot: String) throws(SpecErrors) -> Pipeline {
        guard !paramsFiles.isEmpty else { return self }
        var copy = self
        var diagnostics: [Diagnostic] = []
        for file in paramsFiles {
            let path = repositoryRoot + "/" + file.path
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                let missing = !FileManager.default.fileExists(atPath: path)
                diagnostics.append(Diagnostic(location: file.location, message: missing
                    ? "params file '\(file.path)' does not exist in the repository (\(repositoryRoot)); create it, "
                        + "or remove it from `params_files`"
                    : "cannot read params file '\(file.path)': \(error.localizedDescription); check that it is a readable file"))
                continue
            }
            guard data.count <= PipelineLoader.maximumFileSize, let source = String(data: data, encoding: .utf8) else {
                diagnostics.append(Diagnostic(location: file.location, message:
                    "params file '\(file.path)' is not UTF-8 text of at most \(PipelineLoader.maximumFileSize) bytes; "
                    + "write it as YAML or JSON"))
                continue
            }
            let sink = DiagnosticSink(file: file.path)
            if let root = YAMLComposer.compose(source, sink: sink) {
                let decoder = PipelineDecoder(file: file.path, source: source, kinds: [:], secretProviders: [], sink: sink)
                let values = decoder.paramsFileValues(root, declared: paramOrder, pipelineFile: self.file)
                for (name, value) in values { copy.params[name] = value }
            }
            diagnostics += sink.diagnostics
        }
        if !diagnostics.isEmpty { throw SpecErrors(diagnostics: diagnostics) }
        return copy
    }
}
