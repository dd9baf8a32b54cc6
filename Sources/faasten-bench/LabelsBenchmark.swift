import ArgumentParser
import LabelSamples
import Labels

/// `faasten-bench labels`: the label algebra against plain sorted-array work of the same size.
struct LabelsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "ns/op of canFlow, canFlow with privilege, lub, parse and print; 100k queries through `faasten label batch`.",
        discussion: """
            Typical labels: 1-4 clauses of 1-3 principals of depth <= 3. Large: 50 clauses.
            Baselines, on the same principals as sorted [String] arrays: a subset test (canFlow),
            a sorted merge (lub), splitting the text at separators (parse), joining (print).
            """
    )

    @OptionGroup var options: BenchmarkOptions

    func run() throws {
        var report = BenchmarkReport(title: "faasten-bench labels (ns/op; median and p99 over timed batches)")
        measure(
            "typical", sampler: .typical, pool: 1024, batches: options.iterations(4000), batchSize: 64, into: &report,
            targets: ["canflow.p50": 150, "parse.p50": 2000])
        measure(
            "large", sampler: .large, pool: 64, batches: options.iterations(300), batchSize: 4, into: &report,
            targets: [:])
        measureWorstCase(batches: options.iterations(200), into: &report)
        let count = options.quick ? LabelsBatchWorkload.queryCount / 10 : LabelsBatchWorkload.queryCount
        let batch = try LabelsBatchWorkload.measure(count: count)
        report.add(
            "labels.batch.\(count / 1000)k", unit: "ms", batch.binary, baseline: batch.inProcess,
            target: options.quick ? nil : 3000, note: "same queries answered in-process")
        options.print(report)
    }

    /// The worst lub within the label limits: two integrity components of 64 clauses of
    /// 16 principals, whose disjunction would have 4,096 clauses of 32 principals (and the
    /// next one 262,144): refused as `label too large` after a few clauses. Baseline: the
    /// unbounded CNF product the algebra computed before (one step of the attack). And the
    /// largest lub that is accepted: 8 × 8 clauses, exactly the limit of 64.
    func measureWorstCase(batches: Int, into report: inout BenchmarkReport) {
        func component(_ prefix: String, clauses: Int, principals: Int) -> Component {
            Component((1...clauses).map { c in (1...principals).map { try! Principal("\(prefix)\(c)/\($0)") } })
        }
        let a = Label(secrecy: .true, integrity: component("a", clauses: 64, principals: 16))
        let b = Label(secrecy: .true, integrity: component("b", clauses: 64, principals: 16))
        let aClauses = a.integrity.clauses ?? []
        let bClauses = b.integrity.clauses ?? []
        var refused = 0
        let worst = Stopwatch.compare(
            batches: batches, batchSize: 1, warmup: 3,
            subject: { _ in
                do {
                    blackHole(try a.lub(b))
                } catch {
                    refused += 1
                }
            },
            baseline: { _ in
                blackHole(Component(clauses: aClauses.flatMap { x in bClauses.map { y in Clause(x.principals + y.principals)! } }))
            })
        report.add(
            "labels.lub.worst_case_refused.p50", unit: "us", worst.subject.p50 / 1000, baseline: worst.baseline.p50 / 1000,
            note: "unbounded 4,096-clause product (\(refused > 0 ? "refused: label too large" : "NOT refused"))")
        let p = Label(secrecy: .true, integrity: component("p", clauses: 8, principals: 1))
        let q = Label(secrecy: .true, integrity: component("q", clauses: 8, principals: 1))
        let accepted = Stopwatch.compare(
            batches: batches * 10, batchSize: 16,
            subject: { _ in for _ in 0..<16 { blackHole(try? p.lub(q)) } },
            baseline: { _ in for _ in 0..<16 { blackHole(Component(clauses: (p.integrity.clauses ?? []) + (q.integrity.clauses ?? []))) } })
        report.add(
            "labels.lub.largest_accepted.p50", unit: "us", accepted.subject.p50 / 1000, baseline: accepted.baseline.p50 / 1000,
            note: "8 × 8 clauses → 64 (the limit); baseline: reducing the 16 clauses")
    }

    /// One workload: labels, pairs that do and do not flow, privileges, and their
    /// sorted-string-array twins for the baselines.
    struct Workload {
        let first: [Label]
        let second: [Label]
        let privileges: [Privilege]
        let texts: [String]
        let firstNames: [[String]]
        let secondNames: [[String]]
        let secondWithPrivilegeNames: [[String]]

        init(sampler: LabelSampler, count: Int) {
            var rng = SplitMix64(seed: 0x5EED)
            var first: [Label] = []
            var second: [Label] = []
            var privileges: [Privilege] = []
            for index in 0..<count {
                let a = sampler.label(using: &rng)
                let b = sampler.label(using: &rng)
                first.append(a)
                // Half the pairs flow, half are unrelated random pairs. The flowing partner
                // has a's size class: more secret, and a's integrity weakened clause by clause
                // (lub would multiply integrity clauses: 50 × 50 for large labels).
                second.append(index % 2 == 0 ? Workload.above(a, b, sampler, &rng) : b)
                privileges.append(sampler.privilege(using: &rng))
            }
            self.first = first
            self.second = second
            self.privileges = privileges
            texts = first.map(\.description)
            firstNames = first.map(Workload.names)
            secondNames = second.map(Workload.names)
            secondWithPrivilegeNames = zip(second, privileges).map { label, privilege in
                (Workload.names(label) + Workload.names(privilege.component)).sorted()
            }
        }

        static func above(_ a: Label, _ b: Label, _ sampler: LabelSampler, _ rng: inout SplitMix64) -> Label {
            let weaker = (a.integrity.clauses ?? []).map { clause in
                Clause(clause.principals + [sampler.principal(using: &rng)])!
            }
            return Label(
                secrecy: (try? a.secrecy.and(b.secrecy)) ?? a.secrecy,
                integrity: a.integrity.isFalse ? b.integrity : Component(clauses: weaker))
        }

        static func names(_ label: Label) -> [String] {
            (names(label.secrecy) + names(label.integrity)).sorted()
        }

        static func names(_ component: Component) -> [String] {
            (component.clauses ?? []).flatMap { $0.principals.map(\.description) }
        }
    }

    func measure(
        _ size: String, sampler: LabelSampler, pool: Int, batches: Int, batchSize: Int,
        into report: inout BenchmarkReport, targets: [String: Double]
    ) {
        let w = Workload(sampler: sampler, count: pool)
        let mask = pool - 1  // pool is a power of two
        precondition(pool & mask == 0)
        var sink = 0

        func record(_ metric: String, _ result: (subject: Distribution, baseline: Distribution), note: String) {
            for (quantile, value, base) in [("p50", result.subject.p50, result.baseline.p50), ("p99", result.subject.p99, result.baseline.p99)] {
                report.add(
                    "labels.\(metric).\(size).\(quantile)", unit: "ns", value, baseline: base,
                    target: targets["\(metric).\(quantile)"], note: note)
            }
        }

        record("canflow", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) where w.first[i & mask].canFlow(to: w.second[i & mask]) { sink &+= 1 }
            },
            baseline: { start in
                for i in start..<(start + batchSize) where isSortedSubset(w.firstNames[i & mask], w.secondNames[i & mask]) { sink &+= 1 }
            }), note: "subset test of sorted [String]")

        record("canflow_priv", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize)
                where w.first[i & mask].canFlow(to: w.second[i & mask], with: w.privileges[i & mask]) { sink &+= 1 }
            },
            baseline: { start in
                for i in start..<(start + batchSize)
                where isSortedSubset(w.firstNames[i & mask], w.secondWithPrivilegeNames[i & mask]) { sink &+= 1 }
            }), note: "subset test of sorted [String]")

        record("lub", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(try? w.first[i & mask].lub(w.first[(i + 1) & mask])) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(sortedUnion(w.firstNames[i & mask], w.firstNames[(i + 1) & mask])) }
            }), note: "merge of sorted [String]")

        record("parse", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(try? Label(parsing: w.texts[i & mask])) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(splitAtSeparators(w.texts[i & mask])) }
            }), note: "split text into [String]")

        record("print", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(w.first[i & mask].description) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(w.firstNames[i & mask].joined(separator: "&")) }
            }), note: "join [String]")
        blackHole(sink)
    }
}

/// Baseline: is every element of sorted `a` in sorted `b`?
func isSortedSubset(_ a: [String], _ b: [String]) -> Bool {
    var j = 0
    for element in a {
        while j < b.count && b[j] < element { j += 1 }
        if j == b.count || b[j] != element { return false }
        j += 1
    }
    return true
}

/// Baseline: the sorted union of two sorted arrays.
func sortedUnion(_ a: [String], _ b: [String]) -> [String] {
    var out: [String] = []
    out.reserveCapacity(a.count + b.count)
    var i = 0
    var j = 0
    while i < a.count && j < b.count {
        if a[i] < b[j] {
            out.append(a[i]); i += 1
        } else if b[j] < a[i] {
            out.append(b[j]); j += 1
        } else {
            out.append(a[i]); i += 1; j += 1
        }
    }
    out.append(contentsOf: a[i...])
    out.append(contentsOf: b[j...])
    return out
}

/// Baseline: the label text cut at `,` `&` `|` `/` into strings.
func splitAtSeparators(_ text: String) -> [String] {
    text.utf8.split(whereSeparator: { $0 == 44 || $0 == 38 || $0 == 124 || $0 == 47 })
        .map { String(decoding: $0, as: UTF8.self) }
}
