import Canonical

/// An image in a registry: `host[:port]/repository[:tag][@sha256:…]`, as in
/// `127.0.0.1:5000/models/iris:1.2` or `ghcr.io/acme/base@sha256:…`.
///
/// The first path component is the registry when it has a `.` or `:` or is `localhost`
/// (docker's rule); without one the reference is Docker Hub's, `docker.io`, with
/// `library/` added to one-component names. A reference with neither tag nor digest
/// means the tag `latest`, as docker pulls it; ``tag`` stays nil so that callers can tell.
public struct RegistryReference: Sendable, Hashable, CustomStringConvertible {
    /// `host[:port]`.
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    /// Parses `text`; throws ``RegistryError`` with code `.invalidReference` naming what is wrong.
    public init(parsing text: String) throws {
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            guard let parsed = Digest(parsing: String(rest[rest.index(after: at)...])) else {
                throw RegistryError(.invalidReference, "'\(text)': the part after @ must be sha256:<64 hex digits>")
            }
            digest = parsed
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = "docker.io"
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            registry = first
            components.removeFirst()
        } else if components.count == 1 {
            components.insert("library", at: 0)
        }
        self.registry = registry
        self.repository = components.joined(separator: "/")
        self.tag = tag
        self.digest = digest
        try RegistryReference.check(repository: repository, in: text)
        if let tag { try RegistryReference.check(tag: tag, in: text) }
    }

    /// `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// A repository name as the distribution spec allows it: lowercase components of
    /// `[a-z0-9]` separated by `.`, `_`, `__` or `-` runs, joined by `/`.
    static func check(repository: String, in context: String? = nil) throws {
        var valid = !repository.isEmpty && repository.utf8.count <= 255
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) where valid {
            let bytes = Array(component.utf8)
            valid = !bytes.isEmpty && isLowerOrDigit(bytes[0]) && isLowerOrDigit(bytes[bytes.count - 1])
                && bytes.allSatisfy(isRepositoryByte)
        }
        guard valid else {
            let prefix = context.map { "'\($0)': " } ?? ""
            throw RegistryError(.invalidReference,
                                prefix + "'\(repository)' is not a repository name: use lowercase letters, digits "
                                    + "and . _ - between them, components joined by /")
        }
    }

    /// A tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    static func check(tag: String, in context: String? = nil) throws {
        let bytes = Array(tag.utf8)
        let valid = (1...128).contains(bytes.count) && isTagStart(bytes[0]) && bytes.allSatisfy(isTagByte)
        guard valid else {
            let prefix = context.map { "'\($0)': " } ?? ""
            throw RegistryError(.invalidReference,
                                prefix + "'\(tag)' is not a tag: use up to 128 letters, digits, _ . -, "
                                    + "not starting with . or -")
        }
    }

    private static func isLowerOrDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return false
        }
    }

    private static func isRepositoryByte(_ byte: UInt8) -> Bool {
        isLowerOrDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private static func isTagStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"): return true
        default: return isLowerOrDigit(byte)
        }
    }

    private static func isTagByte(_ byte: UInt8) -> Bool {
        isTagStart(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }
}
