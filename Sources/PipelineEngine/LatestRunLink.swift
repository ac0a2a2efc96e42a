#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `workspace/latest/<pipeline>`: a symbolic link to the run folder of the pipeline's
/// newest successful run (`../runs/<id>`), so that scripts and people find the newest
/// outputs at one fixed path: `workspace/latest/iris/train/model.joblib`.
///
/// The link is swapped atomically (a new link under a temporary name, renamed over the
/// old one), so a reader sees the old run or the new one, never neither. Runs of one
/// pipeline in several processes at once may finish in any order: under a file lock, a
/// run replaces the link only when it is newer (a higher id) than the run the link names,
/// or when that run's folder is gone, so the link ends at the newest success whatever the
/// order. A link whose run was pruned (`mlpipe runs prune`) dangles until the next
/// success; `mlpipe checkout` still copies that run's outputs from the store.
enum LatestRunLink {
    /// The folder that holds the links.
    static func folder(_ workspace: Workspace) -> String { workspace.root + "/latest" }

    /// Points `latest/<pipeline>` at run `runID`, unless it names a newer run already.
    static func update(_ workspace: Workspace, pipeline: String, runID: Int64) throws(EngineError) {
        // A name that is not one path component cannot be a link name; such pipelines get none.
        guard !pipeline.isEmpty, !pipeline.contains("/"), pipeline != ".", pipeline != "..", !pipeline.hasPrefix(".") else { return }
        let folder = folder(workspace)
        let link = folder + "/" + pipeline
        func failure(_ what: String) -> EngineError {
            EngineError(.environment,
                "run #\(runID) succeeded, but \(link) cannot point at it: \(what): \(String(cString: strerror(errno))); "
                + "check that the workspace is writable, and remove \(link) if it is not a link mlpipe made")
        }
        guard mkdir(folder, 0o755) == 0 || errno == EEXIST else { throw failure("cannot create the folder") }
        let lockPath = folder + "/.lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw failure("cannot open \(lockPath)") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock \(lockPath)") }
        }
        defer { flock(lock, LOCK_UN) }

        if let current = linkedRun(link), current > runID,
           access(workspace.runDirectory(current), F_OK) == 0 {
            return
        }
        let temporary = folder + "/.\(pipeline).\(getpid()).tmp"
        unlink(temporary)
        guard symlink("../runs/\(runID)", temporary) == 0 else { throw failure("cannot create a link") }
        guard rename(temporary, link) == 0 else {
            unlink(temporary)
            throw failure("cannot replace the link")
        }
    }

    /// The run that `link` names, when it is a link mlpipe made.
    static func linkedRun(_ link: String) -> Int64? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link),
              target.hasPrefix("../runs/") else { return nil }
        return Int64(target.dropFirst("../runs/".count))
    }
}
