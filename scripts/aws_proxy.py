#!/usr/bin/env python3
"""A proxy in front of moto for benchmarks and fault tests. It forwards every request, appends
the AWS operation it carries (X-Amz-Target for JSON protocols, Action= for query protocols such
as STS) to --log, one a line, and can inject faults:

    --fault UpdateService=503*5      the first five UpdateService calls get a 503
    --fault GetAuthorizationToken=throttle*2
    --fault RegisterTaskDefinition=500*1
    --fault UpdateService=reset*1    the connection is closed without an answer
    --fault DescribeServices=500*5@2 let two calls through, then fail the next five
    --fault DescribeRepositories=slow*1 answer 5 s late (past a short client read timeout)
    --fault RegisterTaskDefinition=refuse*1   a 400 ClientException (not retried, as AWS's)

With --ecs-deployments it also behaves as ECS does where moto does not: deployments with ids on
UpdateService, stale reads right after it, rollouts that end as scripted (ecs_deployments.py;
POST /_stand-in/ecs-script sets a service's script), and it answers ECR's GetDownloadUrlForLayer,
which moto does not implement: POST /_stand-in/ecr-layer {"repositoryName", "digest", "content"
(base64)} stores a blob; GetDownloadUrlForLayer answers a URL to it (as ECR answers a presigned S3
URL) or LayersNotFoundException, refuses PutImage to an immutable tag that names another image
(moto lets it move), and that URL refuses a request that carries an Authorization
header (S3 allows one authentication mechanism: the presigned query string). With --iam it
enforces the permissions policy set for a role session (iam_enforcer.py; POST
/_stand-in/iam-policy).
"""
import base64
import hashlib
import json
import argparse
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ecs_deployments import EcsDeployments
from iam_enforcer import IamEnforcer


