import FileSystem
import Foundation
import Hummingbird
import JSONValues
import Labels
import Metrics
import NIOCore
import Prometheus
import Store
import Worker

extension Gateway {
    func addOperationRoutes(_ router: Router<GatewayContext>) {
        route(router, .get, "/healthz") { _, _ -> Response in
            let status = await self.dispatcher.status()
            let store: String
            do {
                _ = try await self.fileSystem.store.transaction(.read) { try $0.metadata("root") }
                store = "ok"
            } catch {
                store = "failing: \(error)"
            }
            var fields: [String: JSONValue] = ["store": .string(store)]
            // Records the store refused are kept and retried; say so while it lasts.
            fields["records"] = .string(status.failures["records"].map { "failing: \($0)" } ?? "ok")
            if let pool = status.pool {
                fields["pool"] = .object([
                    "used_mb": .number(Double(pool.usedMB)), "idle": .number(Double(pool.idle)),
                    "prestarted": .number(Double(pool.prestarted)), "waiting": .number(Double(pool.waiting)),
                ])
            }
            if let queue = status.queue {
                fields["queue"] = .object([
                    "queued": .number(Double(queue.queued)), "leased": .number(Double(queue.leased)),
                    "live_workers": .number(Double(queue.liveWorkers)), "live_slots": .number(Double(queue.liveSlots)),
                ])
            }
            for (name, reason) in status.failures where name != "records" { fields[name] = .string("failing: \(reason)") }
            let healthy = store == "ok" && status.failures.isEmpty && !self.draining
            fields["status"] = .string(self.draining ? "draining" : (healthy ? "ok" : "failing"))
            return JSONValue.object(fields).response(status: healthy ? .ok : .serviceUnavailable)
        }
        route(router, .get, "/metrics") { _, _ -> Response in
            let status = await self.dispatcher.status()
            if let pool = status.pool {
                self.gauge("pool", "memory_used", "mb", "Memory the worker's sandboxes hold").set(Int64(pool.usedMB))
                self.gauge("pool", "idle", "sandboxes", "Warm sandboxes waiting for reuse").set(Int64(pool.idle))
                self.gauge("pool", "prestarted", "sandboxes", "Clean sandboxes started ahead").set(Int64(pool.prestarted))
                self.gauge("pool", "waiting", "invocations", "Invocations waiting for a sandbox").set(Int64(pool.waiting))
            }
            if let queue = status.queue {
                self.gauge("queue", "queued", "invocations", "Invocations in the cluster queue").set(Int64(queue.queued))
                self.gauge("queue", "leased", "invocations", "Invocations a worker holds").set(Int64(queue.leased))
                self.gauge("cluster", "live", "workers", "Workers with a fresh heartbeat").set(Int64(queue.liveWorkers))
                self.gauge("cluster", "live", "slots", "Invocation slots of live workers").set(Int64(queue.liveSlots))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.emitToBuffer())))
        }
        // The original's endpoints (faasten-reference §6.1).
        route(router, .get, "/faasten/ping") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "Pong.")))
        }
        route(router, .get, "/me") { request, _ -> Response in
            let caller = try await self.caller(request)
            return JSONValue.object(["login": .string(caller.privilege.description)]).response()
        }
    }

    /// The gauge `faasten_<subsystem>_<name>_<unit>`, with its help line.
    private func gauge(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> Prometheus.Gauge {
        metrics.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "faasten", subsystem: subsystem, metricName: name, unitName: unit, helpText: help))
    }
}
