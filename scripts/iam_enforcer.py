"""IAM, as AWS enforces it and moto does not, for the proxy in front of moto (aws_proxy.py).

A policy document (the JSON `deploy-action iam-policy --document permissions` prints) is set for a
role session name with POST /_stand-in/iam-policy {"session", "policy"}. The proxy learns which
access key belongs to which session from the AssumeRoleWithWebIdentity answers it forwards; every
later call signed with that key is checked against the session's policy, the way IAM evaluates
identity-based policies: some Allow statement must match the action (wildcards), the resource
(wildcards) and every condition (StringEquals/StringLike/ArnEquals/ArnLike over the keys the call
carries). A call nothing allows gets the error AWS answers with, in AWS's words:
`AccessDeniedException: User: ARN is not authorized to perform: ACTION on resource: RESOURCE
because no identity-based policy allows the ACTION action`. Keys of sessions with no policy (and
unsigned calls such as AssumeRoleWithWebIdentity, which the trust policy governs) pass.

The registry is held to the same policy: the ECR password GetAuthorizationToken hands a session
names that session (aws_proxy.py), and the registry proxy asks `check_registry` about each
request it carries (registry_proxy.py), as ECR's registry authorizes each push and pull request
against the identity that got the token.
"""
import base64
import fnmatch
import json
import re
import threading
import urllib.parse

ECS = "AmazonEC2ContainerServiceV20141113"
ECR = "AmazonEC2ContainerRegistry_V20150921"
LOGS = "Logs_20140328"


