/// Replacing one context's references by values known at load time: the `matrix.KEY` of
/// a stage instance. What is left renders exactly as the template would have with those
/// values in its context, and `references` no longer names them, so the engine (which
/// has no `matrix` context) never sees them.
extension Template {
    /// The template with each `CONTEXT.KEY` whose key is in `values` replaced by that
    /// value, and each expression that then refers to nothing folded into text. A
    /// template left with no expression is literal (`isLiteral`, `raw` is its text).
    func substituting(_ context: String, _ values: [String: Value]) -> Template {
        var parts: [Part] = []
        for part in self.parts {
            switch part {
            case .text(let text):
                parts.append(.text(text))
            case .expression(let expression):
                let replaced = expression.substituting(context, values)
                if let value = replaced.constantValue {
                    parts.append(.text(value.interpolated))
                } else {
                    parts.append(.expression(replaced))
                }
            }
        }
        // Adjacent text parts merge, so that a fully substituted template is one text part.
        var merged: [Part] = []
        for part in parts {
            if case .text(let text) = part, case .text(let previous)? = merged.last {
                merged[merged.count - 1] = .text(previous + text)
            } else if case .text(let text) = part, text.isEmpty {
                continue
            } else {
                merged.append(part)
            }
        }
        var template = self
        template.parts = merged
        if template.isLiteral {
            template.raw = merged.map { if case .text(let text) = $0 { text } else { "" } }.joined()
        }
        var seen = Set<[String]>()
        template.references = template.referenceSites.map(\.path).filter { seen.insert($0).inserted }
        return template
    }
}

extension TemplateValue {
    /// `Template.substituting` on every string inside; a string that was exactly one
    /// expression and is now constant keeps its value's type (`"${{ matrix.lr }}"` gives
    /// the number 0.1), as it would when rendered.
    func substituting(_ context: String, _ values: [String: Value]) -> TemplateValue {
        switch self {
        case .scalar:
            return self
        case .string(let template):
            if template.parts.count == 1, case .expression(let expression) = template.parts[0],
               let value = expression.substituting(context, values).constantValue {
                return value.string.map { .string(Template(literal: $0, location: template.location)) } ?? .scalar(value)
            }
            return .string(template.substituting(context, values))
        case .array(let items):
            return .array(items.map { $0.substituting(context, values) })
        case .object(let members):
            return .object(members.mapValues { $0.substituting(context, values) })
        }
    }
}

extension Expression {
    /// The expression with `CONTEXT.KEY` references replaced by literals where `values`
    /// has the key.
    func substituting(_ context: String, _ values: [String: Value]) -> Expression {
        switch self {
        case .literal:
            return self
        case .reference(let path, _):
            guard path.count == 2, path[0] == context, let value = values[path[1]] else { return self }
            return .literal(value)
        case .not(let operand):
            return .not(operand.substituting(context, values))
        case .binary(let op, let left, let right):
            return .binary(op, left.substituting(context, values), right.substituting(context, values))
        }
    }

    /// The value, when the expression refers to no context.
    var constantValue: Value? {
        guard referenceSites.isEmpty else { return nil }
        do {
            return try evaluate(EvaluationContext(root: [:]))
        } catch {
            // Without references, evaluation reads nothing that could be missing.
            return nil
        }
    }
}
