"""ECS deployments as ECS has them, for the proxy in front of moto (aws_proxy.py --ecs-deployments).

moto creates no deployment on UpdateService and its reads are always consistent. ECS does both
differently (API reference: UpdateService, DescribeServices, "Deployment"; reads are eventually
consistent), and the action must follow ECS's behaviour:

- UpdateService answers with a new PRIMARY deployment (a fresh `id`, rolloutState IN_PROGRESS);
  the deployments before it become ACTIVE. A forced redeploy of the same revision gets a new id too.
- The first `stale_reads` DescribeServices after it, within STALE_SECONDS, answer with the
  service as it was before (ECS's reads catch up within seconds).
- Then, after `polls` more DescribeServices, the deployment ends as scripted:
    completed  COMPLETED, every task running, the older deployments drained;
    failed     FAILED with the circuit breaker's reason, still PRIMARY (no automatic rollback);
    rollback   FAILED and ACTIVE, and a new PRIMARY deployment on the previous revision
               (a circuit-breaker rollback), which completes one poll later; the service's
               taskDefinition is the previous revision again.
    stuck      IN_PROGRESS for ever, none of it running, one more failed task each poll, and the
               service event ECS writes for it ("… is unable to consistently start tasks
               successfully."): what a deployment whose tasks keep failing does without the
               circuit breaker (API reference, "Deployment": FAILED only with the circuit breaker).

A script is set per service name with POST /_stand-in/ecs-script {"service", "outcome", "polls",
"stale_reads"}; the default is completed after 1 poll with 1 stale read. A script may add
"crashed": {"container": NAME, "exit_code": N, "reason": TEXT, "task_id": ID}: when the deployment fails, a task
of its revision has stopped that way — ListTasks (desiredStatus STOPPED, that serviceName) and
DescribeTasks answer with it (moto never stops a task on its own).

One-off tasks (RunTask, as pre-deploy-command starts them): POST /_stand-in/ecs-script
{"cluster", "task_exit_code", "task_polls", "task_stopped_reason"} makes the next task RunTask starts
in that cluster stop after `task_polls` DescribeTasks with that exit code (null: no code, only the
stopped reason, as when a container never started). moto starts tasks and never stops them.
With "sandbox": {PROGRAM: SH_BODY, …} instead of an exit code, the task's exit code is that of
what the container would really run — its entryPoint (from the task definition) followed by the
override's command (or the definition's own), as a container joins them (ContainerOverride, API
reference: the override replaces CMD only) — run by /bin/sh in an empty directory whose PATH holds
only `sh` and those programs. So `["sh", "-c"]` + `["migrate", "--all"]` runs `migrate` without
its argument, as ECS would. What the sandboxed program prints goes where the container's `awslogs`
log configuration sends it (stream `<prefix>/<container>/<task id>` in its group, as the awslogs
driver names streams: ECS developer guide, "Using the awslogs log driver"), so `logs` reads it.
With "keep": true the script stays for every later RunTask in the cluster (the world of
`scripts/standins up --world`). With "run_task_failures": [{"reason", "detail"}] RunTask starts no
task and answers with those failures; StopTask stops a scripted task with its reason.
"""
import copy
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time

import ecs_service_deployments as native

DEFAULT_SCRIPT = {"outcome": "completed", "polls": 1, "stale_reads": 1}
STALE_SECONDS = 5
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


