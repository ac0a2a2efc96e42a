import Foundation
import Testing

/// Shell completion scripts, as the README tells users to install them.
@Suite("Shell completion")
struct CompletionTests {
    @Test("--generate-completion-script prints a bash script that completes every subcommand")
    func bash() throws {
        let result = try runProcess(mlpipeBinary, ["--generate-completion-script", "bash"], in: "/")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("complete -o filenames -F _mlpipe mlpipe") || result.stdout.contains("-F _mlpipe mlpipe"), "\(result.stdout.prefix(400))")
        for command in ["run", "status", "rerun", "runs", "logs", "checkout", "exp", "graph", "lint", "cache", "init", "scan", "models"] {
            #expect(result.stdout.contains(command), "the bash script does not name \(command)")
        }
        // Subcommands of subcommands and their options are completed too.
        #expect(result.stdout.contains("note"))
        #expect(result.stdout.contains("--follow"))
    }

    @Test("zsh and fish scripts are printed too")
    func zshAndFish() throws {
        let zsh = try runProcess(mlpipeBinary, ["--generate-completion-script", "zsh"], in: "/")
        #expect(zsh.status == 0)
        #expect(zsh.stdout.hasPrefix("#compdef mlpipe"), "\(zsh.stdout.prefix(200))")
        let fish = try runProcess(mlpipeBinary, ["--generate-completion-script", "fish"], in: "/")
        #expect(fish.status == 0)
        #expect(fish.stdout.contains("complete -c 'mlpipe'"), "\(fish.stdout.prefix(200))")
    }
}
