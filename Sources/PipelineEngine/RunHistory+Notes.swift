import RunStore

extension RunHistory {
    /// Sets (or with `append`, extends) the note of run `reference`: `mlpipe runs note`.
    /// Returns the run as it now is, with its name and note.
    public func setNote(_ reference: String, _ text: String, append: Bool) async throws(EngineError) -> RunRecord {
        let run = try await resolve(reference)
        do {
            return try await store.setNote(runID: run.id ?? 0, text, append: append)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
    }
}
