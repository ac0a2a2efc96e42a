import Foundation
import ModelRegistry
import PipelineSpec

/// A registered model as its page shows it: every version, and each alias with every
/// move it made, newest first.
struct ModelHistory: Sendable {
    var name: String
    var versions: [ModelVersion]
    var aliases: [(alias: String, moves: [AliasMove])]

    static func load(_ state: ServerState, name: String) async throws -> ModelHistory {
        do {
            let versions = try await state.registry.versions(name: name)
            let names = Set(versions.flatMap(\.aliases))
            var aliases: [(String, [AliasMove])] = []
            for alias in names.sorted() {
                aliases.append((alias, try await state.registry.aliasHistory(name: name, alias: alias)))
            }
            return ModelHistory(name: name, versions: versions, aliases: aliases)
        } catch {
            throw HTTPAnswer(error)
        }
    }

    /// `{"name": …, "versions": [models show --json…], "aliases": {"prod": [moves…]}}`.
    var json: Value {
        .object([
            "name": .string(name),
            "versions": .array(versions.map { .object(RegistryJSON.version($0)) }),
            "aliases": .object(Dictionary(uniqueKeysWithValues: aliases.map { ($0.alias, Value.array($0.moves.map(RegistryJSON.move))) })),
        ])
    }
}
