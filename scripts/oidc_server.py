#!/usr/bin/env python3
"""A stand-in for the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL).

GET /token?...&audience=AUD with `Authorization: Bearer <request token>` answers
{"value": "<JWT>"}: a fresh HS256 JWT with GitHub's claims. A wrong or missing bearer token
gets 401, a missing audience 400, as the real endpoint would. The job's ref comes from a `ref`
parameter of the URL (the tests put it in ACTIONS_ID_TOKEN_REQUEST_URL, which the action treats as
opaque), so `sub`, `ref` and `event_name` follow the run: `repo:R:ref:REF` for a push,
`repo:R:pull_request` for refs/pull/*, `repo:R:environment:NAME` with an `environment` parameter.
Every issued JWT is appended to the file given with --issued,
so tests can look for it in what the action printed.
"""
import argparse
import base64
import hashlib
import hmac
import json
import secrets
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims: dict, key: bytes) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request-token", required=True)
    parser.add_argument("--issued", required=True)
    parser.add_argument("--repository", default="operationcode/back-end")
    args = parser.parse_args()
    key = secrets.token_bytes(32)

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            if url.path != "/token":
                return self.answer(404, {"message": "not found"})
            if self.headers.get("Authorization") != f"Bearer {args.request_token}":
                return self.answer(401, {"message": "Bad credentials"})
            query = parse_qs(url.query)
            audience = query.get("audience", [""])[0]
            if not audience:
                return self.answer(400, {"message": "audience is required"})
            git_ref = query.get("ref", [""])[0]
            if not git_ref:
                return self.answer(400, {"message": "the stand-in needs the job's ref in the URL"})
            now = int(time.time())
            pull_request = git_ref.startswith("refs/pull/")
            # A job of a GitHub environment gets `environment:NAME` as its subject (GitHub's
            # OIDC docs, "Example subject claims"), and the `environment` claim.
            environment = query.get("environment", [""])[0]
            subject = (f"environment:{environment}" if environment
                       else "pull_request" if pull_request else f"ref:{git_ref}")
            claims = {
                "jti": secrets.token_hex(16),
                "sub": f"repo:{args.repository}:{subject}",
                "aud": audience,
                "ref": git_ref,
                "repository": args.repository,
                "repository_owner": args.repository.split("/")[0],
                "repository_owner_id": "1234567",
                "event_name": "pull_request" if pull_request else "push",
                "job_workflow_ref": f"{args.repository}/.github/workflows/deploy.yml@{git_ref}",
                "iss": "https://token.actions.githubusercontent.com",
                "nbf": now - 5,
                "iat": now,
                "exp": now + 300,
            }
            if environment:
                claims["environment"] = environment
            token = mint(claims, key)
            with open(args.issued, "a", encoding="utf-8") as issued:
                issued.write(token + "\n")
            return self.answer(200, {"count": 1, "value": token})

        def log_message(self, format: str, *values) -> None:  # noqa: A002
            print(f"oidc: {format % values}", flush=True)

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
