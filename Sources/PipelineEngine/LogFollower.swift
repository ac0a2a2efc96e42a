#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PipelineSpec
import RunStore

/// What `mlpipe logs --follow` is told as it follows.
public enum LogEvent: Sendable {
    /// A whole line of a stage's log (without its newline); a last line without one
    /// comes when the stage ends.
    case line(stage: String, text: String)
    /// The log that the next lines come from changes to this stage's (following every
    /// stage): `==> stage <==`, as `tail -f` marks each switch between files.
    case header(stage: String)
    /// Something to tell the user beside the log (waiting for a stage, a cached stage).
    case note(String)
}

/// Follows the logs of a run's stages as they are written (`tail -f`), for a run
/// in this process or any other: `mlpipe logs --follow RUN [STAGE]`.
///
/// It polls the run's stage records in the store and each log file, reading only what
/// was added since the last look. A stage that has not started yet is waited for; a
/// stage is done when its record says it ended (its log is whole by then: a stage's log
/// is closed before its end is recorded), or when its run ended without starting it.
/// A run whose process died is marked interrupted by the same check every command
/// makes, so following never outlives it.
public struct LogFollower: Sendable {
    let history: RunHistory
    let store: any RunStore
    let workspace: Workspace

    /// Opens the history of the repository around `options.currentDirectory`.
    public static func open(_ options: RunOptions) async throws(EngineError) -> LogFollower {
        let workspace = try Workspace.located(options)
        let store = try await Backends.open(workspace: workspace).runStore
        return LogFollower(history: RunHistory(store: store), store: store, workspace: workspace)
    }

    /// Follows run `reference`'s stage `stage` (or every stage), calling `emit` for each
    /// line, until the stages followed have ended.
    public func follow(_ reference: String, stage: String?, every interval: Duration = .milliseconds(100),
                       emit: @Sendable (LogEvent) -> Void) async throws(EngineError) {
        let run = try await history.resolve(reference)
        let id = run.id ?? 0
        let first = try await history.stages(ofRun: id)
        let names: [String]
        if let stage {
            guard first.contains(where: { $0.name == stage }) else {
                let all = first.map(\.name)
                throw EngineError(.definition, "run #\(id) has no stage '\(stage)'"
                    + (Suggestions.closest(to: stage, in: all).map { "; did you mean '\($0)'?" } ?? " (stages: \(all.joined(separator: ", ")))"))
            }
            names = [stage]
        } else {
            names = first.map(\.name)
        }
        var readers = Dictionary(uniqueKeysWithValues: names.map { ($0, LogTail()) })
        var done = Set<String>()
        var waitingSaid = false
        var lastShown: String?
        var lastLivenessCheck = ContinuousClock.now
        while true {
            let current = try await runStatus(id)
            let records = Dictionary(try await history.stages(ofRun: id).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
            for name in names where !done.contains(name) {
                guard let record = records[name] else { done.insert(name); continue }
                func show(_ text: String) {
                    if stage == nil && lastShown != name { emit(.header(stage: name)) }
                    lastShown = name
                    emit(.line(stage: name, text: text))
                }
                switch record.status {
                case .pending:
                    if current != .running {
                        done.insert(name)
                    } else if stage != nil && !waitingSaid {
                        emit(.note("waiting for stage '\(name)' of run #\(id) to start"))
                        waitingSaid = true
                    }
                    continue
                case .cached:
                    // Its log is the one of the run that made its result, and is whole.
                    do {
                        if let log = try await history.logs(String(id), stage: name).first,
                           let data = FileManager.default.contents(atPath: log.path) {
                            emit(.note("\(name) was cached in run #\(id); this is the log of run #\(log.madeBy ?? id), which made its result"))
                            for line in LogTail.lines(of: data) { show(line) }
                        }
                    } catch {
                        emit(.note(error.message))
                    }
                    done.insert(name)
                    continue
                default:
                    break
                }
                let ended = record.status != .running
                let path = record.logPath ?? workspace.logPath(run: id, stage: name)
                for line in readers[name]?.read(path, final: ended) ?? [] { show(line) }
                if ended { done.insert(name) }
            }
            if done.count == names.count { return }
            if ContinuousClock.now - lastLivenessCheck > .seconds(1) {
                lastLivenessCheck = .now
                do { _ = try await store.markInterruptedRuns() } catch { throw EngineError(.environment, "\(error)", cause: error) }
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    func runStatus(_ id: Int64) async throws(EngineError) -> RunStatus {
        do {
            guard let run = try await store.run(id: id) else {
                throw EngineError(.definition, "run #\(id) is gone from the history")
            }
            return run.status
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.environment, "\(error)", cause: error as? (any Error & Sendable))
        }
    }
}

/// The part of one log file read so far, and a line not yet ended.
struct LogTail {
    var offset: off_t = 0
    var partial: [UInt8] = []

    /// The whole lines added to the file at `path` since the last call; with `final`,
    /// also a last line without a newline. A file that does not exist yet has none.
    mutating func read(_ path: String, final: Bool) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                partial += buffer[0..<count]
                offset += off_t(count)
            }
        }
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[..<newline], as: UTF8.self))
            partial.removeSubrange(...newline)
        }
        if final && !partial.isEmpty {
            lines.append(String(decoding: partial, as: UTF8.self))
            partial = []
        }
        return lines
    }

    /// The lines of a whole log.
    static func lines(of data: Data) -> [String] {
        var tail = LogTail()
        tail.partial = Array(data)
        return tail.read("", final: true)
    }
}