class EcsDeployments:
    def __init__(self):
        self.lock = threading.Lock()
        self.scripts = {}
        self.last_seen = {}  # service name -> the service as DescribeServices last showed it
        self.state = {}  # service name -> the deployments we keep for it
        self.stopped = {}  # service name -> the stopped tasks of its failed deployments
        self.one_off_scripts = {}  # cluster name -> how its next one-off task ends
        self.one_offs = {}  # task ARN -> {"polls_left", "exit_code", "reason"}
        self.configurations = {}  # service name -> its deploymentConfiguration (moto drops strategy)
        self.service_deployments = {}  # service deployment ARN -> ecs_service_deployments' record

    def set_script(self, script):
        with self.lock:
            if "cluster" in script:
                self.one_off_scripts[script["cluster"]] = script
                return
            self.scripts[script["service"]] = {**DEFAULT_SCRIPT, **script}

    def run_task_failures(self, request):
        """RunTask answers 200 with no task and a `failures` entry when ECS cannot place one
        (API reference, RunTask: "failures — Any failures associated with the call"; reasons such as
        RESOURCE:MEMORY): the answer for a cluster scripted with "run_task_failures", else None."""
        cluster = (request.get("cluster") or "default").rsplit("/", 1)[-1]
        with self.lock:
            script = self.one_off_scripts.get(cluster)
            if script is None or "run_task_failures" not in script:
                return None
            del self.one_off_scripts[cluster]
        return {"tasks": [], "failures": script["run_task_failures"]}

    def on_stop_task(self, request):
        """StopTask on a scripted one-off task: it stops at the next DescribeTasks, with no exit
        code and the reason StopTask gave (API reference, StopTask: the reason "appears in
        subsequent DescribeTasks API operations on this task")."""
        with self.lock:
            state = self.one_offs.get(request.get("task", ""))
            if state is not None:
                state.update(polls_left=0, exit_code=None, stop_code="UserInitiated",
                             reason=request.get("reason") or "Task stopped by user")

    def on_run_task(self, request, answer, describe_task_definition, write_logs=None):
        """Remember the task a scripted cluster's RunTask started. `write_logs(task_definition,
        container, task_arn, lines)` sends a sandboxed container's output to its log group."""
        cluster = (request.get("cluster") or "default").rsplit("/", 1)[-1]
        with self.lock:
            script = self.one_off_scripts.get(cluster)
            if script is not None and not script.get("keep"):
                del self.one_off_scripts[cluster]
        if script is None:
            return answer
        overrides = (request.get("overrides") or {}).get("containerOverrides") or [{}]
        exit_code = script.get("task_exit_code", 0)
        if "sandbox" in script:
            task_definition = describe_task_definition(request.get("taskDefinition", ""))
            exit_code, output = run_as_the_container(task_definition, overrides[0], script["sandbox"])
            if write_logs is not None and output:
                for task in answer.get("tasks", []):
                    write_logs(task_definition, overrides[0].get("name"), task["taskArn"], output)
        with self.lock:
            for task in answer.get("tasks", []):
                self.one_offs[task["taskArn"]] = {
                    "polls_left": script.get("task_polls", 1),
                    "exit_code": exit_code,
                    "reason": script.get("task_stopped_reason", "Essential container in task exited"),
                    "container": overrides[0].get("name"),
                }
        return answer

    def on_describe_tasks(self, answer):
        """DescribeTasks: a one-off task stops as scripted once its polls are used up."""
        with self.lock:
            for task in answer.get("tasks", []):
                state = self.one_offs.get(task.get("taskArn"))
                if state is None:
                    continue
                if state["polls_left"] > 0:
                    state["polls_left"] -= 1
                    task["lastStatus"] = "RUNNING"
                    continue
                task.update(lastStatus="STOPPED", desiredStatus="STOPPED", stoppedAt=time.time(),
                            stopCode=state.get("stop_code", "EssentialContainerExited"),
                            stoppedReason=state["reason"])
                for container in task.get("containers", []):
                    container["lastStatus"] = "STOPPED"
                    if container.get("name") != state["container"]:
                        continue
                    if state["exit_code"] is None:
                        # No code at all (moto would answer 0): the container never exited itself.
                        container.pop("exitCode", None)
                    else:
                        container["exitCode"] = state["exit_code"]
        return answer

    def refusal(self, request, described):
        """ECS refuses a new task definition for a CODE_DEPLOY or EXTERNAL service, and a
        traffic-shifting strategy its load balancers cannot carry (moto does neither): the error
        UpdateService answers with, or None. `described()` is the service as moto has it."""
        name = request.get("service", "").split("/")[-1]
        with self.lock:
            service = self.last_seen.get(name) or {}
            kept = self.configurations.get(name)
        if "deploymentConfiguration" in request or "loadBalancers" in request:
            now = described() or service
            configuration = native.merged_configuration(
                kept or now.get("deploymentConfiguration"), request.get("deploymentConfiguration"))
            balancers = request.get("loadBalancers", now.get("loadBalancers"))
            connect = request.get("serviceConnectConfiguration") or now.get("serviceConnectConfiguration")
            refused = native.traffic_refusal(configuration, balancers,
                                             bool((connect or {}).get("enabled")))
            if refused:
                return refused
        controller = (service.get("deploymentController") or {}).get("type", "ECS")
        if controller != "ECS" and request.get("taskDefinition"):
            return ("InvalidParameterException",
                    f"Unable to update task definition on services with a {controller} deployment controller. "
                    "Use AWS CodeDeploy to trigger a new deployment." if controller == "CODE_DEPLOY" else
                    f"Unable to update task definition on services with a {controller} deployment controller.")
        return None

    def on_update(self, request, answer):
        """Patch UpdateService's answer: a new PRIMARY deployment of the requested revision."""
        service = answer.get("service")
        if not service:
            return answer
        name = service["serviceName"]
        with self.lock:
            # A script is for the next update only: a rollback after it goes as by default.
            script = self.scripts.pop(name, DEFAULT_SCRIPT)
            before = self.last_seen.get(name)
            known = self.state.get(name, {}).get("deployments") or service.get("deployments", [])
            older = [dict(d, status="ACTIVE") for d in known if d.get("status") != "INACTIVE"]
            desired = service.get("desiredCount", 1)
            ours = new_deployment(request.get("taskDefinition") or service["taskDefinition"], desired)
            previous_revision = (before or {}).get("taskDefinition")
            configuration = native.merged_configuration(
                self.configurations.get(name) or service.get("deploymentConfiguration"),
                request.get("deploymentConfiguration"))
            self.configurations[name] = configuration
            service["deploymentConfiguration"] = configuration
            deploys = bool(request.get("taskDefinition") or request.get("forceNewDeployment"))
            service_deployment = None
            if native.is_native(configuration) and deploys:
                service_deployment = native.new_service_deployment(
                    service, configuration, previous_revision or service["taskDefinition"],
                    ours["taskDefinition"], script.get("service_deployment"))
                arn = service_deployment["record"]["serviceDeploymentArn"]
                going = (self.state.get(name) or {}).get("service_deployment")
                if going is not None:
                    native.supersede(going, arn)
                self.service_deployments[arn] = service_deployment
                service["currentServiceDeployment"] = arn
            self.state[name] = {
                "service_deployment": service_deployment,
                "name": name,
                "deployments": [ours] + older,
                "ours": ours["id"],
                "previous_revision": previous_revision,
                "script": script,
                "stale_left": script["stale_reads"] if before else 0,
                "stale_until": time.time() + STALE_SECONDS,
                "polls": 0,
                "before": before,
            }
            service["deployments"] = copy.deepcopy(self.state[name]["deployments"])
            service["taskDefinition"] = ours["taskDefinition"]
        return answer

    def on_describe(self, answer):
        """Patch DescribeServices' answer with the deployments as ECS would show them now."""
        services = answer.get("services", [])
        with self.lock:
            for index, service in enumerate(services):
                name = service.get("serviceName")
                state = self.state.get(name)
                if name in self.configurations:
                    service["deploymentConfiguration"] = self.configurations[name]
                if state is None:
                    self.last_seen[name] = copy.deepcopy(service)
                    continue
                if state["stale_left"] > 0 and time.time() < state["stale_until"]:
                    state["stale_left"] -= 1
                    services[index] = copy.deepcopy(state["before"])
                    continue
                state["polls"] += 1
                self.advance(state, service.get("desiredCount", 1))
                self.record_crash(name, service, state)
                patched = dict(service)
                if state.get("stuck_event"):
                    patched["events"] = [state["stuck_event"]] + list(service.get("events", []))
                if state.get("service_deployment"):
                    patched["currentServiceDeployment"] = (
                        state["service_deployment"]["record"]["serviceDeploymentArn"])
                patched["deployments"] = copy.deepcopy(state["deployments"])
                primary = next(d for d in state["deployments"] if d["status"] == "PRIMARY")
                patched["taskDefinition"] = primary["taskDefinition"]
                patched["runningCount"] = sum(d["runningCount"] for d in state["deployments"])
                patched["pendingCount"] = sum(d["pendingCount"] for d in state["deployments"])
                services[index] = patched
                self.last_seen[name] = copy.deepcopy(patched)
        return answer

    def record_crash(self, name, service, state):
        """A failed deployment whose script says how its task crashed leaves that stopped task."""
        crashed = state["script"].get("crashed")
        ours = next(d for d in state["deployments"] if d["id"] == state["ours"])
        if not crashed or ours["rolloutState"] != "FAILED" or name in self.stopped:
            return
        cluster_arn = service.get("clusterArn", "")
        region_account = ":".join(cluster_arn.split(":")[3:5]) or "us-east-2:123456789012"
        cluster = cluster_arn.rsplit("/", 1)[-1]
        task_id = crashed.get("task_id") or secrets.token_hex(16)
        now = time.time()
        self.stopped[name] = [{
            "taskArn": f"arn:aws:ecs:{region_account}:task/{cluster}/{task_id}",
            "clusterArn": cluster_arn,
            "taskDefinitionArn": ours["taskDefinition"],
            "group": f"service:{name}",
            "startedBy": ours["id"],
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "createdAt": now - 5,
            "stoppedAt": now,
            "containers": [{
                "name": crashed["container"],
                "lastStatus": "STOPPED",
                "exitCode": crashed.get("exit_code", 1),
                "reason": crashed.get("reason", ""),
            }],
        }]

    def stopped_task_arns(self, request):
        """ListTasks for the stopped tasks of a service we crashed, or None (ask moto)."""
        if request.get("desiredStatus") != "STOPPED":
            return None
        with self.lock:
            tasks = self.stopped.get(request.get("serviceName", ""))
        return None if tasks is None else {"taskArns": [t["taskArn"] for t in tasks]}

    def describe_stopped(self, request):
        """DescribeTasks of tasks we made, or None (ask moto)."""
        with self.lock:
            known = {t["taskArn"]: t for tasks in self.stopped.values() for t in tasks}
        found = [known[arn] for arn in request.get("tasks", []) if arn in known]
        return {"tasks": found, "failures": []} if found else None

    def describe_service_deployments(self, request):
        """DescribeServiceDeployments: each deployment one step on (ecs_service_deployments)."""
        found, failures = [], []
        with self.lock:
            for arn in request.get("serviceDeploymentArns", []):
                deployment = self.service_deployments.get(arn)
                if deployment is None:
                    failures.append({"arn": arn, "reason": "MISSING"})
                    continue
                native.advance(deployment)
                found.append(copy.deepcopy(deployment["record"]))
        return {"serviceDeployments": found, "failures": failures}

    def list_service_deployments(self, request):
        """ListServiceDeployments of one service, newest first."""
        service = request.get("service", "").rsplit("/", 1)[-1]
        with self.lock:
            ours = [d for d in self.service_deployments.values()
                    if d["record"]["serviceArn"].rsplit("/", 1)[-1] == service]
            briefs = [native.brief(d) for d in ours]
        briefs.sort(key=lambda brief: brief["createdAt"], reverse=True)
        return {"serviceDeployments": briefs}

    def stop_service_deployment(self, request):
        """StopServiceDeployment: (answer, None) or (None, (code, message))."""
        arn = request.get("serviceDeploymentArn", "")
        with self.lock:
            deployment = self.service_deployments.get(arn)
            if deployment is None:
                return None, ("ServiceDeploymentNotFoundException", f"{arn} not found.")
            refused = native.stop(deployment, request.get("stopType", "ROLLBACK"))
        return (None, refused) if refused else ({"serviceDeploymentArn": arn}, None)

    def continue_service_deployment(self, request):
        """ContinueServiceDeployment: (answer, None) or (None, (code, message))."""
        arn = request.get("serviceDeploymentArn", "")
        with self.lock:
            deployment = self.service_deployments.get(arn)
            if deployment is None:
                return None, ("ServiceDeploymentNotFoundException", f"{arn} not found.")
            refused = native.continue_paused(deployment, request.get("hookId", ""),
                                             request.get("action", "CONTINUE"))
        return (None, refused) if refused else ({"serviceDeploymentArn": arn}, None)

    @staticmethod
    def mirror(state, service_deployment, desired):
        """The service's deployments as a service deployment shows them: PRIMARY IN_PROGRESS
        with both revisions running until it is SUCCESSFUL; rolled back, the source again."""
        ours = next(d for d in state["deployments"] if d["id"] == state["ours"])
        status = service_deployment["record"]["status"]
        if status == "SUCCESSFUL" and ours["rolloutState"] == "IN_PROGRESS":
            finish(ours, desired)
            state["deployments"] = [ours]
        elif status == "ROLLBACK_SUCCESSFUL" and ours["status"] == "PRIMARY":
            ours.update(status="ACTIVE", rolloutState="FAILED", runningCount=0, pendingCount=0,
                        rolloutStateReason=service_deployment["record"].get("statusReason", ""))
            back = new_deployment(service_deployment["source"], desired)
            finish(back, desired)
            state["deployments"] = [back, ours]
        elif status == "IN_PROGRESS":
            target = service_deployment["record"]["targetServiceRevision"]
            ours.update(runningCount=target["runningTaskCount"],
                        pendingCount=target["pendingTaskCount"])

    @staticmethod
    def advance(state, desired):
        if state.get("service_deployment"):
            # A service deployment goes on whoever watches it: DescribeServices moves it too.
            native.advance(state["service_deployment"])
            return EcsDeployments.mirror(state, state["service_deployment"], desired)
        ours = next(d for d in state["deployments"] if d["id"] == state["ours"])
        script = state["script"]
        if ours["rolloutState"] != "IN_PROGRESS":
            # After a rollback: its deployment completes one poll later.
            for deployment in state["deployments"]:
                if deployment["status"] == "PRIMARY" and deployment["rolloutState"] == "IN_PROGRESS":
                    finish(deployment, desired)
                    state["deployments"] = [deployment]
            return
        if state["polls"] < script["polls"]:
            ours["runningCount"] = min(desired, state["polls"])
            ours["pendingCount"] = desired - ours["runningCount"]
            return
        outcome = script["outcome"]
        if outcome == "completed":
            finish(ours, desired)
            state["deployments"] = [ours]
        elif outcome == "failed":
            ours.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER,
                        runningCount=0, pendingCount=0, failedTasks=desired)
        elif outcome == "stuck":
            ours.update(runningCount=0, pendingCount=desired,
                        failedTasks=ours.get("failedTasks", 0) + 1, updatedAt=time.time())
            state["stuck_event"] = {
                "id": f"stuck-{ours['id'].rsplit('/', 1)[-1]}-{ours['failedTasks']}",
                "createdAt": time.time(),
                "message": f"(service {state['name']}) is unable to consistently start tasks successfully. "
                           "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
            }
        elif outcome == "rollback":
            ours.update(status="ACTIVE", rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER,
                        runningCount=0, pendingCount=0, failedTasks=desired)
            back = new_deployment(state["previous_revision"], desired)
            for deployment in state["deployments"]:
                if deployment is not ours:
                    deployment["status"] = "INACTIVE"
            state["deployments"] = [back, ours]
        else:
            raise ValueError(f"unknown outcome {outcome}")


