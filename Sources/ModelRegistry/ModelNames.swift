/// The rules for model names and aliases, the same for every backend, checked before a
/// name is written or sent.
///
/// A model name is 1 to 200 characters: letters, digits, `.`, `_`, `-`, starting with a
/// letter or digit — safe in a URI (`models:/NAME/3`), in an MLflow search filter and in
/// an image tag. An alias is 1 to 100 characters: letters, digits, `_` and `-`, starting
/// with a letter, and not `latest` nor `v` followed by digits (MLflow reserves both; a
/// selector of digits is a version number).
public enum ModelNames {
    /// Throws `invalidName` when `name` is not a valid model name.
    public static func checkModel(_ name: String) throws(RegistryError) {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else {
            throw RegistryError(.invalidName, "the model name is empty", remedy: "name the model, for example iris")
        }
        guard bytes.count <= 200, isAlphanumeric(first),
              bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                                 || $0 == UInt8(ascii: "-") }) else {
            throw RegistryError(.invalidName, "'\(name)' is not a model name",
                                remedy: "use 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// Throws `invalidName` when `alias` is not a valid alias.
    public static func checkAlias(_ alias: String) throws(RegistryError) {
        let bytes = Array(alias.utf8)
        let rule = "use 1 to 100 letters, digits, '_' or '-', starting with a letter, for example staging"
        guard let first = bytes.first else {
            throw RegistryError(.invalidName, "the alias is empty", remedy: rule)
        }
        guard bytes.count <= 100, isLetter(first),
              bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw RegistryError(.invalidName, "'\(alias)' is not an alias", remedy: rule)
        }
        let lowered = alias.lowercased()
        if lowered == "latest" || (lowered.hasPrefix("v") && lowered.count > 1
                                   && lowered.dropFirst().allSatisfy(\.isASCII) && lowered.dropFirst().allSatisfy(\.isNumber)) {
            throw RegistryError(.invalidName, "'\(alias)' is reserved and cannot be an alias",
                                remedy: "`latest` names the newest version and v<number> a version; choose another name")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (65...90).contains(byte) || (97...122).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || (48...57).contains(byte)
    }
}

extension ModelNames {
    /// Throws `invalidName` unless `digest` is `sha256:` and 64 lower-case hex digits.
    public static func checkDigest(_ digest: String) throws(RegistryError) {
        let hex = digest.utf8.dropFirst(7)
        guard digest.hasPrefix("sha256:"), hex.count == 64,
              hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw RegistryError(.invalidName, "'\(digest)' is not a package digest",
                                remedy: "give sha256: and 64 lower-case hex digits (the sha256 of mlpipe-model.json)")
        }
    }
}
