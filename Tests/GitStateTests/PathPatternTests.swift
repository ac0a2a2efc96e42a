import Testing
@testable import GitState

@Suite("Input patterns")
struct PathPatternTests {
    private func matches(_ pattern: String, _ path: String) -> Bool {
        Array(path.utf8).withUnsafeBufferPointer { PathPattern(pattern).matches($0) }
    }

    private func covers(_ pattern: String, _ path: String) -> Bool {
        Array(path.utf8).withUnsafeBufferPointer { PathPattern(pattern).covers($0) }
    }

    @Test("a star stays within one folder, a double star crosses folders")
    func stars() {
        #expect(matches("*.csv", "a.csv"))
        #expect(!matches("*.csv", "data/a.csv"))
        #expect(matches("data/*.csv", "data/a.csv"))
        #expect(matches("**/*.csv", "a.csv"))
        #expect(matches("**/*.csv", "data/deep/a.csv"))
        #expect(matches("data/**/a.csv", "data/a.csv"))
        #expect(matches("data/**/a.csv", "data/x/y/a.csv"))
        #expect(!matches("data/**/a.csv", "other/a.csv"))
        #expect(matches("data/**", "data/x/y"))
    }

    @Test("question marks, classes and escapes match single bytes")
    func classes() {
        #expect(matches("part-?.csv", "part-1.csv"))
        #expect(!matches("part-?.csv", "part-10.csv"))
        #expect(matches("part-[0-4].csv", "part-3.csv"))
        #expect(!matches("part-[!0-4].csv", "part-3.csv"))
        #expect(matches("a\\*b", "a*b"))
        #expect(!matches("a\\*b", "axb"))
    }

    @Test("a pattern covers what lies below the folders it matches")
    func coverage() {
        #expect(covers("data", "data/a/b.csv"))
        #expect(!covers("data", "database.csv"))
        #expect(covers("data/*", "data/train/a.csv"))
        #expect(covers("./data/", "data/a"))
        #expect(covers("", "anything"))
        #expect(!covers("../data", "data"))
        #expect(!covers("/data", "data"))
    }
}
