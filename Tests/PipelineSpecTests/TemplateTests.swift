import PipelineSpec
import Testing

@Suite("expressions and templates")
struct TemplateTests {
    static let at = SourceLocation(file: "p.yaml", line: 3, column: 10)

    static let context = EvaluationContext(root: [
        "params": .object(["min_accuracy": .double(0.9), "epochs": .int(3), "name": .string("Iris"),
                           "learning-rate": .double(0.01), "layers": .array([.int(64), .int(32)]),
                           "flag": .bool(false), "empty": .string("")]),
        "git": .object(["sha": .string("abc123def"), "short_sha": .string("abc123d"), "branch": .string("main")]),
        "run": .object(["id": .int(42)]),
        "stages": .object(["train": .object([
            "outputs": .object(["model": .string("/w/runs/42/train/model.onnx")]),
            "metrics": .object(["accuracy": .double(0.95)]),
        ])]),
    ])

    func render(_ text: String) throws -> String {
        try Template(text, location: Self.at).render(Self.context)
    }

    func evaluate(_ expression: String) throws -> Value {
        try Template("${{ \(expression) }}", location: Self.at).evaluate(Self.context)
    }

    @Test("expressions are replaced by their values and shell variables pass through untouched")
    func rendering() throws {
        #expect(try render("train.py --acc ${{ params.min_accuracy }} --epochs ${{params.epochs}} $HOME ${HOME}")
            == "train.py --acc 0.9 --epochs 3 $HOME ${HOME}")
        #expect(try render("${{ stages.train.outputs.model }}@${{ git.short_sha }}#${{ run.id }}")
            == "/w/runs/42/train/model.onnx@abc123d#42")
        #expect(try render("${{ params['learning-rate'] }} ${{ params.layers[1] }} ${{ params.layers }}")
            == "0.01 32 [64,32]")
        #expect(try render("no expressions: $ {{ }} $") == "no expressions: $ {{ }} $")
    }

    @Test("a template lists every context path it uses, once, in order")
    func references() throws {
        let template = try Template("${{ params.a }} ${{ stages.t.outputs.m == params['a'] }} ${{ git.sha }} ${{ params.a }}",
                                    location: Self.at)
        #expect(template.references == [["params", "a"], ["stages", "t", "outputs", "m"], ["git", "sha"]])
        #expect(!template.isLiteral)
        #expect(try Template("plain $X", location: Self.at).isLiteral)
    }

    @Test("comparisons follow GitHub Actions: strings ignore case, mixed types compare as numbers")
    func comparisons() throws {
        #expect(try evaluate("params.name == 'iris'") == .bool(true))
        #expect(try evaluate("params.name != 'IRIS'") == .bool(false))
        #expect(try evaluate("stages.train.metrics.accuracy >= params.min_accuracy") == .bool(true))
        #expect(try evaluate("params.epochs < 3") == .bool(false))
        #expect(try evaluate("params.epochs <= 3") == .bool(true))
        #expect(try evaluate("'3' == params.epochs") == .bool(true))
        #expect(try evaluate("true == 1") == .bool(true))
        #expect(try evaluate("null == 0") == .bool(true))
        #expect(try evaluate("params.empty == 0") == .bool(true))
        #expect(try evaluate("'abc' > 'ABB'") == .bool(true))
        #expect(try evaluate("'x' < 1") == .bool(false))
        #expect(try evaluate("params.layers == params.layers") == .bool(true))
        #expect(try evaluate("params.layers == 1") == .bool(false))
        #expect(try evaluate("-1.5 < 0x10") == .bool(true))
    }

    @Test("&& and || return an operand, ! negates truthiness, parentheses group")
    func logic() throws {
        #expect(try evaluate("params.flag || 'fallback'") == .string("fallback"))
        #expect(try evaluate("params.name && params.epochs") == .int(3))
        #expect(try evaluate("params.empty && params.epochs") == .string(""))
        #expect(try evaluate("!params.flag") == .bool(true))
        #expect(try evaluate("!!params.name") == .bool(true))
        #expect(try evaluate("!(params.epochs == 3) || false") == .bool(false))
        #expect(try evaluate("true || false && false") == .bool(true))
        #expect(try evaluate("(true || false) && false") == .bool(false))
        #expect(try evaluate("'it''s'") == .string("it's"))
    }

    @Test("a string that is one expression keeps the value's type; others become strings")
    func typedEvaluation() throws {
        let with = TemplateValue.object([
            "threshold": .string(try Template("${{ params.min_accuracy }}", location: Self.at)),
            "label": .string(try Template("acc ${{ params.min_accuracy }}", location: Self.at)),
            "layers": .array([.scalar(.int(1)), .string(try Template("${{ params.layers[0] }}", location: Self.at))]),
        ])
        #expect(try with.render(Self.context) == .object([
            "threshold": .double(0.9), "label": .string("acc 0.9"), "layers": .array([.int(1), .int(64)]),
        ]))
        #expect(with.references == [["params", "min_accuracy"], ["params", "layers", "0"]])
    }

    @Test("a value missing at render time is an error naming the path and what exists")
    func missingValue() throws {
        let template = try Template("x ${{ stages.train.metrics.f1 }}", location: Self.at)
        #expect(throws: ExpressionError(
            location: SourceLocation(file: "p.yaml", line: 3, column: 16),
            message: "'stages.train.metrics.f1' has no value: stages.train.metrics has no 'f1' (it has: accuracy)")) {
            try template.render(Self.context)
        }
        #expect(throws: ExpressionError(
            location: SourceLocation(file: "p.yaml", line: 3, column: 14),
            message: "'secrets.X' has no value: the context 'secrets' is not available here")) {
            try Template("${{ secrets.X }}", location: Self.at).render(Self.context)
        }
    }

    @Test("malformed expressions throw at the bad token's column")
    func malformed() {
        #expect(throws: ExpressionError(location: SourceLocation(file: "p.yaml", line: 3, column: 23),
                                        message: "unexpected 'true' in expression; expected an operator or '}}'")) {
            try Template("${{ params.x true }}", location: Self.at)
        }
        #expect(throws: ExpressionError(location: SourceLocation(file: "p.yaml", line: 3, column: 12),
                                        message: "unterminated '${{'; close the expression with '}}'")) {
            try Template("a ${{ params.x", location: Self.at)
        }
    }

    @Test("deeply nested expressions are refused instead of exhausting the stack")
    func deepNesting() {
        let deep = "${{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}"
        #expect(throws: ExpressionError.self) { try Template(deep, location: Self.at) }
        let bangs = "${{ " + String(repeating: "!", count: 10_000) + "true }}"
        #expect(throws: ExpressionError.self) { try Template(bangs, location: Self.at) }
    }
}
