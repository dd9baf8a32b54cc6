/// Whether this build checks labels at all.
///
/// Always, except in the benchmark-only build that `./dev bench-ifc` makes with
/// `FAASTEN_BENCH_ALLOW_ALL=1` in its own scratch directory, where every rule of
/// ``SecurityContext``, ``ReleaseCheck`` and ``InvocationRules`` allows everything, so
/// that `faasten-bench ifc` can print what information flow control costs end to end.
/// The `faasten` command refuses to run in such a build.
public enum FlowChecks {
    #if FAASTEN_BENCH_ALLOW_ALL
        public static let enabled = false
    #else
        public static let enabled = true
    #endif
}
