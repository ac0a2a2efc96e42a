import ArgumentParser
import Canonical
import Deployment
import Foundation
import ModelRegistry
import PipelineSpec

extension ModelsCommand {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history", abstract: "Every move of an alias, or which version held it at a moment (--at).")

        @Argument(help: "NAME@ALIAS.") var reference: String
        @Option(name: .long, help: ArgumentHelp(
            "Which version held the alias then: 2026-11-30T12:00:00Z (ISO 8601), or local time as history prints it "
            + "(\"2026-11-30 13:00:00\", \"2026-11-30\").", valueName: "time"))
        var at: String?
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func validate() throws {
            if let at, TimeArgument.parse(at) == nil {
                throw ValidationError("--at '\(at)' is not a time; write 2026-11-30T12:00:00Z, or local time as "
                                      + "`models history` prints it: \"2026-11-30 13:00:00\" or 2026-11-30")
            }
        }

        func run() async throws {
            let time = at.flatMap(TimeArgument.parse)
            let (name, alias, moves) = try await registry.call { registry throws(RegistryError) in
                let parsed = try ModelReference(parsing: reference)
                guard case .alias(let alias) = parsed.selector else {
                    throw RegistryError(.invalidName, "'\(reference)' names no alias",
                                        remedy: "write NAME@ALIAS, for example iris@staging")
                }
                let moves = try await registry.aliasHistory(name: parsed.name, alias: alias)
                if moves.isEmpty {
                    // Says whether the model or the alias is unknown, with what exists.
                    _ = try await registry.resolve(parsed)
                }
                return (parsed.name, alias, moves)
            }
            let holder = time.map { time in moves.last { $0.movedAt <= time } }
            let console = Console.shared
            if json {
                var object: [String: Value] = ["name": .string(name), "alias": .string(alias),
                                               "moves": .array(moves.map(ModelsJSON.move))]
                if let time {
                    object["at"] = JSONOutput.date(time)
                    object["holder"] = holder.flatMap { $0.map(ModelsJSON.move) } ?? .null
                }
                console.out(Value.object(object).canonicalJSON())
                return
            }
            if let time, let holder {
                guard let move = holder else {
                    console.out("\(name)@\(alias) did not exist at \(LocalTime.timestamp(time)); "
                                + "it was first set at \(moves.first.map { LocalTime.timestamp($0.movedAt) } ?? "-")")
                    return
                }
                console.out("\(name)@\(alias) at \(LocalTime.timestamp(time)): version \(move.version) "
                            + "(since \(LocalTime.timestamp(move.movedAt)), \(Self.origin(move)))")
                return
            }
            console.out("\(name)@\(alias): \(moves.count) move\(moves.count == 1 ? "" : "s"), now version \(moves.last?.version ?? 0)")
            for move in moves {
                console.out("  \(LocalTime.timestamp(move.movedAt))  -> \(col(String(move.version), 4)) \(Self.origin(move))")
            }
        }

        /// "run #4, commit 1a2b3c4, by ci" or "by hand, commit 1a2b3c4, by alice".
        static func origin(_ move: AliasMove) -> String {
            var parts = [move.provenance.runID.map { "run #\($0)" } ?? "by hand"]
            if let commit = move.provenance.commit, !commit.isEmpty { parts.append("commit \(commit.prefix(7))") }
            parts.append("by \(move.provenance.user)")
            return parts.joined(separator: ", ")
        }
    }

    struct Lineage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lineage",
            abstract: "Where a version came from: commit → pipeline → inputs → scan → package → image → version → deployments.")

        @Argument(help: "NAME@VERSION (or NAME@ALIAS, or NAME for the newest).") var reference: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let lineage = try await registry.call { registry throws(RegistryError) in
                let version = try await registry.resolve(ModelReference(parsing: reference))
                return try await registry.lineage(name: version.name, version: version.version)
            }
            let console = Console.shared
            let links = lineage.links
            let deployments = try await DeploymentsCommand.call(registry.workspace) { deployer in
                try deployer.store.deployments(model: lineage.version.name, version: lineage.version.version)
            }
            if json {
                console.out(Value.object([
                    "name": .string(lineage.version.name), "version": .int(lineage.version.version),
                    "links": .array(links.map { .object(["label": .string($0.label), "value": JSONOutput.string($0.value)]) }),
                    "deployments": .array(deployments.map { .object(DeploymentsCommand.json($0)) }),
                ]).canonicalJSON())
                return
            }
            let width = max(10, (links.map(\.label.count).max() ?? 0) + 1)
            for (index, link) in links.enumerated() {
                let arrow = index == 0 ? "  " : "→ "
                console.out(arrow + col(link.label, width) + (link.value ?? "not known"))
            }
            // The version's deployments, each with its smoke test: from the commit to the service.
            for deployment in deployments {
                let smoke = deployment.smoke.map { "smoke test \($0.passed ? "passed" : "failed"): \($0.summary)" }
                    ?? "no smoke test"
                let run = deployment.runID.map { ", run #\($0)" } ?? ""
                console.out("→ " + col("deployment", width) + "#\(deployment.id) \(deployment.target) "
                            + "\(deployment.endpoint) \(deployment.state)\(run); \(smoke)")
            }
        }
    }
}

/// `--at`: ISO 8601 with a zone, or local time as `models history` prints it.
enum TimeArgument {
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(trimmed) { return date }
        }
        // Local time: YYYY-MM-DD, then optionally ' ' or 'T' and HH:MM, then optionally :SS.
        let numbers = trimmed.split(whereSeparator: { "- T:".contains($0) }).map { Int32($0) }
        let separators = trimmed.filter { !$0.isNumber }
        guard [3, 5, 6].contains(numbers.count), numbers.allSatisfy({ $0 != nil }),
              ["--", "-- :", "--T:", "-- ::", "--T::"].contains(separators) else { return nil }
        let n = numbers.map { $0! }
        var parts = tm()
        parts.tm_year = n[0] - 1900
        parts.tm_mon = n[1] - 1
        parts.tm_mday = n[2]
        parts.tm_hour = n.count > 3 ? n[3] : 0
        parts.tm_min = n.count > 4 ? n[4] : 0
        parts.tm_sec = n.count > 5 ? n[5] : 0
        parts.tm_isdst = -1
        guard (1...12).contains(n[1]), (1...31).contains(n[2]), parts.tm_hour < 24, parts.tm_min < 60, parts.tm_sec < 61 else {
            return nil
        }
        let seconds = mktime(&parts)
        if seconds != -1 { return Date(timeIntervalSince1970: Double(seconds)) }
        return nil
    }
}
