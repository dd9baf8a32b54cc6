"""An HTTP server on 127.0.0.1 for service tests. Prints its port, then serves:
  /echo/<rest>  200, JSON {"method", "path", "headers", "body"}
  /slow         answers after 5 s
  /trickle      answers at once, then sends its body a byte every 100 ms for 30 s
  /big          3 MiB of "x"
  /count        how many requests reached it before this one (plain text)
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/count":
            self._send(200, str(COUNT[0]).encode(), "text/plain")
            return
        COUNT[0] += 1
        if self.path == "/slow":
            time.sleep(5)
            self._send(200, b"late", "text/plain")
        elif self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "300")
            self.end_headers()
            try:
                for _ in range(300):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/big":
            self._send(200, b"x" * (3 << 20), "application/octet-stream")
        else:
            echo = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode(errors="replace")}
            self._send(200, json.dumps(echo).encode(), "application/json")

    def _send(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Service", "test")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def handle(self):
        # A client may go away mid-answer: the worker cuts a service call off at its
        # deadline (/slow, /trickle) or once the answer is over its limit (/big). That is
        # what those tests expect, not a failure of this server.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
