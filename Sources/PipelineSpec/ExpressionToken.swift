/// One token of an expression, at its offset (in Unicode scalars) in the template's raw text.
struct ExpressionToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case number(Value)
        case string(String)
        case keyword(Value)  // true, false, null
        case symbol(String)  // . [ ] ( ) ! == != < <= > >= && ||
        case end             // the closing }}
    }
    var kind: Kind
    var offset: Int
    var length: Int

    var text: String {
        switch kind {
        case .identifier(let name): return name
        case .number(let value): return value.interpolated
        case .string(let text): return "'\(text)'"
        case .keyword(let value): return value == .null ? "null" : value.interpolated
        case .symbol(let symbol): return symbol
        case .end: return "}}"
        }
    }
}
