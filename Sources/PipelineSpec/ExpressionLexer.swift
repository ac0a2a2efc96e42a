/// Splits the text after `${{` into tokens, up to and including the closing `}}`.
struct ExpressionLexer {
    /// A lexing failure at a raw-text offset.
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    let scalars: [Unicode.Scalar]

    static func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
        isIdentifierStart(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
    }

    /// `[A-Za-z_][A-Za-z0-9_-]*`: the names that may follow a `.` in an expression.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isIdentifierStart(first) else { return false }
        return text.unicodeScalars.allSatisfy(isIdentifierPart)
    }

    /// Tokens from `start` to the closing `}}` (included). Fails on a bad character, an
    /// unterminated string, or when the text ends before `}}`.
    func tokens(from start: Int) throws(Failure) -> [ExpressionToken] {
        var result: [ExpressionToken] = []
        var index = start
        func at(_ offset: Int) -> Unicode.Scalar? { offset < scalars.count ? scalars[offset] : nil }
        while true {
            guard let scalar = at(index) else {
                throw Failure(offset: start, message: "unterminated")
            }
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                index += 1
                continue
            }
            let begin = index
            if scalar == "}" && at(index + 1) == "}" {
                result.append(.init(kind: .end, offset: begin, length: 2))
                return result
            }
            if Self.isIdentifierStart(scalar) {
                var name = String.UnicodeScalarView()
                while let next = at(index), Self.isIdentifierPart(next) {
                    name.append(next)
                    index += 1
                }
                let word = String(name)
                let kind: ExpressionToken.Kind
                switch word {
                case "true": kind = .keyword(.bool(true))
                case "false": kind = .keyword(.bool(false))
                case "null": kind = .keyword(.null)
                default: kind = .identifier(word)
                }
                result.append(.init(kind: kind, offset: begin, length: index - begin))
                continue
            }
            if ("0"..."9").contains(scalar) || (scalar == "-" && at(index + 1).map { ("0"..."9").contains($0) } == true) {
                var text = String.UnicodeScalarView()
                text.append(scalar)
                index += 1
                while let next = at(index), Self.isIdentifierPart(next) || next == "." || next == "+" && (text.last == "e" || text.last == "E") {
                    text.append(next)
                    index += 1
                }
                let literal = String(text)
                switch CoreSchema.resolve(literal) {
                case .int(let value): result.append(.init(kind: .number(.int(value)), offset: begin, length: index - begin))
                case .double(let value) where value.isFinite:
                    result.append(.init(kind: .number(.double(value)), offset: begin, length: index - begin))
                default:
                    throw Failure(offset: begin, message: "bad number '\(literal)' in expression; write numbers like 3, 0.9 or 1e-3")
                }
                continue
            }
            if scalar == "'" {
                var text = String.UnicodeScalarView()
                index += 1
                while true {
                    guard let next = at(index) else {
                        throw Failure(offset: begin, message: "unterminated string in expression; close it with a single quote (write '' for a quote inside)")
                    }
                    if next == "'" {
                        if at(index + 1) == "'" {
                            text.append("'")
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    text.append(next)
                    index += 1
                }
                result.append(.init(kind: .string(String(text)), offset: begin, length: index - begin))
                continue
            }
            let pair = at(index + 1).map { String(scalar) + String($0) }
            if let pair, ["==", "!=", "<=", ">=", "&&", "||"].contains(pair) {
                result.append(.init(kind: .symbol(pair), offset: begin, length: 2))
                index += 2
                continue
            }
            if ".[]()!<>".unicodeScalars.contains(scalar) {
                result.append(.init(kind: .symbol(String(scalar)), offset: begin, length: 1))
                index += 1
                continue
            }
            let hint: String
            switch scalar {
            case "\"": hint = "; strings in expressions use single quotes: 'text'"
            case "=": hint = "; compare with '=='"
            case "&": hint = "; write '&&' for and"
            case "|": hint = "; write '||' for or"
            case "$": hint = "; expressions cannot nest, write the name directly: params.x"
            default: hint = "; expressions hold names (params.x), literals and the operators == != < <= > >= && || !"
            }
            let shown = scalar.value < 0x20 || scalar.value == 0x7F ? scalar.escaped(asASCII: true) : String(scalar)
            throw Failure(offset: begin, message: "unexpected character '\(shown)' in expression\(hint)")
        }
    }
}
