/// A recursive-descent parser over one expression's tokens, with a depth bound so that
/// `((((…` or `!!!!…` cannot exhaust the stack.
struct ExpressionParser {
    static let depthLimit = 32

    struct Failure: Error {
        var offset: Int
        var message: String
    }

    let tokens: [ExpressionToken]
    let locate: (Int) -> SourceLocation
    private var position = 0
    private var depth = 0

    init(tokens: [ExpressionToken], locate: @escaping (Int) -> SourceLocation) {
        self.tokens = tokens
        self.locate = locate
    }

    /// Parses the whole token list; the last token must be the closing `}}`.
    mutating func parse() throws(Failure) -> Expression {
        if tokens.first?.kind == .end {
            throw Failure(offset: tokens[0].offset, message: "empty expression; write a value between '${{' and '}}', e.g. ${{ params.name }}")
        }
        let expression = try parseOr()
        guard current.kind == .end else {
            throw unexpected(current, expected: "an operator or '}}'")
        }
        return expression
    }

    private var current: ExpressionToken { tokens[min(position, tokens.count - 1)] }

    private func unexpected(_ token: ExpressionToken, expected: String) -> Failure {
        if token.kind == .end {
            return Failure(offset: token.offset, message: "expression ends early; expected \(expected) before '}}'")
        }
        return Failure(offset: token.offset, message: "unexpected '\(token.text)' in expression; expected \(expected)")
    }

    private mutating func accept(_ symbol: String) -> Bool {
        if current.kind == .symbol(symbol) {
            position += 1
            return true
        }
        return false
    }

    private mutating func parseOr() throws(Failure) -> Expression {
        var left = try parseAnd()
        while accept("||") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(Failure) -> Expression {
        var left = try parseEquality()
        while accept("&&") { left = .binary(.and, left, try parseEquality()) }
        return left
    }

    private mutating func parseEquality() throws(Failure) -> Expression {
        var left = try parseComparison()
        while true {
            if accept("==") { left = .binary(.equal, left, try parseComparison()) }
            else if accept("!=") { left = .binary(.notEqual, left, try parseComparison()) }
            else { return left }
        }
    }

    private mutating func parseComparison() throws(Failure) -> Expression {
        var left = try parseUnary()
        while true {
            if accept("<=") { left = .binary(.lessOrEqual, left, try parseUnary()) }
            else if accept(">=") { left = .binary(.greaterOrEqual, left, try parseUnary()) }
            else if accept("<") { left = .binary(.less, left, try parseUnary()) }
            else if accept(">") { left = .binary(.greater, left, try parseUnary()) }
            else { return left }
        }
    }

    private mutating func parseUnary() throws(Failure) -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.depthLimit else {
            throw Failure(offset: current.offset, message: "expression nests deeper than \(Self.depthLimit) levels; simplify it")
        }
        if accept("!") { return .not(try parseUnary()) }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(Failure) -> Expression {
        let token = current
        switch token.kind {
        case .number(let value), .keyword(let value):
            position += 1
            return .literal(value)
        case .string(let text):
            position += 1
            return .literal(.string(text))
        case .symbol("("):
            position += 1
            let inner = try parseOr()
            guard accept(")") else { throw unexpected(current, expected: "')'") }
            return inner
        case .identifier(let name):
            position += 1
            if current.kind == .symbol("(") {
                throw Failure(offset: token.offset, message: "unknown function '\(name)'; expressions support no functions, only names, literals and operators")
            }
            return try parsePath(head: name, at: token)
        default:
            throw unexpected(token, expected: "a name (params.x), a literal or '('")
        }
    }

    private mutating func parsePath(head: String, at token: ExpressionToken) throws(Failure) -> Expression {
        var path = [head]
        while true {
            if accept(".") {
                guard case .identifier(let name) = current.kind else {
                    throw unexpected(current, expected: "a name after '.'")
                }
                path.append(name)
                position += 1
            } else if accept("[") {
                switch current.kind {
                case .string(let key): path.append(key)
                case .number(.int(let index)) where index >= 0: path.append(String(index))
                default:
                    throw unexpected(current, expected: "a quoted name or a list index inside '[ ]', e.g. params['learning-rate']")
                }
                position += 1
                guard accept("]") else { throw unexpected(current, expected: "']'") }
            } else {
                return .reference(path, locate(token.offset))
            }
        }
    }
}
