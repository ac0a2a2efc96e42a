import ArgumentParser
import PipelineEngine
import RunStore

extension RunsCommand {
    /// `mlpipe runs note RUN TEXT [--append]`: free text kept with a run.
    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "note", abstract: "Set a run's note (shown by `runs` and `runs show`); an empty TEXT removes it.")

        @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run: String
        @Argument(help: "The note.") var text: String
        @Flag(name: .long, help: "Add TEXT as a new line below the note the run has, instead of replacing it.") var append = false
        @OptionGroup var workspace: WorkspaceOptions
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
            let record = try await history.setNote(run, text, append: append)
            let id = record.id ?? 0
            Console.shared.out(record.note.map { "run #\(id): note set:\n" + RunLabels.indented($0, by: "  ") }
                               ?? "run #\(id): note removed")
        }
    }
}

/// How runs' names and notes are shown in the text output of `runs` and `runs show`.
enum RunLabels {
    /// Whether any of `runs` has a name or a note: only then does `runs` show the columns.
    static func any(_ runs: [RunRecord]) -> Bool {
        runs.contains { $0.name != nil || $0.note != nil }
    }

    /// The NAME and NOTE columns of a `runs` line: the name padded to 16, the note's
    /// first line cut to 40 characters.
    static func columns(_ run: RunRecord) -> String {
        let first = run.note?.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        let note = first.count > 40 ? String(first.prefix(39)) + "…" : first
        let more = (run.note?.contains("\n") ?? false) && note == first ? " …" : ""
        return col(run.name ?? "-", 16) + " " + (run.note == nil ? "-" : note + more)
    }

    /// The header of those columns.
    static let header = col("NAME", 16) + " NOTE"

    /// `runs show`'s lines for a name and note.
    static func showLines(_ run: RunRecord) -> [String] {
        var lines: [String] = []
        if let name = run.name { lines.append("  name      \(name)") }
        if let note = run.note { lines.append("  note      " + indented(note, by: String(repeating: " ", count: 12)).dropFirst(12)) }
        return lines
    }

    /// Each line of `text`, after `prefix`.
    static func indented(_ text: String, by prefix: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }
}
