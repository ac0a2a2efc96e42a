import Foundation

/// A model as `models list` shows it: its newest version and its aliases.
public struct ModelSummary: Sendable, Hashable {
    /// The model's name.
    public var name: String
    /// The newest version's number; nil for a model with no version yet.
    public var latestVersion: Int?
    /// How many versions it has.
    public var versionCount: Int
    /// Each alias and the version it points at.
    public var aliases: [String: Int]
    /// When its newest version was registered (or the model was created, without one).
    public var updatedAt: Date

    /// Creates a summary.
    public init(name: String, latestVersion: Int?, versionCount: Int, aliases: [String: Int], updatedAt: Date) {
        self.name = name
        self.latestVersion = latestVersion
        self.versionCount = versionCount
        self.aliases = aliases
        self.updatedAt = updatedAt
    }
}
