import Foundation

/// A Python package of the model's runtime, pinned to one version: `name==version`.
///
/// A package's `requirements` are installed into its image's requirements layer, which
/// is keyed by their digest; a range (`numpy>=2`) or a bare name would install whatever
/// is newest on the day the image is built, and the same package would give another
/// image. So every line must pin exactly one version. Extras are kept
/// (`onnxruntime[cuda]==1.32.0`); environment markers, URLs and wildcards
/// (`numpy==2.*`) are refused.
///
/// The text is kept normalised (no spaces) as `name[extras]==version`; packages compare
/// and sort by their normalised name (PEP 503: lower case, runs of `-`, `_` and `.` as
/// one `-`), so that `scikit_learn` and `scikit-learn` are one package.
public struct Requirement: Sendable, Hashable, CustomStringConvertible {
    /// The name as written.
    public let name: String
    /// The extras, as written, without brackets.
    public let extras: [String]
    /// The pinned version.
    public let version: String

    /// An example line for messages.
    static let example = "numpy==2.4.6"

    init(name: String, extras: [String] = [], version: String) {
        self.name = name
        self.extras = extras
        self.version = version
    }

    /// Parses one line; throws naming the line and how to pin it.
    public init(parsing line: String) throws(PackageError) {
        let text = line.trimmingCharacters(in: .whitespaces)
        func refuse(_ why: String) -> PackageError {
            PackageError(.invalidInput, "'\(line)' \(why); write name==version, for example \(Self.example)")
        }
        if text.isEmpty { throw refuse("is empty") }
        if text.contains(";") { throw refuse("has an environment marker, which a package does not take") }
        if text.contains("@") || text.contains("://") { throw refuse("is a URL or a direct reference, not a pinned version") }
        guard let pin = text.range(of: "==") else {
            let operators = ["~=", ">=", "<=", "!=", ">", "<"]
            if operators.contains(where: { text.contains($0) }) { throw refuse("is a range, not one pinned version") }
            throw refuse("is not pinned")
        }
        var left = text[..<pin.lowerBound].trimmingCharacters(in: .whitespaces)
        var version = text[pin.upperBound...].trimmingCharacters(in: .whitespaces)
        if version.hasPrefix("=") { throw refuse("uses ===, which pins no version pip can compare") }
        if version.contains("*") { throw refuse("is a wildcard, not one pinned version") }
        version = version.trimmingCharacters(in: .whitespaces)
        guard Self.isVersion(version) else { throw refuse("has no valid version after ==") }
        var extras: [String] = []
        if let open = left.firstIndex(of: "[") {
            guard left.hasSuffix("]") else { throw refuse("has an unclosed [extras]") }
            let inside = left[left.index(after: open)..<left.index(before: left.endIndex)]
            extras = inside.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard extras.allSatisfy(Self.isName) else { throw refuse("has an extra that is not a name") }
            left = left[..<open].trimmingCharacters(in: .whitespaces)
        }
        guard Self.isName(left) else { throw refuse("does not start with a package name") }
        self.init(name: left, extras: extras, version: version)
    }

    /// `name[extras]==version`, as the manifest records it and pip reads it.
    public var description: String {
        name + (extras.isEmpty ? "" : "[" + extras.joined(separator: ",") + "]") + "==" + version
    }

    /// The name as PEP 503 compares it: lower case, each run of `-`, `_`, `.` one `-`.
    public var normalizedName: String {
        var out = ""
        var inSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !inSeparator { out.append("-") }
                inSeparator = true
            } else {
                out.append(character)
                inSeparator = false
            }
        }
        return out
    }

    /// Parses every line, refuses a package named twice, and sorts them by normalised
    /// name: what a package's `requirements` are.
    public static func pins(_ lines: [String]) throws(PackageError) -> [Requirement] {
        var seen: [String: Requirement] = [:]
        for line in lines {
            let requirement = try Requirement(parsing: line)
            if let earlier = seen[requirement.normalizedName] {
                throw PackageError(.invalidInput, "'\(requirement)' and '\(earlier)' name the same package; "
                                   + "keep one pin per package")
            }
            seen[requirement.normalizedName] = requirement
        }
        return seen.values.sorted { $0.normalizedName.utf8.lexicographicallyPrecedes($1.normalizedName.utf8) }
    }

    /// PEP 508's name: letters and digits, with `-`, `_`, `.` inside.
    static func isName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
        }
        return alphanumeric(first) && alphanumeric(last)
            && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A PEP 440 version's characters: starts with a digit (or `v`), then letters,
    /// digits, `.`, `+`, `!`, `-`, `_`.
    static func isVersion(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first,
              (48...57).contains(first) || first == UInt8(ascii: "v") else { return false }
        return bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                || [UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "!"), UInt8(ascii: "-"), UInt8(ascii: "_")].contains(byte)
        }
    }
}