def parse_faults(specs):
    faults = {}
    for spec in specs:
        operation, rest = spec.split("=", 1)
        kind, count = rest.split("*", 1)
        count, _, skip = count.partition("@")
        faults[operation] = [kind, int(count), int(skip or 0)]
    return faults


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0, help="0 (the default): any free port")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--ecs-deployments", action="store_true")
    parser.add_argument("--iam", action="store_true")
    parser.add_argument("--log-bodies", help="also append each JSON-protocol request, one a line")
    args = parser.parse_args()
    faults = parse_faults(args.fault)
    ecs = EcsDeployments() if args.ecs_deployments else None
    def described_task_definition(task_definition, region):
        """A task definition as moto has it ({} when moto does not know it)."""
        request = urllib.request.Request(
            args.upstream + "/", method="POST",
            data=json.dumps({"taskDefinition": task_definition}).encode(),
            headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
                     "Content-Type": "application/x-amz-json-1.1",
                     "Authorization": f"AWS4-HMAC-SHA256 Credential=stand-in/20260101/{region}/ecs/aws4_request"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read()).get("taskDefinition", {})
        except (urllib.error.URLError, ValueError):
            return {}

    def moto_call(target, body, region, service):
        """A JSON-protocol call to moto itself: its answer, or {} when it refused."""
        request = urllib.request.Request(
            args.upstream + "/", method="POST", data=json.dumps(body).encode(),
            headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
                     "Authorization": f"AWS4-HMAC-SHA256 Credential=stand-in/20260101/{region}/{service}/aws4_request"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ValueError):
            return {}

    def write_logs(region):
        """What a one-off task's container printed, into its awslogs group as the driver writes
        it: stream `<awslogs-stream-prefix>/<container>/<task id>` (ECS developer guide, "Using
        the awslogs log driver"), in the log configuration's region."""
        def write(task_definition, container_name, task_arn, lines):
            container = next((c for c in task_definition.get("containerDefinitions", [])
                              if c.get("name") == container_name), {})
            configuration = container.get("logConfiguration") or {}
            options = configuration.get("options") or {}
            group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
            if configuration.get("logDriver") != "awslogs" or not group or not prefix:
                return
            where = options.get("awslogs-region") or region
            stream = f"{prefix}/{container_name}/{task_arn.rsplit('/', 1)[-1]}"
            moto_call("Logs_20140328.CreateLogStream",
                      {"logGroupName": group, "logStreamName": stream}, where, "logs")
            now = int(time.time() * 1000)
            moto_call("Logs_20140328.PutLogEvents",
                      {"logGroupName": group, "logStreamName": stream,
                       "logEvents": [{"timestamp": now, "message": line} for line in lines]},
                      where, "logs")
        return write

    def immutable_tag_taken(request, region):
        """PutImage (ECR API reference): "ImageTagAlreadyExistsException — The specified image is
        tagged with a tag that already exists. The repository is configured for tag immutability."
        moto ignores immutability (getmoto/moto#8717). The exception's message, or None."""
        from registry_proxy import tag_is_immutable
        name, tag = request.get("repositoryName", ""), request.get("imageTag")
        if not tag:
            return None
        target = "AmazonEC2ContainerRegistry_V20150921."
        repository = (moto_call(target + "DescribeRepositories", {"repositoryNames": [name]},
                                region, "ecr").get("repositories") or [{}])[0]
        if not tag_is_immutable(repository, tag):
            return None
        found = moto_call(target + "BatchGetImage",
                          {"repositoryName": name, "imageIds": [{"imageTag": tag}]}, region, "ecr")
        images = found.get("images") or []
        if not images:
            return None
        digest = request.get("imageDigest") or "sha256:" + hashlib.sha256(
            request.get("imageManifest", "").encode()).hexdigest()
        if images[0].get("imageId", {}).get("imageDigest") == digest:
            return None  # the same image: moto answers ImageAlreadyExistsException itself
        return (f"The image tag '{tag}' already exists in the '{name}' repository and cannot be "
                "overwritten because the tag is immutable.")

    def roles_of_task_definition(task_definition, region):
        """The task and execution roles of a task definition, as moto has it."""
        found = described_task_definition(task_definition, region)
        return [found.get("taskRoleArn"), found.get("executionRoleArn")] if found else []

    def region_of(headers):
        """The region of a SigV4 request's credential scope (moto routes by it too)."""
        scope = headers.get("Authorization", "").partition("Credential=")[2].split("/")
        return scope[2] if len(scope) > 2 else "us-east-1"

    iam = IamEnforcer(roles_of_task_definition) if args.iam else None
    lock = threading.Lock()
    layers = {}  # (repository, digest) -> bytes

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def take_fault(self, operation):
            with lock:
                fault = faults.get(operation)
                if not fault or fault[1] <= 0:
                    return None
                if fault[2] > 0:
                    fault[2] -= 1
                    return None
                fault[1] -= 1
                return fault[0]

        def error(self, status, code, message, json_protocol):
            if json_protocol:
                body = json.dumps({"__type": code, "message": message}).encode()
                content_type = "application/x-amz-json-1.1"
            else:
                body = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                    "<RequestId>fault</RequestId></ErrorResponse>" % (code, message)
                ).encode()
                content_type = "text/xml"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def answer_json(self, status, value, content_type="application/json"):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path == "/_stand-in/ecs-script":
                if ecs is None:
                    return self.answer_json(400, {"message": "not started with --ecs-deployments"})
                ecs.set_script(json.loads(body or b"{}"))
                return self.answer_json(200, {"ok": True})
            # The policies IAM would hold: a role session's permissions, a role's trust.
            held = {"/_stand-in/iam-policy": ("session", "set_policy"),
                    "/_stand-in/trust-policy": ("role", "set_trust_policy")}.get(self.path)
            if held:
                if iam is None:
                    return self.answer_json(400, {"message": "not started with --iam"})
                request = json.loads(body or b"{}")
                getattr(iam, held[1])(request[held[0]], request["policy"])
                return self.answer_json(200, {"ok": True})
            if self.path == "/_stand-in/registry-check":
                # The registry proxy's question: may this session make this registry request?
                request = json.loads(body or b"{}")
                denied = None if iam is None else iam.check_registry(
                    request.get("session"), request.get("method", ""), request.get("path", ""),
                    request.get("region", "us-east-2"))
                return self.answer_json(200, {"denied": denied})
            if self.path == "/_stand-in/ecr-layer":
                request = json.loads(body or b"{}")
                content = base64.b64decode(request["content"])
                if "sha256:" + hashlib.sha256(content).hexdigest() != request["digest"]:
                    return self.answer_json(400, {"message": "content does not hash to digest"})
                with lock:
                    layers[(request["repositoryName"], request["digest"])] = content
                return self.answer_json(200, {"ok": True})
            if self.path.startswith("/_stand-in/ecr-download/"):
                if self.headers.get("Authorization"):
                    return self.answer_json(400, {"Code": "InvalidArgument",
                                                  "Message": "Only one auth mechanism allowed"})
                repository, _, digest = urllib.parse.unquote(
                    self.path.removeprefix("/_stand-in/ecr-download/")).rpartition("@")
                with lock:
                    content = layers.get((repository, digest))
                if content is None:
                    return self.answer_json(404, {"Code": "NoSuchKey"})
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return None
            target = self.headers.get("X-Amz-Target", "")
            operation = target.split(".")[-1]
            if not operation and body:
                operation = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
            fault = self.take_fault(operation)
            with open(args.log, "a", encoding="utf-8") as log:
                log.write((operation or f"{self.command} {self.path}") + (f" [{fault}]" if fault else "") + "\n")
            if args.log_bodies and target:
                with open(args.log_bodies, "a", encoding="utf-8") as bodies:
                    request = json.loads(body or b"{}")
                    bodies.write(json.dumps({"operation": operation, "request": request}) + "\n")
            if fault == "slow":
                time.sleep(5)
            if fault == "reset":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "throttle":
                code = "ThrottlingException" if target else "Throttling"
                return self.error(400, code, "Rate exceeded", bool(target))
            if fault == "refuse":
                code = "ClientException" if target else "InvalidParameterValue"
                return self.error(400, code, "refused by the fault proxy", bool(target))
            if fault in ("500", "503"):
                code = "InternalFailure" if fault == "500" else "ServiceUnavailable"
                return self.error(int(fault), code, "injected fault", bool(target))
            if iam is not None and operation == "AssumeRoleWithWebIdentity":
                # moto's STS takes any token for any role: the role's trust policy decides here.
                refused = iam.check_assume_role(urllib.parse.parse_qs((body or b"").decode(errors="replace")))
                if refused:
                    with open(args.log, "a", encoding="utf-8") as log:
                        log.write(f"{operation} [denied by the trust policy]\n")
                    return self.error(403, "AccessDenied", refused, False)
            if iam is not None and target:
                denied = iam.check(self.headers, json.loads(body or b"{}"))
                if denied:
                    with open(args.log, "a", encoding="utf-8") as log:
                        log.write(f"{operation} [denied]\n")
                    return self.error(denied[0], denied[1], denied[2], True)
            if ecs is not None and operation == "UpdateService":
                request_body = json.loads(body or b"{}")
                refused = ecs.refusal(request_body, lambda: (moto_call(
                    "AmazonEC2ContainerServiceV20141113.DescribeServices",
                    {"cluster": request_body.get("cluster", "default"),
                     "services": [request_body.get("service", "")]},
                    region_of(self.headers), "ecs").get("services") or [{}])[0])
                if refused:
                    return self.error(400, refused[0], refused[1], True)
            if ecs is not None and operation == "DescribeServices":
                # DescribeServices (API reference, `services`): "You may specify up to 10
                # services to describe in a single operation." moto describes any number.
                named = json.loads(body or b"{}").get("services") or []
                if len(named) > 10:
                    return self.error(400, "InvalidParameterException",
                                      f"services can have at most 10 items ({len(named)} given)",
                                      True)
            if ecs is not None and operation in ("UpdateService", "RunTask", "CreateService"):
                # DeregisterTaskDefinition (API reference): "You can't use an INACTIVE task
                # definition to run new tasks or create new services, and you can't update an
                # existing service to reference an INACTIVE task definition." moto allows all three.
                named = json.loads(body or b"{}").get("taskDefinition")
                if named and described_task_definition(named, region_of(self.headers)).get(
                        "status") == "INACTIVE":
                    return self.error(400, "ClientException", "TaskDefinition is inactive", True)
            if ecs is not None and operation == "PutImage":
                taken = immutable_tag_taken(json.loads(body or b"{}"), region_of(self.headers))
                if taken:
                    return self.error(400, "ImageTagAlreadyExistsException", taken, True)
            if ecs is not None and operation in (
                    "DescribeServiceDeployments", "ListServiceDeployments", "StopServiceDeployment",
                    "ContinueServiceDeployment"):
                # moto has no service deployments (ListServiceDeployments answers 500): the
                # strict stand-in keeps them (ecs_service_deployments.py).
                request_body = json.loads(body or b"{}")
                if operation in ("StopServiceDeployment", "ContinueServiceDeployment"):
                    made, refused = (ecs.stop_service_deployment(request_body)
                                     if operation == "StopServiceDeployment"
                                     else ecs.continue_service_deployment(request_body))
                    if refused:
                        return self.error(400, refused[0], refused[1], True)
                elif operation == "ListServiceDeployments":
                    made = ecs.list_service_deployments(request_body)
                else:
                    made = ecs.describe_service_deployments(request_body)
                return self.answer_json(200, made, "application/x-amz-json-1.1")
            if ecs is not None and operation == "RunTask":
                placed_none = ecs.run_task_failures(json.loads(body or b"{}"))
                if placed_none is not None:
                    return self.answer_json(200, placed_none, "application/x-amz-json-1.1")
            if ecs is not None and operation == "StopTask":
                ecs.on_stop_task(json.loads(body or b"{}"))
            if ecs is not None and operation in ("ListTasks", "DescribeTasks"):
                request_body = json.loads(body or b"{}")
                made = (ecs.stopped_task_arns(request_body) if operation == "ListTasks"
                        else ecs.describe_stopped(request_body))
                if made is not None:
                    return self.answer_json(200, made, "application/x-amz-json-1.1")
            if ecs is not None and operation == "GetDownloadUrlForLayer":
                request_body = json.loads(body or b"{}")
                key = (request_body.get("repositoryName", ""), request_body.get("layerDigest", ""))
                with lock:
                    found = key in layers
                if not found:
                    return self.error(400, "LayersNotFoundException",
                                      "The specified layers could not be found", True)
                port = self.server.server_address[1]
                url = f"http://127.0.0.1:{port}/_stand-in/ecr-download/" + urllib.parse.quote(
                    f"{key[0]}@{key[1]}", safe="")
                return self.answer_json(200, {"downloadUrl": url, "layerDigest": key[1]},
                                        "application/x-amz-json-1.1")
            request = urllib.request.Request(args.upstream + self.path, data=body, method=self.command)
            for key, value in self.headers.items():
                if key.lower() not in ("host", "content-length", "connection"):
                    request.add_header(key, value)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, headers, payload = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, headers, payload = error.code, error.headers, error.read()
            if iam is not None and status == 200 and operation == "AssumeRoleWithWebIdentity":
                iam.on_assume_role(body or b"", payload.decode(errors="replace"))
            session = (iam.session_of(self.headers)
                       if iam is not None and status == 200 and operation == "GetAuthorizationToken"
                       else None)
            if session:
                # The password names the role session, as ECR's token stands for the identity
                # that got it: the registry proxy checks that session's policy on each request.
                answer = json.loads(payload)
                for data in answer.get("authorizationData") or []:
                    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
                    data["authorizationToken"] = base64.b64encode(
                        f"{user}:{password}~{session}".encode()).decode()
                payload = json.dumps(answer).encode()
            if ecs is not None and status == 200 and operation in (
                    "UpdateService", "DescribeServices", "RunTask", "DescribeTasks"):
                answer = json.loads(payload)
                if operation == "UpdateService":
                    answer = ecs.on_update(json.loads(body or b"{}"), answer)
                elif operation == "RunTask":
                    answer = ecs.on_run_task(
                        json.loads(body or b"{}"), answer,
                        lambda named: described_task_definition(named, region_of(self.headers)),
                        write_logs(region_of(self.headers)))
                elif operation == "DescribeTasks":
                    answer = ecs.on_describe_tasks(answer)
                else:
                    answer = ecs.on_describe(answer)
                payload = json.dumps(answer).encode()
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

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    # The port it listens on, once it does: a caller that asked for any port learns which.
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
