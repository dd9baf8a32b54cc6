import ArgumentParser
import FstnKit

/// `--public`, `--invoker-clearance` and `--declassify`: who may invoke a gate and what its
/// results release, as `fstn deploy`, `fstn gate create` and `fstn gate update` take them.
/// A gate is closed unless one of them opens it.
struct GateAccessOptions: ParsableArguments {
    @Flag(name: .customLong("public"), help: "Anyone may invoke the gate (invoker clearance T); instead of --invoker-clearance.")
    var anyoneMayInvoke = false

    @Option(
        help: ArgumentHelp(
            "What an invoker's privilege must imply (default: the gate's privilege, so only its holders may invoke it).",
            valueName: "component"))
    var invokerClearance: String?

    @Option(
        help: ArgumentHelp(
            "Release results with this privilege: whatever it may read that the function read can be shown to whoever "
                + "invokes the gate (default: nothing is declassified).",
            valueName: "privilege"))
    var declassify: String?

    /// Sets these fields of `gate`.
    func apply(to gate: inout GateOptions) {
        gate.anyoneMayInvoke = anyoneMayInvoke
        gate.invokerClearance = invokerClearance
        gate.declassify = declassify
    }
}
