/// Answers `mlpipe --version` before argument-parser starts.
///
/// argument-parser builds its model of the command tree by reflection before it reads
/// the arguments: each property wrapper it meets is a dynamic cast, and each new cast
/// makes the Swift runtime scan all 7,600 protocol-conformance records of the binary.
/// That was half of the instructions of `mlpipe --version` (9.7 of 20.5 million). Only
/// the exact argument list `--version` takes this path, so every other one, including
/// `--version` beside other arguments, is parsed and reported as before. The output is
/// argument-parser's: the version and a newline on stdout, exit status 0.
enum VersionFastPath {
    /// Prints the version and returns true when `arguments` (with the program name
    /// first) are exactly `mlpipe --version`; returns false, printing nothing, otherwise.
    static func handle(_ arguments: [String]) -> Bool {
        guard arguments.count == 2, arguments[1] == "--version" else { return false }
        // Console, not print: print's generic path makes the same conformance look-ups,
        // and Console keeps a failed write for `MLPipe.main` to report (exit 3).
        Console.shared.out(MLPipe.version)
        return true
    }
}
