"""A proxy in front of the stand-in registry (docker-registry), as strict as ECR's registry where
the registry is not: tag immutability.

Debian's docker-registry lets any tag move; ECR does not. A repository's setting comes from the
ECR stand-in (moto's DescribeRepositories: imageTagMutability and its exclusion filters), and a
manifest PUT by tag is refused when the tag is immutable there and already exists — with ECR's
answer, `TAG_INVALID: The image tag 'T' already exists in the 'R' repository and cannot be
overwritten because the tag is immutable.` (as ECR answers a push, e.g. osscontainertools/kaniko#204),
also when the manifest is the very one the tag names (moby/buildkit#3776: an immutable tag is
refused whatever is pushed). Mutability with exclusions as the ECR API reference has it
(ImageTagMutability, ImageTagMutabilityExclusionFilter): IMMUTABLE_WITH_EXCLUSION makes the
matching tags mutable, MUTABLE_WITH_EXCLUSION makes them immutable; WILDCARD filters, `*` any run.

And, as ECR's registry authorizes every request against the identity that got the token, the
role session's permissions policy: a password `PASSWORD~SESSION` (what the strict AWS stand-in's
GetAuthorizationToken hands a role session) is checked against that session's policy by the AWS
stand-in (/_stand-in/registry-check, iam_enforcer.py) and forwarded as PASSWORD; a denied request
gets ECR's 403 DENIED with AWS's words.

Every other request is passed through unchanged (the Host header kept, so the registry's upload
locations point back here), bodies buffered: test images are small.
"""
import argparse
import base64
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")


def wildcard(pattern, text):
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None


def tag_is_immutable(repository, tag):
    """Whether ECR would keep `tag` where it is, from the repository as moto describes it."""
    mutability = repository.get("imageTagMutability", "MUTABLE")
    excluded = any(wildcard(f.get("filter", ""), tag)
                   for f in repository.get("imageTagMutabilityExclusionFilters") or [])
    return {"IMMUTABLE": True, "IMMUTABLE_WITH_EXCLUSION": not excluded,
            "MUTABLE_WITH_EXCLUSION": excluded}.get(mutability, False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the registry")
    parser.add_argument("--ecr", required=True, help="the ECR stand-in's URL (moto)")
    parser.add_argument("--region", default="us-east-2", help="where the repositories are")
    parser.add_argument("--aws", help="the strict AWS stand-in's URL, which holds the sessions' policies")
    args = parser.parse_args()

    def described_repository(name):
        request = urllib.request.Request(
            args.ecr + "/", method="POST", data=json.dumps({"repositoryNames": [name]}).encode(),
            headers={"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                     "Content-Type": "application/x-amz-json-1.1",
                     "Authorization": "AWS4-HMAC-SHA256 Credential=stand-in/20260101/"
                                      f"{args.region}/ecr/aws4_request"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return (json.loads(response.read()).get("repositories") or [{}])[0]
        except (urllib.error.URLError, ValueError):
            return {}  # not an ECR repository: the registry's own (mutable) rules

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def upstream(self, method, path, body, headers):
            connection = http.client.HTTPConnection(args.upstream, timeout=120)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            connection.close()
            return response, payload

        def registry_error(self, status, code, message):
            """An error as a registry answers one (distribution spec: `errors`)."""
            payload = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def refused_tag(self, name, tag):
            return self.registry_error(
                400, "TAG_INVALID",
                f"The image tag '{tag}' already exists in the '{name}' repository and cannot "
                "be overwritten because the tag is immutable.")

        def session_check(self, headers):
            """A role session's password: the request checked against its policy (a message
            when denied) and the Authorization header put back to the registry's password."""
            # Header names in any case: hyper (the action's registry client) sends them lowercase.
            key = next((key for key in headers if key.lower() == "authorization"), None)
            scheme, _, encoded = headers.get(key, "").partition(" ")
            if key is None or scheme.lower() != "basic" or not args.aws:
                return None
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return None
            password, _, session = password.partition("~")
            if not session:
                return None
            headers[key] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            question = json.dumps({"session": session, "method": self.command,
                                   "path": urllib.parse.urlsplit(self.path).path,
                                   "region": args.region}).encode()
            request = urllib.request.Request(args.aws + "/_stand-in/registry-check", data=question,
                                             method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read()).get("denied")

        def forward(self):
            body = self.body() if self.command in ("PUT", "POST", "PATCH") else None
            headers = {key: value for key, value in self.headers.items()
                       if key.lower() not in ("transfer-encoding", "connection", "content-length")}
            denied = self.session_check(headers)
            if denied:
                return self.registry_error(403, "DENIED", denied)
            if body is not None:
                headers["Content-Length"] = str(len(body))
            path = urllib.parse.urlsplit(self.path)
            manifest = MANIFEST_PATH.match(path.path)
            if self.command == "PUT" and manifest and not manifest["reference"].startswith("sha256:"):
                name, tag = manifest["name"], manifest["reference"]
                if tag_is_immutable(described_repository(name), tag):
                    probe = {key: value for key, value in headers.items()
                             if key.lower() in ("authorization", "host")}
                    probe["Accept"] = MANIFEST_TYPES
                    exists, _ = self.upstream("HEAD", path.path, None, probe)
                    if exists.status == 200:
                        return self.refused_tag(name, tag)
            response, payload = self.upstream(self.command, self.path, body, headers)
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() in ("transfer-encoding", "connection"):
                    continue
                if key.lower() == "content-length" and self.command != "HEAD":
                    continue
                self.send_header(key, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward  # noqa: N815

        def log_message(self, format: str, *values) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
