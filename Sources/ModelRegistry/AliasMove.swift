import Foundation

/// One move of an alias: from then on, `alias` of model `name` pointed at `version`.
///
/// Moves are append-only: an alias's history is its moves in order, and its holder at a
/// time is the last move made at or before it.
public struct AliasMove: Sendable, Hashable {
    /// The model's name.
    public var name: String
    /// The alias (`staging`).
    public var alias: String
    /// The version it points at from this move on.
    public var version: Int
    /// When the move was made.
    public var movedAt: Date
    /// The run, commit and user that made it.
    public var provenance: Provenance

    /// Creates a move.
    public init(name: String, alias: String, version: Int, movedAt: Date, provenance: Provenance) {
        self.name = name
        self.alias = alias
        self.version = version
        self.movedAt = movedAt
        self.provenance = provenance
    }
}
