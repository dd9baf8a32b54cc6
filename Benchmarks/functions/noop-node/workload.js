// Does nothing, for faasten-bench invoke --runtime node: what an invocation of a
// JavaScript function costs beyond the function (the twin of ../noop/workload.py).
const EMPTY = Buffer.alloc(0);

export function handle() {
  return EMPTY;
}
