import Orchestration
import Testing

@Suite("TaskNames: DNS labels for stage names")
struct TaskNamesTests {
    @Test("a stage name becomes lowercase letters, digits and single dashes")
    func sanitized() {
        let names = TaskNames(stages: ["Train_Model", "train[lr=0.1,depth=3]", "evaluate"])
        #expect(names["Train_Model"] == "train-model")
        #expect(names["train[lr=0.1,depth=3]"] == "train-lr-0-1-depth-3")
        #expect(names["evaluate"] == "evaluate")
    }

    @Test("names that collide, are reserved, empty or too long get a stable hash suffix")
    func unique() {
        let long = String(repeating: "a", count: 80)
        let names = TaskNames(stages: ["train_a", "train-a", "pipeline", "___", long], reserved: ["pipeline"])
        #expect(names["train_a"] == "train-a")
        #expect(names["train-a"].hasPrefix("train-a-") && names["train-a"].count == "train-a-".count + 8)
        #expect(names["pipeline"].hasPrefix("pipeline-"))
        #expect(names["___"].hasPrefix("s") && names["___"].count == 9)
        #expect(names[long].count == 63)
        #expect(Set(names.byStage.values).count == 5)
        #expect(TaskNames(stages: ["train_a", "train-a"])["train-a"] == names["train-a"])
    }
}
