import Foundation
import Hummingbird
import Metrics
import NIOCore
import JSONValues

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
                self.metrics.makeGauge(name: "faasten_pool_memory_used_mb").set(Int64(pool.usedMB))
                self.metrics.makeGauge(name: "faasten_pool_idle_sandboxes").set(Int64(pool.idle))
                self.metrics.makeGauge(name: "faasten_pool_prestarted_sandboxes").set(Int64(pool.prestarted))
                self.metrics.makeGauge(name: "faasten_pool_waiting_invocations").set(Int64(pool.waiting))
            }
            if let queue = status.queue {
                self.metrics.makeGauge(name: "faasten_queue_queued_invocations").set(Int64(queue.queued))
                self.metrics.makeGauge(name: "faasten_queue_leased_invocations").set(Int64(queue.leased))
                self.metrics.makeGauge(name: "faasten_cluster_live_workers").set(Int64(queue.liveWorkers))
                self.metrics.makeGauge(name: "faasten_cluster_live_slots").set(Int64(queue.liveSlots))
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
}
