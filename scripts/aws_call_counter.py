#!/usr/bin/env python3
"""A counting proxy in front of moto, for scripts/bench: forwards every request and appends the
AWS operation it carries (X-Amz-Target for JSON protocols, Action= for query protocols like STS)
to a file, one a line."""
import argparse
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
            if not operation and body:
                operation = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
            with open(args.log, "a", encoding="utf-8") as log:
                log.write((operation or f"{self.command} {self.path}") + "\n")
            request = urllib.request.Request(args.upstream + self.path, data=body, method=self.command)
            for key, value in self.headers.items():
                if key.lower() not in ("host", "content-length", "connection"):
                    request.add_header(key, value)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, headers, payload = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, headers, payload = error.code, error.headers, error.read()
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = forward  # noqa: N815

        def log_message(self, format: str, *values) -> None:  # noqa: A002
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
