import Foundation

/// A parsed `${{ … }}` expression.
///
/// Semantics follow GitHub Actions: `==` and `<` compare strings ignoring case and coerce
/// mismatched types to numbers; `&&` and `||` return one of their operands; `!` negates
/// truthiness (false, 0, NaN, "" and null are falsy).
indirect enum Expression: Sendable, Hashable {
    enum BinaryOperator: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<="
        case greater = ">", greaterOrEqual = ">=", and = "&&", or = "||"
    }

    case literal(Value)
    /// A context path such as `params.x` or `stages.train.outputs.model`, at its first character.
    case reference([String], SourceLocation)
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)

    /// Every context path used, with the place it is written, in order.
    var referenceSites: [(path: [String], location: SourceLocation)] {
        switch self {
        case .literal: return []
        case .reference(let path, let location): return [(path, location)]
        case .not(let operand): return operand.referenceSites
        case .binary(_, let left, let right): return left.referenceSites + right.referenceSites
        }
    }

    func evaluate(_ context: EvaluationContext) throws(ExpressionError) -> Value {
        switch self {
        case .literal(let value):
            return value
        case .reference(let path, let location):
            return try context.lookup(path, at: location)
        case .not(let operand):
            return .bool(!Expression.isTruthy(try operand.evaluate(context)))
        case .binary(let op, let left, let right):
            let lhs = try left.evaluate(context)
            switch op {
            case .and: return Expression.isTruthy(lhs) ? try right.evaluate(context) : lhs
            case .or: return Expression.isTruthy(lhs) ? lhs : try right.evaluate(context)
            default: break
            }
            let rhs = try right.evaluate(context)
            switch op {
            case .equal: return .bool(Expression.looselyEqual(lhs, rhs))
            case .notEqual: return .bool(!Expression.looselyEqual(lhs, rhs))
            case .less: return .bool(Expression.compare(lhs, rhs).map { $0 < 0 } ?? false)
            case .lessOrEqual: return .bool(Expression.compare(lhs, rhs).map { $0 <= 0 } ?? false)
            case .greater: return .bool(Expression.compare(lhs, rhs).map { $0 > 0 } ?? false)
            case .greaterOrEqual: return .bool(Expression.compare(lhs, rhs).map { $0 >= 0 } ?? false)
            case .and, .or: return lhs
            }
        }
    }

    static func isTruthy(_ value: Value) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .double(let number): return number != 0 && !number.isNaN
        case .string(let text): return !text.isEmpty
        case .array, .object: return true
        }
    }

    /// GitHub Actions' `==`: same types compare directly (strings ignoring case), other
    /// scalars compare as numbers, lists and mappings only equal their own kind.
    static func looselyEqual(_ lhs: Value, _ rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a.lowercased() == b.lowercased()
        case (.array, .array), (.object, .object): return lhs == rhs
        case (.array, _), (_, .array), (.object, _), (_, .object): return false
        default:
            return number(lhs) == number(rhs)  // NaN is never equal, as in JavaScript
        }
    }

    /// -1, 0 or 1, or nil when the values cannot be ordered (NaN, lists, mappings).
    static func compare(_ lhs: Value, _ rhs: Value) -> Int? {
        if case .string(let a) = lhs, case .string(let b) = rhs {
            let (x, y) = (a.lowercased(), b.lowercased())
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        let (a, b) = (number(lhs), number(rhs))
        guard !a.isNaN, !b.isNaN else { return nil }
        return a < b ? -1 : (a == b ? 0 : 1)
    }

    /// JavaScript's `Number(x)` for the value kinds we have.
    static func number(_ value: Value) -> Double {
        switch value {
        case .null: return 0
        case .bool(let flag): return flag ? 1 : 0
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { return 0 }
            switch CoreSchema.resolve(trimmed) {
            case .int(let number): return Double(number)
            case .double(let number): return number
            default: return .nan
            }
        case .array, .object: return .nan
        }
    }

    /// `params.x`, `stages.train.outputs.model`, `params['my key']`, `params.layers[0]`.
    static func describe(_ path: [String]) -> String {
        var text = ""
        for (index, component) in path.enumerated() {
            if index > 0, Int(component) != nil {
                text += "[\(component)]"
            } else if index > 0, !ExpressionLexer.isIdentifier(component) {
                text += "['\(component.replacingOccurrences(of: "'", with: "''"))']"
            } else {
                text += index == 0 ? component : ".\(component)"
            }
        }
        return text
    }
}
