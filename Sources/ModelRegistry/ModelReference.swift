/// A version named on the command line or in a pipeline: `NAME`, `NAME@latest`,
/// `NAME@3`, `NAME@staging`.
///
/// A selector of digits is a version number, `latest` (or none) the newest version, any
/// other an alias; this is why an alias can be neither (`ModelNames.checkAlias`).
public struct ModelReference: Sendable, Hashable, CustomStringConvertible {
    /// Which version of the model.
    public enum Selector: Sendable, Hashable {
        /// The newest version.
        case latest
        /// A version number.
        case version(Int)
        /// The version an alias points at.
        case alias(String)
    }

    /// The model's name.
    public var name: String
    /// Which version.
    public var selector: Selector

    /// Creates a reference.
    public init(name: String, selector: Selector) {
        self.name = name
        self.selector = selector
    }

    /// Parses `NAME[@VERSION|@ALIAS]`, checking the name and the alias.
    public init(parsing text: String) throws(RegistryError) {
        guard let at = text.lastIndex(of: "@") else {
            try ModelNames.checkModel(text)
            self.init(name: text, selector: .latest)
            return
        }
        let name = String(text[..<at])
        let part = String(text[text.index(after: at)...])
        try ModelNames.checkModel(name)
        if part == "latest" {
            self.init(name: name, selector: .latest)
        } else if !part.isEmpty, part.utf8.allSatisfy({ (48...57).contains($0) }) {
            guard let number = Int(part), number >= 1 else {
                throw RegistryError(.invalidName, "'\(text)' names version \(part), which cannot exist",
                                    remedy: "versions are numbered from 1")
            }
            self.init(name: name, selector: .version(number))
        } else {
            try ModelNames.checkAlias(part)
            self.init(name: name, selector: .alias(part))
        }
    }

    /// `NAME@SELECTOR` as it parses back.
    public var description: String {
        switch selector {
        case .latest: name
        case .version(let number): "\(name)@\(number)"
        case .alias(let alias): "\(name)@\(alias)"
        }
    }
}