def run_as_the_container(task_definition, override, programs):
    """The exit code and the output lines (stdout, then stderr) of entryPoint + command of the
    override's container, run in a sandbox."""
    container = next((c for c in task_definition.get("containerDefinitions", [])
                      if c.get("name") == override.get("name")), {})
    command = override.get("command") or container.get("command") or []
    argv = list(container.get("entryPoint") or []) + list(command)
    if not argv:
        return 0, []
    with tempfile.TemporaryDirectory() as root:
        bin_dir = os.path.join(root, "bin")
        os.mkdir(bin_dir)
        os.symlink(shutil.which("sh") or "/bin/sh", os.path.join(bin_dir, "sh"))
        for name, body in programs.items():
            path = os.path.join(bin_dir, name)
            with open(path, "w", encoding="utf-8") as program:
                program.write("#!/bin/sh\n" + body + "\n")
            os.chmod(path, 0o755)
        program = argv[0] if "/" in argv[0] else os.path.join(bin_dir, argv[0])
        if not os.path.exists(program):
            return 127, []  # what a shell answers for a program it cannot find
        try:
            done = subprocess.run([program] + argv[1:], cwd=root, env={"PATH": bin_dir, "HOME": root},
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
        except subprocess.TimeoutExpired:
            return 137, []
        output = (done.stdout + done.stderr).decode(errors="replace").splitlines()
        return done.returncode, output


def new_deployment(task_definition, desired):
    now = time.time()
    return {
        "id": f"ecs-svc/{secrets.randbelow(10**19):019d}",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "pendingCount": desired,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment in progress.",
    }


def finish(deployment, desired):
    deployment.update(rolloutState="COMPLETED", rolloutStateReason="ECS deployment completed.",
                      runningCount=desired, pendingCount=0, updatedAt=time.time())
