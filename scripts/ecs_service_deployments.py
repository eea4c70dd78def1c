"""ECS's own deployment strategies as ECS has them, for the strict stand-in (ecs_deployments.py).

moto drops `deploymentConfiguration.strategy` and answers ListServiceDeployments with a 500. ECS
(API reference: UpdateService `deploymentConfiguration`; DescribeServiceDeployments,
ListServiceDeployments, StopServiceDeployment; the ServiceDeployment data type; "Amazon ECS
blue/green deployments" in the developer guide) does this:

- A service keeps its deployment configuration — strategy ROLLING | BLUE_GREEN | LINEAR | CANARY,
  bakeTimeInMinutes, canaryConfiguration, linearConfiguration, alarms, lifecycleHooks — as
  UpdateService last set it (a request's configuration replaces it whole: see
  merged_configuration), and shows it in DescribeServices.
- A traffic-shifting strategy is refused for a service whose load balancers lack an
  advancedConfiguration (traffic_refusal).
- Every UpdateService that changes the revision (or forces a deployment) under a non-rolling
  strategy starts a *service deployment*: `Service.currentServiceDeployment` names it, and it
  walks the lifecycle stages PRE_SCALE_UP → SCALE_UP → POST_SCALE_UP → TEST_TRAFFIC_SHIFT →
  POST_TEST_TRAFFIC_SHIFT → PRODUCTION_TRAFFIC_SHIFT (for CANARY: canaryPercent first, then the
  rest; for LINEAR: stepPercent at a time) → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP,
  then SUCCESSFUL. Here one stage a DescribeServiceDeployments call; BAKE_TIME lasts
  bakeTimeInMinutes of real time.
- Until it is SUCCESSFUL both revisions run and the service's PRIMARY deployment stays
  IN_PROGRESS (kayac/ecspresso#1063): the "services stable" view never says done during a bake.
- An alarm in ALARM (with alarms.rollback) rolls the deployment back: ROLLBACK_IN_PROGRESS, then
  ROLLBACK_SUCCESSFUL, `rollback.reason`, `alarms.triggeredAlarmNames`; the service runs the
  source revision again.
- StopServiceDeployment(stopType ROLLBACK) does the same on request.
- Pause hooks ("Pause hooks for Amazon ECS service deployments" and "Continuing Amazon ECS service
  deployments" in the developer guide; DeploymentLifecycleHook, DeploymentLifecycleHookDetail,
  DeploymentLifecycleHookTimeoutConfiguration and ContinueServiceDeployment in the API reference):
  a `lifecycleHooks` entry with `targetType: PAUSE` holds the deployment at each of its
  `lifecycleStages` with a `lifecycleHookDetails` entry {hookId, targetType PAUSE, status
  AWAITING_ACTION, expiresAt, timeoutAction (default ROLLBACK)} until ContinueServiceDeployment
  names that hookId with CONTINUE (the hook SUCCEEDED, on to the next stage) or ROLLBACK (as
  StopServiceDeployment). Only a hook in AWAITING_ACTION of an IN_PROGRESS deployment can be
  continued; PAUSE hooks at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT are refused (only Lambda
  hooks run there). PRE_PRODUCTION_TRAFFIC_SHIFT pauses before each production traffic step;
  ServiceDeploymentLifecycleStage has no such value, so the deployment shows the stage it is at.
  The hook's own timeout is not simulated (its default is 24 hours).

A service's next update is scripted with POST /_stand-in/ecs-script {"service", "service_deployment":
{"outcome": "successful" | "alarm_rollback" | "never_scales_up", "alarm": NAME, "at": STAGE}}.
"""
import secrets
import time

STAGES_BEFORE_TRAFFIC = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
                         "POST_TEST_TRAFFIC_SHIFT"]
