import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A shell script that stands in for a tool (kubectl) in a test, written so that it can
/// be started as soon as ``install(_:at:)`` returns.
///
/// A test process runs many tests at once, and another test's fork can copy the
/// descriptor this process writes the script through; until that child execs, the
/// file counts as open for writing and starting it fails with ETXTBSY ("Text file
/// busy"). So the script is started once, with ``warmUpArgument``, until it runs.
public enum FakeTool {
    /// The argument that makes an installed script exit 0 at once, doing nothing.
    public static let warmUpArgument = "--fake-tool-warm-up"

    /// Writes `script` (which starts with its `#!` line) at `path`, executable, and
    /// returns once it can be started; throws when it cannot within 20 s.
    ///
    /// A `#!/bin/sh` script gets the line that ends the warm-up; a script in another
    /// language must exit 0 at once itself when its only argument is ``warmUpArgument``.
    public static func install(_ script: String, at path: String) throws {
        var text = script
        if script.hasPrefix("#!/bin/sh\n") {
            text = "#!/bin/sh\n[ \"$1\" = \(warmUpArgument) ] && exit 0\n" + script.dropFirst("#!/bin/sh\n".count)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let deadline = Date().addingTimeInterval(20)
        var lastError: Int32 = 0
        while Date() < deadline {
            var pid: pid_t = 0
            let argv = [strdup(path), strdup(warmUpArgument), nil]
            defer { argv.forEach { free($0) } }
            let code = posix_spawn(&pid, path, nil, nil, argv, environ)
            if code == 0 {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                if status == 0 { return }
                lastError = 0
            } else {
                lastError = code
            }
            usleep(20_000)
        }
        throw CocoaError(.executableLoad, userInfo: [
            NSFilePathErrorKey: path,
            NSLocalizedDescriptionKey: "the fake tool \(path) could not be started within 20 s"
                + (lastError == 0 ? "" : ": \(String(cString: strerror(lastError)))"),
        ])
    }
}
