import PipelineSpec
import Testing

/// `matrix:` on a stage: expansion into instances, GitHub Actions' include/exclude, and
/// the located errors of a matrix that cannot be expanded.
@Suite("matrix")
struct MatrixTests {
    static let header = "version: 1\nname: sweep\n"

    static let sweep = header + """
        params:
          epochs: 3
        stages:
          train:
            matrix:
              lr: [0.1, 0.2]
              depth: [3, 5]
            run: python3 train.py --lr ${{ matrix.lr }} --depth ${{ matrix.depth }} --epochs ${{ params.epochs }}
            outputs:
              model: model-${{ matrix.lr }}-${{ matrix.depth }}.pkl
          report:
            run: python3 report.py ${{ stages.train.outputs.model }}
            outputs:
              table: table.csv
          best:
            run: cat ${{ stages['train[lr=0.2,depth=5]'].outputs.model }}

        """

    @Test("a matrix stage becomes one instance per combination, named with its values in the order written")
    func instances() throws {
        let pipeline = try load(Self.sweep)
        let train = pipeline.stages.filter { $0.matrix?.group == "train" }
        #expect(train.map(\.name) == ["train[lr=0.1,depth=3]", "train[lr=0.1,depth=5]",
                                      "train[lr=0.2,depth=3]", "train[lr=0.2,depth=5]"])
        #expect(pipeline.matrixGroups["train"] == train.map(\.name))
        #expect(train.map { $0.outputs.first?.path } == ["model-0.1-3.pkl", "model-0.1-5.pkl", "model-0.2-3.pkl",
                                                          "model-0.2-5.pkl"])
        let context = EvaluationContext(root: ["params": .object(pipeline.params)])
        #expect(try train[1].run?.render(context) == "python3 train.py --lr 0.1 --depth 5 --epochs 3")
        #expect(train[1].references == [["params", "epochs"]])
    }

    @Test("a stage naming the matrix stage depends on every instance; naming one instance, on that one")
    func dependencies() throws {
        let pipeline = try load(Self.sweep)
        #expect(pipeline.stage(named: "report")?.dependencies == pipeline.matrixGroups["train"])
        #expect(pipeline.stage(named: "best")?.dependencies == ["train[lr=0.2,depth=5]"])
        #expect(pipeline.stages(named: "train").count == 4)
    }

    @Test("a with: value that is one matrix expression keeps the value's type")
    func typedWith() throws {
        let pipeline = try load(Self.header + """
            stages:
              check:
                kind: deploy
                matrix: { port: [8080, 8081] }
                with:
                  package: pkg
                  port: ${{ matrix.port }}
                  target: local-${{ matrix.port }}

            """)
        let with = pipeline.stages.map(\.with)
        #expect(with.map { $0["port"]?.literal } == [.int(8080), .int(8081)])
        #expect(with.map { $0["target"]?.literal } == [.string("local-8080"), .string("local-8081")])
    }

    @Test("a list renders in a command as shell words, quoted where the shell would read them")
    func listAsShellWords() throws {
        let list = Value.array([.string("runs/1/train[lr=0.1]/model.pkl"), .string("it's"), .string("plain.pkl")])
        #expect(list.shellWords == "'runs/1/train[lr=0.1]/model.pkl' 'it'\\''s' plain.pkl")
        let pipeline = try load(Self.sweep)
        let run = try #require(pipeline.stage(named: "report")?.run)
        let context = EvaluationContext(root: ["stages": .object(["train": .object(["outputs": .object(["model": list])])])])
        #expect(try run.renderCommand(context, matrixGroups: ["train"])
            == "python3 report.py 'runs/1/train[lr=0.1]/model.pkl' 'it'\\''s' plain.pkl")
        #expect(try run.render(context) == "python3 report.py [\"runs/1/train[lr=0.1]/model.pkl\",\"it's\",\"plain.pkl\"]")
    }

    @Test("exclude removes matching combinations; include extends those it fits and adds the others, as in GitHub Actions")
    func includeExclude() throws {
        let pipeline = try load(Self.header + """
            stages:
              t:
                matrix:
                  fruit: [apple, pear]
                  animal: [cat, dog]
                  exclude:
                    - { fruit: pear, animal: dog }
                  include:
                    - color: green
                    - { color: pink, animal: cat }
                    - { fruit: apple, shape: circle }
                    - fruit: banana
                    - { fruit: banana, animal: cat }
                run: echo ${{ matrix.fruit }} ${{ matrix.color }}

            """)
        #expect(pipeline.stages.map(\.name) == [
            "t[fruit=apple,animal=cat,color=pink,shape=circle]", "t[fruit=apple,animal=dog,color=green,shape=circle]",
            "t[fruit=pear,animal=cat,color=pink]", "t[fruit=banana]", "t[fruit=banana,animal=cat]",
        ])
        #expect(pipeline.stages.map { $0.run?.raw } == ["echo apple pink", "echo apple green", "echo pear pink",
                                                        "echo banana ", "echo banana "])
    }

    @Test("a matrix above the limit is refused at its key, with the sizes")
    func tooLarge() {
        let values = (1...40).map(String.init).joined(separator: ", ")
        #expect(lint(Self.header + "stages:\n  t:\n    matrix: { a: [\(values)], b: [\(values)] }\n    run: 'true'\n")
            == ["pipeline.yaml:5:5: error: the `matrix` of stage 't' makes 1600 instances (40 a × 40 b), more than the "
                + "1000 allowed; use fewer values, `exclude` combinations, or split the sweep into stages"])
    }

    @Test("an empty matrix, a key without values and a value of the wrong type are each refused where written")
    func emptyAndWrongTypes() {
        #expect(lint(Self.header + "stages:\n  t:\n    matrix: {}\n    run: 'true'\n")
            == ["pipeline.yaml:5:13: error: the `matrix` of stage 't' is empty; give at least one key with a list of "
                + "values, e.g. `matrix: { lr: [0.1, 0.2], depth: [3, 5] }`"])
        #expect(lint(Self.header + "stages:\n  t:\n    matrix:\n      lr: []\n      depth: 3\n      seed: [1, {a: 2}]\n"
                     + "    run: 'true'\n")
            == ["pipeline.yaml:6:11: error: matrix key 'lr' of stage 't' has no values; list at least one, or remove the key",
                "pipeline.yaml:7:14: error: expected a list of values for matrix key 'depth' of stage 't', found the "
                + "number 3; write e.g. `depth: [3]`",
                "pipeline.yaml:8:17: error: matrix values must be strings, numbers or booleans; found a mapping in "
                + "matrix key 'seed' of stage 't'"])
    }

    @Test("a matrix key that does not exist is refused at the expression, with a did-you-mean")
    func unknownKey() {
        #expect(lint(Self.header + "stages:\n  t:\n    matrix: { lr: [0.1] }\n    run: echo ${{ matrix.rl }}\n")
            == ["pipeline.yaml:6:19: error: unknown matrix key 'rl' in expression; did you mean 'lr'?"])
        #expect(lint(Self.header + "stages:\n  t:\n    run: echo ${{ matrix.lr }}\n")
            == ["pipeline.yaml:5:19: error: stage 't' has no `matrix:`, so 'matrix.lr' has no value; add e.g. "
                + "`matrix: { lr: [a, b] }` to the stage, or use params"])
    }

    @Test("an exclude naming a key the matrix does not have is refused at that key")
    func excludeUnknownKey() {
        #expect(lint(Self.header + "stages:\n  t:\n    matrix:\n      lr: [0.1, 0.2]\n      exclude:\n"
                     + "        - { rl: 0.1 }\n    run: echo ${{ matrix.lr }}\n")
            == ["pipeline.yaml:8:13: error: unknown matrix key 'rl' in `exclude` of stage 't'; did you mean 'lr'?"])
    }

    @Test("two instances writing the same output path are refused at the output, with the fix")
    func sharedOutputPath() {
        #expect(lint(Self.header + "stages:\n  t:\n    matrix: { lr: [0.1, 0.2] }\n    run: echo ${{ matrix.lr }}\n"
                     + "    outputs:\n      model: model.pkl\n")
            == ["pipeline.yaml:8:7: error: output 'model' of stage 't' has the same path 'model.pkl' in 't[lr=0.1]' and "
                + "'t[lr=0.2]'; put a matrix value in the path, e.g. `model: model-${{ matrix.lr }}.pkl`"])
    }

    @Test("a problem every instance shares is reported once")
    func reportedOnce() {
        #expect(lint(Self.header + "stages:\n  t:\n    matrix: { lr: [0.1, 0.2, 0.3] }\n    kind: nosuch\n"
                     + "    run: echo ${{ params.x }}\n")
            == ["pipeline.yaml:6:11: error: unknown kind 'nosuch' in stage 't'; known kinds are: command, deploy, "
                + "register, serialize, smoke-test, validate",
                "pipeline.yaml:7:19: error: unknown param 'x' in expression; the pipeline declares no params, add 'x' "
                + "under `params:`"])
    }
}
