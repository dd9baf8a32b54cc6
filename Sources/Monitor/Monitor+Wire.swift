import CloudCalls
import FileSystem
import Foundation
import Labels
import Store

// Conversion between wire messages and the file system's types. It decides nothing:
// a function's settings are checked by the file system (``FunctionSettings``), labels
// by their parser; a field left out (proto3's zero) takes the file system's default.
extension Monitor {
    func opened(_ handle: UInt64, _ entry: Entry) -> WireOpened {
        var opened = WireOpened()
        opened.handle = handle
        opened.kind = WireKind(rawValue: entry.kind.rawValue) ?? .directory
        opened.label = entry.label?.description ?? ""
        return opened
    }

    func parseLabel(_ text: String, what: String) throws(CallFailure) -> Label {
        do {
            return try Label(parsing: text)
        } catch {
            throw CallFailure(error, what: what)
        }
    }

    func parseComponent(_ text: String, what: String) throws(CallFailure) -> Component {
        do {
            return try Component(parsing: text)
        } catch {
            throw CallFailure(error, what: what)
        }
    }

    func parseOptionalComponent(_ text: String, what: String) throws(CallFailure) -> Component? {
        text.isEmpty ? nil : try parseComponent(text, what: what)
    }

    func gateSpec(_ spec: WireGateSpec, _ state: inout InvocationState) throws(CallFailure) -> GateSpec {
        let target: GateSpec.Target
        switch spec.target {
        case let .function(function)?:
            target = .function(
                // Zero (a proto3 field left out) takes the file system's default.
                runtime: function.runtime.isEmpty ? nil : function.runtime, image: try dent(function.image, &state),
                memoryMB: function.memoryMb == 0 ? nil : Int(function.memoryMb),
                timeoutMilliseconds: function.timeoutMs == 0 ? nil : Int(function.timeoutMs),
                fresh: function.fresh, concurrency: function.concurrency == 0 ? nil : Int(function.concurrency))
        case let .redirect(handle)?:
            target = .redirect(try dent(handle, &state))
        case nil:
            throw CallFailure(.invalidArgument, "a gate needs a function or a redirect")
        }
        return GateSpec(
            target: target, privilege: Privilege(try parseComponent(spec.privilege, what: "privilege")),
            invokerIntegrityClearance: try parseOptionalComponent(spec.invokerClearance, what: "invoker clearance"),
            declassify: try parseOptionalComponent(spec.declassify, what: "declassify"))
    }

    func gateUpdate(_ change: WireGateUpdate, _ state: inout InvocationState) throws(CallFailure) -> GateUpdate {
        var update = GateUpdate()
        if change.hasPrivilege { update.privilege = Privilege(try parseComponent(change.privilege, what: "privilege")) }
        if change.hasInvokerClearance { update.invokerIntegrityClearance = try parseComponent(change.invokerClearance, what: "invoker clearance") }
        if change.hasDeclassify { update.declassify = try parseComponent(change.declassify, what: "declassify") }
        if change.hasImage { update.image = try dent(change.image, &state) }
        if change.hasRuntime { update.runtime = change.runtime }
        if change.hasMemoryMb { update.memoryMB = Int(change.memoryMb) }
        if change.hasTimeoutMs { update.timeoutMilliseconds = Int(change.timeoutMs) }
        if change.hasRedirect { update.redirect = try dent(change.redirect, &state) }
        if change.hasFresh { update.fresh = change.fresh }
        if change.hasConcurrency { update.concurrency = Int(change.concurrency) }
        return update
    }

    func service(_ spec: WireServiceSpec) throws(CallFailure) -> Service {
        let verb = HTTPVerb.allCases.first { "\($0.rawValue)" == "\(spec.verb)".uppercased() } ?? .get
        return Service(
            privilege: Privilege(try parseComponent(spec.privilege, what: "privilege")),
            invokerIntegrityClearance: try parseOptionalComponent(spec.invokerClearance, what: "invoker clearance") ?? .true,
            taint: spec.taint.isEmpty ? .public : try parseLabel(spec.taint, what: "taint"), url: spec.url, verb: verb,
            headers: spec.headers)
    }

    func wire(_ service: Service) -> WireServiceSpec {
        var spec = WireServiceSpec()
        spec.privilege = service.privilege.description
        spec.invokerClearance = service.invokerIntegrityClearance.description
        spec.taint = service.taint.description
        spec.url = service.url
        spec.verb = WireVerb.allCases.first { "\($0)".uppercased() == service.verb.rawValue } ?? .get
        spec.headers = service.headers
        return spec
    }

    /// A gate as the wire describes it (its image handle is added by the caller).
    func wire(_ gate: Gate) -> WireGateInfo {
        var info = WireGateInfo()
        info.privilege = gate.privilege.description
        info.invokerClearance = gate.invokerIntegrityClearance.description
        info.declassify = gate.declassify.description
        switch gate.target {
        case let .function(function):
            info.runtime = function.runtime
            info.memoryMb = UInt32(clamping: function.memoryMB)
            info.timeoutMs = UInt32(clamping: function.timeoutMilliseconds)
            info.fresh = function.fresh
            info.concurrency = UInt32(clamping: function.concurrency)
        case .redirect:
            info.redirect = true
        }
        return info
    }
}
