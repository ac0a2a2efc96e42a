import ArgumentParser
import Canonical
import Foundation
import GitState
import ModelRegistry
import PipelineEngine
import PipelineSpec
import PostgresRunStore

/// `mlpipe models list|show|alias|history|lineage`: the model registry.
///
/// Works on the workspace's local registry (on the PostgreSQL server of `MLPIPE_STORE` or
/// `--store` when they name one), or with `--tracking-uri` on an MLflow tracking
/// server (token from `MLFLOW_TRACKING_TOKEN`), whose alias history mlpipe keeps in the
/// workspace. A `RegistryError` is printed once, with a did-you-mean for an unknown name,
/// and ends the command with 2 (usage: an unknown or invalid name) or 3 (environment).
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List registered models, show versions, move aliases, and trace their history and lineage.",
        subcommands: [List.self, Show.self, Alias.self, History.self, Lineage.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered models.")

        @Flag(name: .long, help: "Print a JSON array.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let models = try await registry.call { registry throws(RegistryError) in try await registry.models() }
            let console = Console.shared
            if json {
                console.out(Value.array(models.map(ModelsJSON.summary)).canonicalJSON())
                return
            }
            if models.isEmpty { console.out("no models registered yet"); return }
            console.out("MODEL                LATEST  VERSIONS  UPDATED              ALIASES")
            for model in models {
                let aliases = model.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                console.out([col(model.name, 20), col(model.latestVersion.map(String.init) ?? "-", 7),
                             col(String(model.versionCount), 9), col(LocalTime.timestamp(model.updatedAt), 20),
                             aliases.isEmpty ? "-" : aliases].joined(separator: " "))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one version: package, image, run, commit, metrics, aliases.")

        @Argument(help: "NAME (the newest version), NAME@VERSION or NAME@ALIAS.") var reference: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let version = try await registry.call { registry throws(RegistryError) in
                try await registry.resolve(ModelReference(parsing: reference))
            }
            let console = Console.shared
            if json {
                console.out(Value.object(ModelsJSON.version(version)).canonicalJSON())
                return
            }
            let aliases = version.aliases.isEmpty ? "" : "  aliases: " + version.aliases.joined(separator: ", ")
            console.out("\(version.name)@\(version.version)\(aliases)")
            console.out("  uri       \(version.uri)")
            console.out("  package   \(version.packageDigest.isEmpty ? "not known" : version.packageDigest)")
            console.out("  image     \(version.image ?? version.imageDigest ?? "none")")
            let run = version.provenance.runID.map { "#\($0)" } ?? "none"
            let pipeline = version.pipeline.map { "  pipeline \($0)" + (version.stage.map { ", stage \($0)" } ?? "") } ?? ""
            console.out("  run       \(run)\(pipeline)")
            console.out("  commit    \(version.provenance.commit ?? "not known")")
            let metrics = version.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(ModelsJSON.number($0.value))" }
            console.out("  metrics   \(metrics.isEmpty ? "none" : metrics.joined(separator: "  "))")
            console.out("  created   \(LocalTime.timestamp(version.createdAt)) by \(version.provenance.user.isEmpty ? "unknown" : version.provenance.user)")
        }
    }

    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alias", abstract: "Point an alias of a model at a version (the move is kept in its history).")

        @Argument(help: "The model.") var name: String
        @Argument(help: "The version number.") var version: Int
        @Argument(help: "The alias, e.g. staging.") var alias: String
        @OptionGroup var registry: RegistryOptions

        func validate() throws {
            guard version >= 1 else { throw ValidationError("the version must be a number from 1, got \(version)") }
        }

        func run() async throws {
            let provenance = Provenance(runID: nil, commit: Self.headCommit(), user: RegistryOptions.user)
            let (previous, move) = try await registry.call { registry throws(RegistryError) in
                let previous = try await registry.aliasHistory(name: name, alias: alias).last
                return (previous, try await registry.setAlias(alias, name: name, version: version, by: provenance))
            }
            let was = previous.map { $0.version == move.version ? " (unchanged)" : " (was \($0.version))" } ?? " (new)"
            Console.shared.out("\(name)@\(alias) -> version \(move.version)\(was)")
        }

        /// The repository's HEAD commit, recorded with a move made by hand; none outside a
        /// repository or before its first commit.
        static func headCommit() -> String? {
            do {
                return try GitRepository.discover(from: FileManager.default.currentDirectoryPath).head().commit
            } catch {
                return nil
            }
        }
    }
}

/// Where the registry is, for every `models` subcommand.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "An MLflow tracking server instead of the workspace's registry (token from $MLFLOW_TRACKING_TOKEN).",
        valueName: "url"))
    var trackingURI: String?

    @OptionGroup var workspace: WorkspaceOptions
    /// `--store URL`: the workspace's registry is where the run store is (on PostgreSQL when
    /// the URL names a server), as with `MLPIPE_STORE`.
    @OptionGroup var store: StoreOptions

    /// The user a move made by hand records: $USER, else $LOGNAME.
    static var user: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
    }

    /// Opens the registry and runs `body` on it. A `RegistryError` is printed (with a
    /// did-you-mean for an unknown name) and becomes exit status 2 or 3.
    func call<T>(_ body: (any ModelRegistry) async throws(RegistryError) -> T) async throws -> T {
        let located = try Workspace.located(RunOptions(workspace: workspace.resolved))
        do {
            let registry: any ModelRegistry
            if let trackingURI {
                registry = try MLflowModelRegistry(
                    trackingURI: trackingURI, token: ProcessInfo.processInfo.environment["MLFLOW_TRACKING_TOKEN"],
                    tokenSource: "$MLFLOW_TRACKING_TOKEN", historyPath: located.databasePath)
            } else {
                registry = try StoreModelRegistry.open(databasePath: located.databasePath)
            }
            return try await body(registry)
        } catch {
            Console.shared.error("mlpipe: error: " + Self.render(error))
            throw ExitCode(error.isUsage ? 2 : 3)
        }
    }

    /// The error's message, then a did-you-mean when a known name is close to the unknown
    /// one, else its remedy.
    static func render(_ error: RegistryError) -> String {
        // Version numbers are listed by the remedy: a "did you mean '1'" for 7 helps nobody.
        if error.code != .unknownVersion, let subject = error.subject,
           let guess = Suggestions.closest(to: subject, in: error.known) {
            return "\(error.message); did you mean '\(guess)'?"
        }
        return error.description
    }
}
