import Foundation

/// Reads pipeline files: YAML with positions, then every check, all problems at once.
///
/// `parse` is pure. `load` only adds reading the file. Both throw `SpecErrors` holding
/// every diagnostic, sorted by position; they never crash and never hang, whatever the
/// input (binary junk, deep nesting, alias bombs, an empty file).
public enum PipelineLoader {
    /// Files larger than this are refused before parsing; pipeline files are a few KB.
    public static let maximumFileSize = 4 << 20

    /// Parses and checks `source`, reporting positions in `file`.
    ///
    /// - Parameters:
    ///   - kinds: the stage kinds the engine registers, by name; a stage's `kind` must be
    ///     one of them, and its `run:` and `with:` must fit the kind's schema.
    ///   - secretProviders: the names of the secret providers the engine registers; each
    ///     secret's `{ PROVIDER: REFERENCE }` must name one of them.
    public static func parse(source: String, file: String, kinds: [String: KindSchema],
                             secretProviders: Set<String>) throws(SpecErrors) -> Pipeline {
        let sink = DiagnosticSink(file: file)
        if source.utf8.count > maximumFileSize {
            sink.error("the file is \(source.utf8.count) bytes, more than the \(maximumFileSize) a pipeline file may have; "
                       + "is it the right file?", line: 1, column: 1)
            throw SpecErrors(diagnostics: sink.diagnostics)
        }
        let root = YAMLComposer.compose(source, sink: sink)
        let decoder = PipelineDecoder(file: file, source: source, kinds: kinds, secretProviders: secretProviders, sink: sink)
        let pipeline = root.flatMap { decoder.decode($0) }
        guard let pipeline, sink.isEmpty else {
            if sink.isEmpty {
                sink.error("the file holds no pipeline; start it with `version: 1`", line: 1, column: 1)
            }
            throw SpecErrors(diagnostics: sink.diagnostics)
        }
        return pipeline
    }

    /// Reads the file at `path` and parses it, showing `displayPath` (default: `path`) in
    /// diagnostics. A file that cannot be read, or is not UTF-8, is reported at 1:1 or at
    /// its first bad byte.
    public static func load(path: String, displayPath: String? = nil, kinds: [String: KindSchema],
                            secretProviders: Set<String>) throws(SpecErrors) -> Pipeline {
        let file = displayPath ?? path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason: String
            switch (error as NSError).code {
            case NSFileReadNoSuchFileError: reason = "no such file"
            case NSFileReadNoPermissionError: reason = "permission denied"
            default: reason = FileManager.default.fileExists(atPath: path) ? "it is not a readable file" : "no such file"
            }
            throw SpecErrors(diagnostics: [Diagnostic(location: .start(of: file),
                                                      message: "cannot read the pipeline file: \(reason); check the path")])
        }
        if data.count > maximumFileSize {
            throw SpecErrors(diagnostics: [Diagnostic(
                location: .start(of: file),
                message: "the file is \(data.count) bytes, more than the \(maximumFileSize) a pipeline file may have; "
                    + "is it the right file?")])
        }
        guard let source = String(data: data, encoding: .utf8) else {
            let (line, column) = firstInvalidUTF8(in: data)
            throw SpecErrors(diagnostics: [Diagnostic(
                location: SourceLocation(file: file, line: line, column: column),
                message: "the file is not UTF-8 text; save it as UTF-8")])
        }
        return try parse(source: source, file: file, kinds: kinds, secretProviders: secretProviders)
    }

    /// Line and column (in scalars) of the first byte that is not valid UTF-8.
    private static func firstInvalidUTF8(in data: Data) -> (Int, Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var line = 1
        var column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error, .emptyInput:
                return (line, column)
            }
        }
    }
}
