/// The checked values of `KubernetesSpec` and `KnativeSpec`: each is read from one
/// setting and refuses a bad one where it is written.
///
/// Every refusal is a `DecodingError.dataCorrupted` whose coding path is the value's own,
/// so that any decoder reports it there; mlpipe's settings decoder turns it into
/// `FILE:LINE:COL: error: with.kubernetes.namespace: 'ML' is not …` at that value. A
/// string that holds a `${{ }}` expression at lint time reaches these checks as its raw
/// text, fails them, and the settings decoder leaves it for the stage start to judge.
enum SpecValue {
    /// The refusal of the value at `codingPath`, with what is wrong and how to fix it.
    static func refuse(_ message: String, at codingPath: [any CodingKey]) -> DecodingError {
        .dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: message))
    }

    /// Reads a string at the decoder's value.
    static func string(_ decoder: any Decoder) throws -> String {
        try decoder.singleValueContainer().decode(String.self)
    }

    // MARK: Names, as the API server checks them

    /// An RFC 1123 label: 1 to 63 of `a-z`, `0-9` and `-`, starting and ending with a
    /// letter or digit (namespaces, ports, most names).
    static func isLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ byte: UInt8) -> Bool { (48...57).contains(byte) || (97...122).contains(byte) }
        return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == 45 }
    }

    /// An RFC 1123 subdomain: labels joined by dots, at most 253 characters (Secret
    /// names, host names).
    static func isSubdomain(_ text: String) -> Bool {
        text.utf8.count <= 253 && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    /// A label value, or the name part of a label key: at most 63 of letters, digits,
    /// `-`, `_`, `.`, starting and ending with a letter or digit; a value may be empty.
    static func isLabelValue(_ text: String, allowEmpty: Bool = true) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return allowEmpty }
        func alnum(_ byte: UInt8) -> Bool {
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
        }
        return bytes.count <= 63 && alnum(first) && alnum(last)
            && bytes.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// A label, annotation or node-selector key: `[PREFIX/]NAME`, PREFIX a subdomain.
    static func isLabelKey(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isLabelValue(text, allowEmpty: false)
        case 2: return isSubdomain(String(parts[0])) && isLabelValue(String(parts[1]), allowEmpty: false)
        default: return false
        }
    }

    /// An environment variable name as a shell can use it: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(48...57).contains(first) else { return false }
        return text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 }
    }

    /// A key inside a Secret: 1 to 253 of letters, digits, `-`, `_` and `.`.
    static func isSecretKey(_ text: String) -> Bool {
        (1...253).contains(text.utf8.count)
            && text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    // MARK: Checked strings

    /// A namespace or another RFC 1123 label.
    struct Label: Decodable, Sendable, Equatable {
        var text: String
        init(from decoder: any Decoder) throws {
            text = try SpecValue.string(decoder)
            guard SpecValue.isLabel(text) else {
                throw SpecValue.refuse("'\(text)' is not a Kubernetes name; use 1 to 63 lower-case letters, digits "
                                       + "and '-', starting and ending with a letter or digit (ml-serving)",
                                       at: decoder.codingPath)
            }
        }
    }

    /// A Secret's name (an RFC 1123 subdomain).
    struct SecretName: Decodable, Sendable, Equatable {
        var text: String
        init(from decoder: any Decoder) throws {
            text = try SpecValue.string(decoder)
            guard SpecValue.isSubdomain(text) else {
                throw SpecValue.refuse("'\(text)' is not a Secret name; use lower-case letters, digits, '-' and '.', "
                                       + "starting and ending with a letter or digit (iris-auth)", at: decoder.codingPath)
            }
        }
    }

    /// A mapping of label keys to label values: a node selector, pod labels, extra labels.
    struct Labels: Decodable, Sendable, Equatable {
        var pairs: [String: String]
        init(from decoder: any Decoder) throws {
            pairs = try decoder.singleValueContainer().decode([String: String].self)
            for (key, value) in pairs.sorted(by: { $0.key < $1.key }) {
                guard SpecValue.isLabelKey(key) else {
                    throw SpecValue.refuse("'\(key)' is not a label key; write [PREFIX/]NAME, NAME being at most 63 "
                                           + "letters, digits, '-', '_' and '.' (kubernetes.io/os)", at: decoder.codingPath)
                }
                guard SpecValue.isLabelValue(value) else {
                    throw SpecValue.refuse("'\(value)' (for '\(key)') is not a label value; use at most 63 letters, "
                                           + "digits, '-', '_' and '.', starting and ending with a letter or digit; "
                                           + "quote true, false and numbers", at: decoder.codingPath)
                }
            }
        }
    }

    /// A whole number from `minimum` to `maximum`, or nil when the key is absent;
    /// `meaning` names what it counts in the refusal ("a replica count").
    static func whole<Key: CodingKey>(_ fields: KeyedDecodingContainer<Key>, _ key: Key, from minimum: Int,
                                      to maximum: Int = Int.max, meaning: String) throws -> Int? {
        guard let number = try fields.decodeIfPresent(Int.self, forKey: key) else { return nil }
        guard (minimum...maximum).contains(number) else {
            let range = maximum == Int.max ? "at least \(minimum)" : "from \(minimum) to \(maximum)"
            throw refuse("\(number) is not \(meaning); use a whole number \(range)", at: fields.codingPath + [key])
        }
        return number
    }
}
