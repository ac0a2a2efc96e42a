import Foundation
import Testing

/// Debian's chromium, headless (the Makefile installs it).
let chromiumBinary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("mlpipe serve in a browser")
struct ServeBrowserTests {
    /// `workspace/screenshots/` of this source tree, which the README shows.
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("workspace/screenshots").path

    @Test("chromium loads the runs list, a failed run, its log, the compare view and a metric chart; each is saved as a screenshot")
    func pagesInChromium() throws {
        let chromium = try #require(chromiumBinary, "chromium is not installed: apt-get install -y chromium")
        let repo = try servedHistory()
        try repo.write("scripts/train.sh", "echo \"fixed model $(cat $1) x$2 and more\"\n")
        try repo.commit("fix train")
        #expect(try repo.mlpipe("run").status == 0)
        let server = try ServeProcess(repo)
        defer { _ = try? server.stop() }
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)

        let pages: [(name: String, path: String, shows: [String])] = [
            ("runs", "/", ["<td><a href=\"/runs/2\">#2</a></td>", "s-failed"]),
            ("run-failed", "/runs/2", ["class=\"dag\"", "data-stage=\"train\"", "exit code</dt><dd>3"]),
            ("log", "/runs/2/stages/train/log", ["training broke"]),
            ("compare", "/compare?a=1&b=3", ["evaluate.score", "class=\"differs\""]),
            ("metrics", "/metrics/demo", ["class=\"chart\"", "evaluate.score"]),
        ]
        for page in pages {
            // The DOM as the browser built it: the page loaded and rendered.
            let dom = try runProcess(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", server.url + page.path],
                                     in: repo.root, timeout: 120)
            #expect(dom.status == 0, "\(page.name): \(dom)")
            for text in page.shows { #expect(dom.stdout.contains(text), "\(page.name) lacks \(text)") }
            let file = Self.screenshots + "/\(page.name).png"
            try? FileManager.default.removeItem(atPath: file)
            let shot = try runProcess(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                 "--window-size=1200,800", "--screenshot=\(file)", server.url + page.path],
                                      in: repo.root, timeout: 120)
            #expect(shot.status == 0, "\(page.name): \(shot)")
            let png = FileManager.default.contents(atPath: file) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 5_000, "\(page.name): \(png.count) bytes at \(file)")
        }
    }
}