class IamEnforcer:
    def __init__(self, roles_of_task_definition=None):
        # RunTask passes the task definition's roles to the task: IAM checks iam:PassRole on
        # each (as it does for RegisterTaskDefinition). The proxy looks them up in moto.
        self.roles_of_task_definition = roles_of_task_definition or (lambda _arn, _region: [])
        self.lock = threading.Lock()
        self.policies = {}  # session name -> policy document
        self.trust_policies = {}  # role ARN -> trust policy document
        self.sessions = {}  # access key id -> (session name, assumed-role ARN)

    def set_policy(self, session, policy):
        with self.lock:
            self.policies[session] = policy

    def set_trust_policy(self, role, policy):
        with self.lock:
            self.trust_policies[role] = policy

    def check_assume_role(self, form):
        """None when the role's trust policy lets the web identity token assume it (or no trust
        policy was set for the role); else AWS's message. Evaluated as IAM does for
        AssumeRoleWithWebIdentity: an Allow statement for the action whose Federated principal is
        the token issuer's OIDC provider in the role's account, with every condition holding over
        the `ISSUER:aud` and `ISSUER:sub` keys (IAM User Guide, "Available keys for OIDC
        federation"). The signature is not checked: the OIDC stand-in is the only issuer."""
        role = form.get("RoleArn", [""])[0]
        with self.lock:
            policy = self.trust_policies.get(role)
        if policy is None:
            return None
        denied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        claims = jwt_claims(form.get("WebIdentityToken", [""])[0])
        if claims is None:
            return denied
        issuer = str(claims.get("iss", "")).removeprefix("https://")
        partition, account = role.split(":")[1], role.split(":")[4]
        provider = f"arn:{partition}:iam::{account}:oidc-provider/{issuer}"
        context = {f"{issuer}:{key}": str(claims[key]) for key in ("aud", "sub") if key in claims}
        for statement in as_list(policy.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            if not any(fnmatch.fnmatchcase("sts:assumerolewithwebidentity", action.lower())
                       for action in as_list(statement.get("Action", []))):
                continue
            if provider not in as_list((statement.get("Principal") or {}).get("Federated", [])):
                continue
            if conditions_hold(statement.get("Condition", {}), context):
                return None
        return denied

    def on_assume_role(self, request_body, answer_xml):
        form = urllib.parse.parse_qs(request_body.decode(errors="replace"))
        session = form.get("RoleSessionName", [""])[0]
        key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", answer_xml)
        arn = re.search(r"<Arn>([^<]+)</Arn>", answer_xml)
        if session and key and arn:
            with self.lock:
                self.sessions[key.group(1)] = (session, arn.group(1))

    def session_of(self, headers):
        """The role session whose key signed the request, if any."""
        credential = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
        with self.lock:
            return self.sessions.get(credential.group(1), (None, None))[0] if credential else None

    def check_registry(self, session, method, path, region):
        """None when the session may make this registry request; else AWS's words."""
        found = registry_action(method, path)
        with self.lock:
            policy = self.policies.get(session)
            arn = next((arn for name, arn in self.sessions.values() if name == session), None)
        if found is None or policy is None or arn is None:
            return None
        action, name = found
        resource = f"arn:aws:ecr:{region}:{arn.split(':')[4]}:repository/{name}"
        if allowed(policy, action, resource, {}):
            return None
        return (f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
                f"because no identity-based policy allows the {action} action")

    def check(self, headers, body_json):
        """None when allowed; else (status, error code, message)."""
        credential = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/", headers.get("Authorization", ""))
        target = headers.get("X-Amz-Target", "")
        if not credential or not target:
            return None
        key, region = credential.group(1), credential.group(2)
        with self.lock:
            session, arn = self.sessions.get(key, (None, None))
            policy = self.policies.get(session)
        if policy is None:
            return None
        account = arn.split(":")[4]
        prefix, _, operation = target.partition(".")
        checks = requests_of(prefix, operation, body_json, region, account)
        if prefix == ECS and operation == "RunTask":
            overrides = body_json.get("overrides") or {}
            roles = [overrides.get("taskRoleArn"), overrides.get("executionRoleArn")]
            roles += self.roles_of_task_definition(body_json.get("taskDefinition", ""), region)
            checks += [("iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
                       for role in dict.fromkeys(r for r in roles if r)]
        for action, resource, context in checks:
            if not allowed(policy, action, resource, context):
                return (400, "AccessDeniedException",
                        f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
                        f"because no identity-based policy allows the {action} action")
        return None


# A registry request (OCI distribution API) and the repository it is on.
REGISTRY_PATH = re.compile(
    r"^/v2/(?P<name>.+?)/(?P<kind>blobs/uploads|blobs|manifests)(?:/(?P<rest>[^/]*))?$")


def registry_action(method, path):
    """The ECR action a registry request is authorized as, and its repository; None for what
    needs only the token (`/v2/`). ECR's registry checks every request against the identity
    that got the token (ECR User Guide, "Private registry authentication" and the push and pull
    permissions it lists): BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
    CompleteLayerUpload and PutImage for a push; BatchGetImage and GetDownloadUrlForLayer for a
    pull (a cache read too)."""
    match = REGISTRY_PATH.match(path)
    if not match:
        return None
    kind = match["kind"]
    if kind == "manifests":
        action = {"PUT": "ecr:PutImage", "DELETE": "ecr:BatchDeleteImage"}.get(method, "ecr:BatchGetImage")
    elif kind == "blobs/uploads":
        action = {"PATCH": "ecr:UploadLayerPart", "PUT": "ecr:CompleteLayerUpload"}.get(
            method, "ecr:InitiateLayerUpload")
    else:
        action = "ecr:BatchCheckLayerAvailability" if method == "HEAD" else "ecr:GetDownloadUrlForLayer"
    return action, match["name"]


def requests_of(prefix, operation, body, region, account):
    """The (action, resource, condition context) pairs IAM authorizes for one call."""
    if prefix == ECR:
        action = f"ecr:{operation}"
        if operation == "GetAuthorizationToken":
            return [(action, "*", {})]
        registry = body.get("registryId") or account
        names = body.get("repositoryNames") or [body.get("repositoryName", "*")]
        return [(action, f"arn:aws:ecr:{region}:{registry}:repository/{name}", {}) for name in names]
    if prefix == ECS:
        action = f"ecs:{operation}"
        cluster = body.get("cluster") or "default"
        cluster_name = cluster.split("/")[-1]
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster_name}"
        context = {"ecs:cluster": cluster_arn}

        def service_arn(service):
            return f"arn:aws:ecs:{region}:{account}:service/{cluster_name}/{service.split('/')[-1]}"
        if operation == "DescribeServices":
            return [(action, service_arn(s), context) for s in body.get("services", [])]
        if operation == "UpdateService":
            return [(action, service_arn(body.get("service", "")), context)]
        if operation == "RegisterTaskDefinition":
            family = body.get("family", "")
            checks = [(action, "*", {})]
            if body.get("tags"):
                checks.append(("ecs:TagResource", f"arn:aws:ecs:{region}:{account}:task-definition/{family}:*",
                               {"ecs:CreateAction": "RegisterTaskDefinition"}))
            for role in (body.get("taskRoleArn"), body.get("executionRoleArn")):
                if role:
                    checks.append(("iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}))
            return checks
        if operation in ("ListServices", "ListTasks", "DescribeTasks"):
            return [(action, "*", context)]
        if operation == "RunTask":
            # The resource is the task definition; the cluster is a condition key.
            task_definition = body.get("taskDefinition", "")
            if not task_definition.startswith("arn:"):
                task_definition = f"arn:aws:ecs:{region}:{account}:task-definition/{task_definition}"
            return [(action, task_definition, context)]
        # Service deployments: the service-deployment resource (…:service-deployment/CLUSTER/
        # SERVICE/ID); ListServiceDeployments is on the service.
        if operation == "DescribeServiceDeployments":
            return [(action, arn, {}) for arn in body.get("serviceDeploymentArns", [])]
        if operation in ("StopServiceDeployment", "ContinueServiceDeployment"):
            return [(action, body.get("serviceDeploymentArn", ""), {})]
        if operation == "ListServiceDeployments":
            return [(action, service_arn(body.get("service", "")), context)]
        if operation == "StopTask":
            task = body.get("task", "").split("/")[-1]
            return [(action, f"arn:aws:ecs:{region}:{account}:task/{cluster_name}/{task}", context)]
        return [(action, "*", {})]
    if prefix == LOGS:
        group, stream = body.get("logGroupName", "*"), body.get("logStreamName", "*")
        return [(f"logs:{operation}", f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}", {})]
    return []


def jwt_claims(token):
    """The claims of a JWT (its payload), or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None


def as_list(value):
    return value if isinstance(value, list) else [value]


def allowed(policy, action, resource, context):
    for statement in as_list(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(statement.get("Action", []))):
            continue
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement.get("Resource", []))):
            continue
        if conditions_hold(statement.get("Condition", {}), context):
            return True
    return False


def conditions_hold(conditions, context):
    for operator, pairs in conditions.items():
        for key, wanted in pairs.items():
            if key not in context:
                return False
            value = context[key]
            if operator in ("StringEquals", "ArnEquals"):
                ok = value in as_list(wanted)
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(value, pattern) for pattern in as_list(wanted))
            else:
                return False
            if not ok:
                return False
    return True
