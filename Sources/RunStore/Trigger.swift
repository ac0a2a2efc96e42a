/// What started a run, as recorded and shown in `mlpipe runs`.
public enum Trigger: String, Sendable, Codable, CaseIterable {
    /// A person typed `mlpipe run`.
    case cli
    /// `mlpipe run` under CI (the `CI` environment variable was set).
    case ci
    /// `mlpipe rerun RUN`; ``RunRecord/parentRun`` names RUN.
    case rerun
    /// A git push that `mlpipe serve`'s webhooks received (`POST /hooks/github`,
    /// `/hooks/gitlab`); the run happened at the pushed commit, on the pushed branch.
    case webhook
    /// A button on `mlpipe serve`'s pages (re-run, re-run from a stage);
    /// ``RunRecord/parentRun`` names the run it re-ran.
    case web
}
