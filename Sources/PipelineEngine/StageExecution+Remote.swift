import ArtifactStore
import Canonical
import Foundation
import PipelineSpec
import RunStore
import S3Store

extension StageExecution {
    /// What the remote cache had for a key after a local miss.
    enum RemoteAnswer {
        /// Its result, downloaded into the local store and saved as a local entry;
        /// `origin` is the sentence the stage's record keeps.
        case hit(StageCache.Hit, origin: String)
        /// Nothing usable: the stage is computed.
        case none
        /// The remote is required and failed: the stage failed.
        case failed((StageOutcome, StageSummary))
    }

    /// Asks the remote for `key`; on a hit downloads the objects the local store lacks
    /// (each checked against its digest) and saves a local cache entry, so the next run
    /// is a local hit.
    func remoteHit(key: StageKey, record: inout StageRecord) async -> RemoteAnswer {
        guard let link = context.remote else { return .none }
        if let warning = link.pendingWarning() { warn(&record, warning) }
        guard link.isUp else { return .none }
        let found: ActionEntry?
        do {
            found = try await link.remote.entry(key: key.text)
        } catch {
            return await remoteFailed(error, link: link, record: &record).map(RemoteAnswer.failed) ?? .none
        }
        guard let entry = found else { return .none }
        let made = "run #\(entry.origin.run) on \(entry.origin.host)"
        var outputs: [OutputRecord] = []
        for output in entry.outputs {
            guard Digest(parsing: output.digest) != nil, ObjectKind(rawValue: output.kind) != nil else {
                warn(&record, "the remote entry of this key (\(made)) names the malformed object '\(output.digest)'; computing it here")
                return .none
            }
            outputs.append(OutputRecord(runID: runID, stage: stage.name, name: output.name, digest: output.digest,
                                        kind: output.kind, size: output.size, path: output.path))
        }
        do {
            try await link.remote.download(outputs.map(Self.storedObject), into: cache.objects, scratch: link.scratch)
        } catch {
            if error.remoteUnusable || link.required {
                return await remoteFailed(error, link: link, record: &record).map(RemoteAnswer.failed) ?? .none
            }
            warn(&record, "the remote result of this key (\(made)) cannot be used: \(error.message); computing it here")
            return .none
        }
        var local = CacheEntry(key: key.text, pipeline: context.pipeline.name, stage: stage.name, runID: runID,
                               outputsJSON: "[]", metricsJSON: entry.metricsJSON, resultsJSON: entry.resultsJSON,
                               createdAt: Date())
        do {
            local.outputsJSON = try CacheEntry.encodeOutputs(outputs)
            try await cache.index.saveCacheEntry(local)
        } catch {
            warn(&record, "the remote result was not saved in the local cache (\(error)); the next run will download it again")
        }
        let hit = StageCache.Hit(entry: local, outputs: outputs,
                                 metrics: entry.metricsJSON.flatMap { Value.fromJSON(Data($0.utf8)) },
                                 results: StageCache.decodeResults(entry.resultsJSON))
        let when = entry.origin.createdAt.formatted(.iso8601)
        return .hit(hit, origin: "cached from remote \(link.remote): \(made), \(when)")
    }

    /// Uploads a computed result's objects, then its entry (first writer wins; a later
    /// writer keeps the winner's entry). Returns the stage's failure only when the
    /// remote is required; otherwise a failure is a warning.
    func pushToRemote(key: StageKey, outputs: [String: OutputRecord], metricsJSON: String?,
                      results: [String: Value], record: inout StageRecord) async -> (StageOutcome, StageSummary)? {
        guard let link = context.remote else { return nil }
        if let warning = link.pendingWarning() { warn(&record, warning) }
        guard link.isUp else { return nil }
        let declared = stage.outputs.compactMap { output in outputs[output.name].map { (output, $0) } }
        let entry = ActionEntry(
            key: key.text, stage: stage.name,
            outputs: declared.map { ActionEntry.Output(name: $0.0.name, path: $0.0.path, digest: $0.1.digest,
                                                        kind: $0.1.kind, size: $0.1.size) },
            metricsJSON: metricsJSON, resultsJSON: StageCache.encodeResults(results),
            origin: ActionEntry.Origin(run: runID, host: ProcessIdentity.hostName(), pipeline: context.pipeline.name,
                                       createdAt: Date()))
        do {
            try await link.remote.upload(declared.map { Self.storedObject($0.1) }, from: cache.objects, scratch: link.scratch)
            // The winner's entry stays on the remote when another writer was first; this
            // run keeps its own result locally.
            _ = try await link.remote.publish(entry)
        } catch {
            return await remoteFailed(error, link: link, record: &record)
        }
        return nil
    }

    /// A failed remote call: the stage's failure when the remote is required; otherwise
    /// the remote is left alone for the rest of the run (down, denied) or the one result
    /// is skipped, with a warning.
    func remoteFailed(_ error: S3Error, link: RemoteLink, record: inout StageRecord) async -> (StageOutcome, StageSummary)? {
        if link.required {
            return await finish(&record, status: .failed,
                                error: "the remote cache \(link.remote) is required (--remote-required) but failed: \(masker.mask(error.message))",
                                category: .environment)
        }
        if error.remoteUnusable {
            if let warning = link.markDown(error) { warn(&record, warning) }
        } else {
            warn(&record, "remote cache \(link.remote): \(error.message)")
        }
        return nil
    }

    static func storedObject(_ output: OutputRecord) -> StoredObject {
        // Callers checked the digest and kind.
        StoredObject(digest: Digest(parsing: output.digest) ?? Digest(hex: String(repeating: "0", count: 64)),
                     kind: ObjectKind(rawValue: output.kind) ?? .file, size: output.size)
    }
}
