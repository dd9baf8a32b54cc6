import Labels
import Testing

@Suite("Label queries")
struct LabelQueryTests {
    @Test(arguments: [
        ("flows\talice,T\talice&bob,T", "true"),
        ("flows\talice&bob,T\talice,T", "false"),
        ("flows\talice&bob,T\talice,T\tbob", "true"),
        ("flows\tbob,T\tbob,go\tgo", "true"),
        ("flows\tbob,T\tbob,go\tT", "false"),
        ("flows\tF,T\tT,F\tF", "true"),
        ("lub\tA&B,T\tC&D,T", "A&B&C&D,T"),
        ("lub\tT,A&B\tT,C&D", "T,A|C&A|D&B|C&B|D"),
        ("glb\tA&B,T\tC&D,T", "A|C&A|D&B|C&B|D,T"),
        ("downgrade\talice&bob,carol\talice", "bob,alice&carol"),
        ("downgrade\talice&bob,carol\tF", "T,F"),
        ("endorse\talice,T\talice/photo", "alice,alice/photo"),
        ("parse\tb|a|a/x&a|b,T", "a|b,T"),
        ("parse\ta/x|b&a|a/x|b|c,T", "a/x|b,T"),
        ("parse\tTom,Fred", "Tom,Fred"),
    ])
    func answers(line: String, expected: String) {
        #expect(LabelQuery.answerLine(for: line[...]) == expected)
    }

    @Test(arguments: [
        ("", "error: empty query: expected an operation (flows, lub, glb, downgrade, endorse, parse)"),
        ("\talice,T", "error: empty query: expected an operation (flows, lub, glb, downgrade, endorse, parse)"),
        ("meet\ta,T\tb,T", "error: unknown operation 'meet': expected flows, lub, glb, downgrade, endorse or parse"),
        ("flows\ta,T", "error: flows takes 2 or 3 TAB-separated arguments, got 1 (usage: flows L1 L2 [P])"),
        ("lub\ta,T\tb,T\tc,T", "error: lub takes 2 TAB-separated arguments, got 3 (usage: lub L1 L2)"),
        ("parse\ta,T\t", "error: parse takes 1 TAB-separated arguments, got 2 (usage: parse L)"),
        ("parse", "error: parse takes 1 TAB-separated arguments, got 0 (usage: parse L)"),
        ("flows\ta,T\tb//c,T", "error: L2 (argument 2): at position 3: empty token: '/' must join two non-empty tokens"),
        ("endorse\ta,T\tx,y", "error: P (argument 2): at position 2: unexpected ',' where the input should end (inside a token, escape it with '\\')"),
        ("flows a,T b,T", "error: unknown operation 'flows a,T b,T': expected flows, lub, glb, downgrade, endorse or parse"),
    ])
    func refusals(line: String, expected: String) {
        #expect(LabelQuery.answerLine(for: line[...]) == expected)
    }
}