STAGES_AFTER_TRAFFIC = ["POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
# Where a PAUSE hook may hold a deployment (developer guide, "Pause hooks …", Configuration fields).
PAUSE_STAGES = {"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
                "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}


def traffic_steps(configuration):
    """The production traffic shares the PRODUCTION_TRAFFIC_SHIFT stage goes through."""
    strategy = configuration.get("strategy", "ROLLING")
    if strategy == "CANARY":
        share = float((configuration.get("canaryConfiguration") or {}).get("canaryPercent", 10))
        return [share, 100.0]
    if strategy == "LINEAR":
        step = float((configuration.get("linearConfiguration") or {}).get("stepPercent", 25))
        shares, share = [], 0.0
        while share < 100.0:
            share = min(100.0, share + step)
            shares.append(share)
        return shares
    return [100.0]


def merged_configuration(kept, given):
    """What UpdateService leaves of the service's deployment configuration. The API reference
    does not say which fields of a `deploymentConfiguration` it keeps when a request leaves them
    out, so the strict stand-in keeps none: a request's configuration replaces the whole one (a
    client that sends only `strategy` loses the circuit breaker, alarms and hooks, and a test
    sees it). A request without one keeps the service's."""
    return dict(given) if given is not None else dict(kept or {})


def traffic_refusal(configuration, balancers, service_connect):
    """Why ECS refuses the strategy for a service with these load balancers, or None.

    Every load balancer needs an `advancedConfiguration` under blue/green, linear and canary:
    ECS answers "ClientException: advancedConfiguration field is required for all loadBalancers
    when using the linear deployment strategy" (terraform-aws-modules/terraform-aws-ecs#377).
    Linear and canary shift traffic through Elastic Load Balancing or Service Connect, one of
    which the service must use (developer guide, "Required resources for Amazon ECS linear
    deployments" and "… canary deployments")."""
    strategy = (configuration or {}).get("strategy", "ROLLING")
    for hook in (configuration or {}).get("lifecycleHooks") or []:
        if hook.get("targetType") == "PAUSE":
            wrong = [stage for stage in hook.get("lifecycleStages", []) if stage not in PAUSE_STAGES]
            if wrong or not hook.get("lifecycleStages"):
                return ("InvalidParameterException", "PAUSE hooks cannot be configured at "
                        f"{', '.join(wrong) or 'no'} lifecycle stages.")
    if strategy == "ROLLING":
        return None
    for balancer in balancers or []:
        advanced = balancer.get("advancedConfiguration") or {}
        if not advanced.get("alternateTargetGroupArn"):
            return ("ClientException", "advancedConfiguration field is required for all "
                    f"loadBalancers when using the {strategy.lower()} deployment strategy")
    if strategy in ("LINEAR", "CANARY") and not balancers and not service_connect:
        return ("InvalidParameterException", f"The {strategy.lower()} deployment strategy "
                "requires Elastic Load Balancing or Service Connect to shift traffic.")
    return None


def is_native(configuration):
    return (configuration or {}).get("strategy", "ROLLING") != "ROLLING"


def new_service_deployment(service, configuration, source, target, script):
    """A service deployment of `target` replacing `source`, as UpdateService starts it."""
    service_arn = service.get("serviceArn", "")
    head, _, path = service_arn.partition(":service/")
    now = time.time()
    steps = [("PRODUCTION_TRAFFIC_SHIFT", share) for share in traffic_steps(configuration)]
    stages = ([(stage, 0.0) for stage in STAGES_BEFORE_TRAFFIC] + steps
              + [(stage, 100.0) for stage in STAGES_AFTER_TRAFFIC])
    alarms = configuration.get("alarms") or {}
    return {
        "record": {
            "serviceDeploymentArn": f"{head}:service-deployment/{path}/{secrets.token_hex(8)}",
            "serviceArn": service_arn,
            "clusterArn": service.get("clusterArn", ""),
            "createdAt": now,
            "startedAt": now,
            "updatedAt": now,
            "status": "IN_PROGRESS",
            "lifecycleStage": stages[0][0],
            "deploymentConfiguration": configuration,
            "sourceServiceRevisions": [revision(head, path, source, service, running=True)],
            "targetServiceRevision": revision(head, path, target, service, running=False),
            "alarms": {"status": "MONITORING" if alarms.get("enable") else "DISABLED",
                       "alarmNames": alarms.get("alarmNames", [])},
            "lifecycleHookDetails": [],
        },
        "stages": stages,
        "at": 0,
        "bake_started": None,
        # Stages a pause hook held and was continued at; the hook awaiting action now.
        "continued": [],
        "awaiting": None,
        "script": {"outcome": "successful", **(script or {})},
        "source": source,
        "target": target,
    }


def revision(head, path, task_definition, service, running):
    desired = service.get("desiredCount", 1)
    return {
        "arn": f"{head}:service-revision/{path}/{secrets.randbelow(10**19):019d}",
        "taskDefinition": task_definition,
        "requestedTaskCount": desired,
        "runningTaskCount": desired if running else 0,
        "pendingTaskCount": 0,
        "requestedProductionTrafficWeight": 100.0 if running else 0.0,
    }


def advance(deployment):
    """One DescribeServiceDeployments later: the next stage, or the scripted ending."""
    record, script = deployment["record"], deployment["script"]
    status = record["status"]
    if status in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
        if status == "ROLLBACK_REQUESTED":
            record["status"] = "ROLLBACK_IN_PROGRESS"
        else:
            record.update(status="ROLLBACK_SUCCESSFUL", finishedAt=time.time())
        return
    if status != "IN_PROGRESS":
        return
    stage, _ = deployment["stages"][deployment["at"]]
    if paused(deployment, stage):
        return
    if script["outcome"] == "alarm_rollback" and stage == script.get("at", "BAKE_TIME"):
        alarm = script.get("alarm", "alarm")
        record["alarms"].update(status="TRIGGERED", triggeredAlarmNames=[alarm])
        start_rollback(deployment, f"Service deployment rolled back because alarm {alarm} is in ALARM state.")
        return
    if script["outcome"] == "never_scales_up" and stage == "SCALE_UP":
        record["targetServiceRevision"]["pendingTaskCount"] = record["targetServiceRevision"]["requestedTaskCount"]
        return
    if stage == "BAKE_TIME":
        if deployment["bake_started"] is None:
            deployment["bake_started"] = time.time()
        minutes = record["deploymentConfiguration"].get("bakeTimeInMinutes", 0)
        if time.time() - deployment["bake_started"] < minutes * 60:
            return
    if deployment["at"] + 1 >= len(deployment["stages"]):
        record.update(status="SUCCESSFUL", finishedAt=time.time())
        record["sourceServiceRevisions"][0].update(runningTaskCount=0,
                                                   requestedProductionTrafficWeight=0.0)
        return
    deployment["at"] += 1
    stage, share = deployment["stages"][deployment["at"]]
    target = record["targetServiceRevision"]
    if stage in ("POST_SCALE_UP", "TEST_TRAFFIC_SHIFT"):
        target["runningTaskCount"] = target["requestedTaskCount"]
    target["requestedProductionTrafficWeight"] = share
    record["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] = 100.0 - share
    record.update(lifecycleStage=stage, updatedAt=time.time())
    # A pause hook holds it as it enters the stage.
    paused(deployment, stage)


def pause_hook_at(configuration, stage):
    """The PAUSE hook that holds a deployment at `stage`, or None. PRE_PRODUCTION_TRAFFIC_SHIFT
    holds it before each production traffic step."""
    for hook in configuration.get("lifecycleHooks") or []:
        stages = hook.get("lifecycleStages", [])
        if hook.get("targetType") == "PAUSE" and (
                stage in stages or (stage == "PRODUCTION_TRAFFIC_SHIFT"
                                    and "PRE_PRODUCTION_TRAFFIC_SHIFT" in stages)):
            return hook
    return None


def paused(deployment, stage):
    """Whether a pause hook holds the deployment at its current step (and shows it so)."""
    key = (deployment["at"], stage)
    if key in deployment["continued"]:
        return False
    hook = pause_hook_at(deployment["record"]["deploymentConfiguration"], stage)
    if hook is None:
        return False
    if deployment["awaiting"] is None:
        timeout = hook.get("timeoutConfiguration") or {}
        detail = {"hookId": f"ecs-pause-{secrets.token_urlsafe(32)}", "targetType": "PAUSE",
                  "status": "AWAITING_ACTION",
                  "expiresAt": time.time() + 60 * timeout.get("timeoutInMinutes", 1440),
                  "timeoutAction": timeout.get("action", "ROLLBACK")}
        deployment["awaiting"] = (key, detail)
        deployment["record"]["lifecycleHookDetails"].append(detail)
    return True


def continue_paused(deployment, hook_id, action):
    """ContinueServiceDeployment: None, or the error ECS answers with."""
    record, awaiting = deployment["record"], deployment["awaiting"]
    if record["status"] != "IN_PROGRESS" or awaiting is None or awaiting[1]["hookId"] != hook_id:
        return ("InvalidParameterException", f"The lifecycle hook {hook_id} is not awaiting action "
                f"(the service deployment is {record['status']}).")
    key, detail = awaiting
    deployment["awaiting"] = None
    if action == "ROLLBACK":
        detail["status"] = "FAILED"
        start_rollback(deployment, f"Service deployment rolled back by ContinueServiceDeployment "
                                   f"(ROLLBACK) of lifecycle hook {hook_id}.")
        record["status"] = "ROLLBACK_REQUESTED"
    else:
        detail["status"] = "SUCCEEDED"
        deployment["continued"].append(key)
    return None


def start_rollback(deployment, reason):
    record = deployment["record"]
    deployment["awaiting"] = None
    record.update(status="ROLLBACK_IN_PROGRESS", statusReason=reason, updatedAt=time.time())
    record["rollback"] = {"reason": reason, "startedAt": time.time(),
                          "serviceRevisionArn": record["sourceServiceRevisions"][0]["arn"]}
    record["targetServiceRevision"]["requestedProductionTrafficWeight"] = 0.0


def supersede(deployment, by):
    """An UpdateService while this service deployment is still going on (a hotfix during its
    bake) starts a new one from the revision serving. The API reference does not say which
    status the older one ends in; the stand-in ends it STOPPED — a completed state ("View service
    history using Amazon ECS service deployments") — so nothing follows it any more."""
    record = deployment["record"]
    if record["status"] in ("PENDING", "IN_PROGRESS"):
        deployment["awaiting"] = None
        record.update(status="STOPPED", statusReason=f"Superseded by service deployment {by}.",
                      stoppedAt=time.time(), updatedAt=time.time())


def stop(deployment, stop_type):
    """StopServiceDeployment: ROLLBACK puts the source revision back; ABORT stops where it is."""
    record = deployment["record"]
    if record["status"] not in ("PENDING", "IN_PROGRESS"):
        return ("ConflictException", f"The service deployment is {record['status']} and cannot be stopped.")
    if stop_type == "ROLLBACK":
        start_rollback(deployment, "Service deployment rolled back by StopServiceDeployment.")
        record["status"] = "ROLLBACK_REQUESTED"
    else:
        record.update(status="STOPPED", statusReason="Stopped by StopServiceDeployment.")
    return None


def serving(deployment):
    """The revision the service runs now: the source again once rolled back."""
    status = deployment["record"]["status"]
    return deployment["source"] if status.startswith("ROLLBACK") else deployment["target"]


def brief(deployment):
    record = deployment["record"]
    return {key: record.get(key) for key in (
        "serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "finishedAt",
        "status", "statusReason")} | {"targetServiceRevisionArn": record["targetServiceRevision"]["arn"]}
