/// A string from the pipeline file that may contain `${{ expr }}` parts.
///
/// Parsed once when the file is loaded, so that every malformed expression is a load-time
/// diagnostic and `references` can be checked and turned into DAG edges and cache-key
/// inputs before anything runs. Shell syntax (`$VAR`, `${VAR}`) is plain text here.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case text(String)
        case expression(Expression)
    }

    /// The text as written (after YAML unquoting).
    public var raw: String
    /// Where the string starts in the file.
    public var location: SourceLocation
    /// Every context path used, in order of first use, without repeats, e.g.
    /// `["params", "min_accuracy"]`, `["stages", "train", "outputs", "model"]`.
    public var references: [[String]]
    /// True when the string has no `${{ }}` part: it renders to `raw`.
    public var isLiteral: Bool { !parts.contains { if case .expression = $0 { true } else { false } } }

    var parts: [Part]

    /// Parses `raw`, assuming it was written at `location` as is (lines after the first
    /// start at column 1). Throws the first malformed expression.
    public init(_ raw: String, location: SourceLocation) throws(ExpressionError) {
        let (template, errors) = Template.parse(raw, location: location, locate: Template.plainLocator(raw, location))
        if let error = errors.first { throw error }
        self = template
    }

    /// A template with no expression that renders to `text`, whatever it contains.
    public init(literal text: String, location: SourceLocation) {
        self.raw = text
        self.location = location
        self.parts = text.isEmpty ? [] : [.text(text)]
        self.references = []
    }

    /// The string with every expression replaced by its value's `interpolated` form.
    public func render(_ context: EvaluationContext) throws(ExpressionError) -> String {
        try render(context) { _, value in value.interpolated }
    }

    /// `render` for a shell command (`run:`): a reference to a matrix stage without an
    /// instance (`stages.train.outputs.model`, where `train` is in `matrixGroups`) gives a
    /// list, which becomes its items as shell words, each quoted when it needs it
    /// (`Value.shellWords`). Every other value is inserted as `render` does (a list param
    /// stays JSON, as before matrices existed).
    public func renderCommand(_ context: EvaluationContext, matrixGroups: Set<String>) throws(ExpressionError) -> String {
        try render(context) { expression, value in
            guard value.array != nil, case .reference(let path, _) = expression, path.count > 1,
                  path[0] == "stages", matrixGroups.contains(path[1]) else { return value.interpolated }
            return value.shellWords
        }
    }

    private func render(_ context: EvaluationContext,
                        form: (Expression, Value) -> String) throws(ExpressionError) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let text): out += text
            case .expression(let expression): out += form(expression, try expression.evaluate(context))
            }
        }
        return out
    }

    /// The value of the string: when the whole string is one `${{ expr }}`, the
    /// expression's value with its type (a number stays a number); otherwise the rendered
    /// string. Used for `with:` settings, so that `"${{ params.min_accuracy }}"` gives 0.9.
    public func evaluate(_ context: EvaluationContext) throws(ExpressionError) -> Value {
        if parts.count == 1, case .expression(let expression) = parts[0] {
            return try expression.evaluate(context)
        }
        return .string(try render(context))
    }

    /// `raw`.
    public var description: String { raw }

    /// Each context path with the position where it is written, for load-time checks.
    var referenceSites: [(path: [String], location: SourceLocation)] {
        parts.flatMap { part -> [(path: [String], location: SourceLocation)] in
            if case .expression(let expression) = part { return expression.referenceSites }
            return []
        }
    }

    /// Parses every `${{ … }}` of `raw`. Returns the template (malformed parts become
    /// literal text) and one error per malformed expression. `locate` maps an offset in
    /// `raw`, counted in Unicode scalars, to a file position.
    static func parse(_ raw: String, location: SourceLocation,
                      locate: @escaping (Int) -> SourceLocation) -> (Template, [ExpressionError]) {
        let scalars = Array(raw.unicodeScalars)
        var parts: [Part] = []
        var errors: [ExpressionError] = []
        var text = String.UnicodeScalarView()
        var index = 0
        let lexer = ExpressionLexer(scalars: scalars)
        while index < scalars.count {
            guard scalars[index] == "$", index + 2 < scalars.count,
                  scalars[index + 1] == "{", scalars[index + 2] == "{" else {
                text.append(scalars[index])
                index += 1
                continue
            }
            let open = index
            do throws(ExpressionLexer.Failure) {
                let tokens = try lexer.tokens(from: open + 3)
                var parser = ExpressionParser(tokens: tokens, locate: locate)
                let end = tokens[tokens.count - 1].offset + 2
                do throws(ExpressionParser.Failure) {
                    let expression = try parser.parse()
                    if !text.isEmpty { parts.append(.text(String(text))) }
                    text = String.UnicodeScalarView()
                    parts.append(.expression(expression))
                } catch {
                    errors.append(ExpressionError(location: locate(error.offset), message: error.message))
                    text.append(contentsOf: scalars[open..<end])
                }
                index = end
            } catch {
                if error.message == "unterminated" {
                    errors.append(ExpressionError(location: locate(open),
                                                  message: "unterminated '${{'; close the expression with '}}'"))
                    text.append(contentsOf: scalars[open...])
                    break
                }
                errors.append(ExpressionError(location: locate(error.offset), message: error.message))
                // Resume after the next `}}`, so later expressions are still checked.
                var resume = error.offset + 1
                while resume + 1 < scalars.count, !(scalars[resume] == "}" && scalars[resume + 1] == "}") { resume += 1 }
                let end = min(resume + 2, scalars.count)
                text.append(contentsOf: scalars[open..<end])
                index = end
            }
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        var template = Template(literal: raw, location: location)
        template.parts = parts
        var seen = Set<[String]>()
        template.references = template.referenceSites.map(\.path).filter { seen.insert($0).inserted }
        return (template, errors)
    }

    /// Offsets in `raw` counted from `location`, moving to column 1 of the next line after
    /// each newline.
    static func plainLocator(_ raw: String, _ location: SourceLocation) -> (Int) -> SourceLocation {
        let scalars = Array(raw.unicodeScalars)
        return { offset in
            var line = location.line
            var column = location.column
            for scalar in scalars.prefix(offset) {
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
            return SourceLocation(file: location.file, line: line, column: column)
        }
    }
}
