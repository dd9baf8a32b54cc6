import ArgumentParser

/// `faasten-bench`: performance figures, each beside a baseline measured in the same run.
@main
struct FaastenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faasten-bench",
        abstract: "Measure Faasten against same-run baselines; build with -c release.",
        discussion: """
            Each subcommand prints a table (metric, faasten, baseline, ratio, target) or, with
            --json, an array of {name, unit, value, baseline, ratio, target}. Compare ratios
            across machines, not absolute times.
            """,
        subcommands: [LabelsBenchmark.self, FileSystemBenchmark.self, CloudCallBenchmark.self, InvokeBenchmark.self, HTTPBenchmark.self, ClusterBenchmark.self, IFCBenchmark.self]
    )
}

/// Options every benchmark takes.
struct BenchmarkOptions: ParsableArguments {
    @Flag(help: "Print a JSON array instead of a table.") var json = false
    @Flag(help: "Run a tenth of the iterations (a smoke test, not a measurement).") var quick = false

    func print(_ report: BenchmarkReport) {
        Swift.print(json ? report.json() : report.table())
    }

    /// Scales an iteration count down for `--quick`.
    func iterations(_ full: Int) -> Int { quick ? Swift.max(1, full / 10) : full }
}
