/// A SHA-256 content digest: the name of every object in the store.
///
/// Written as `sha256:<64 lowercase hex>` everywhere a person or another program
/// sees it (the run database, `--json` output, manifests), so that the algorithm
/// is never implied. Ordering is by the hex text, which is also byte order.
public struct Digest: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The 64 lowercase hexadecimal characters.
    public let hex: String

    /// Wraps `hex`, which the caller guarantees is 64 lowercase hex characters
    /// (as the hasher produces). Use ``init(parsing:)`` for outside input.
    public init(hex: String) {
        self.hex = hex
    }

    /// Parses `sha256:<64 hex>`; uppercase hex is accepted and lowered. Returns nil
    /// for anything else, including a bare hex string without its algorithm.
    public init?(parsing text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = text.dropFirst(7).lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy(Digest.isHexDigit) else { return nil }
        self.hex = hex
    }

    /// `sha256:<hex>`.
    public var description: String { "sha256:" + hex }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    /// Decodes from the `sha256:<hex>` string form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = Digest(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a digest; expected sha256:<64 hex>")
        }
        self = digest
    }

    /// Encodes as the `sha256:<hex>` string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
