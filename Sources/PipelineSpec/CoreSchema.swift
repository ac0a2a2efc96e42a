/// The YAML 1.2 core schema's rules for plain scalars.
enum CoreSchema {
    static func resolve(_ text: String) -> Value {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let scalars = Array(text.unicodeScalars)
        if isDecimalInteger(scalars) {
            if let value = Int(text) { return .int(value) }
            if let value = Double(text) { return .double(value) }
        }
        if scalars.count > 2, scalars[0] == "0", scalars[1] == "x",
           scalars.dropFirst(2).allSatisfy(\.properties.isASCIIHexDigit),
           let value = Int(String(text.dropFirst(2)), radix: 16) {
            return .int(value)
        }
        if scalars.count > 2, scalars[0] == "0", scalars[1] == "o",
           scalars.dropFirst(2).allSatisfy({ ("0"..."7").contains($0) }),
           let value = Int(String(text.dropFirst(2)), radix: 8) {
            return .int(value)
        }
        if isFloat(scalars), let value = Double(text) { return .double(value) }
        return .string(text)
    }

    /// `[-+]?[0-9]+`
    private static func isDecimalInteger(_ scalars: [Unicode.Scalar]) -> Bool {
        var digits = scalars[...]
        if let first = digits.first, first == "-" || first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ scalars: [Unicode.Scalar]) -> Bool {
        var index = 0
        func peek() -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
        func digits() -> Int {
            let start = index
            while let scalar = peek(), isDigit(scalar) { index += 1 }
            return index - start
        }
        if peek() == "-" || peek() == "+" { index += 1 }
        if peek() == "." {
            index += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if peek() == "." {
                index += 1
                _ = digits()
            }
        }
        if peek() == "e" || peek() == "E" {
            index += 1
            if peek() == "-" || peek() == "+" { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == scalars.count
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
}
