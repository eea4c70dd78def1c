//! `deploy-action iam-policy`: the IAM documents a repository needs to use this action —
//! the OIDC trust policy of the role, and a least-privilege permissions policy that covers
//! exactly the AWS calls the action makes (a test checks this against the source).

pub mod from_services;

use crate::error::Problem;
use crate::plan::values;
use serde_json::{Value, json};

const ISSUER: &str = "token.actions.githubusercontent.com";

/// ECR calls the docker CLI makes to push (and to read back what it pushed).
pub const ECR_PUSH_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
];

/// ECR calls on the repository besides pushing: checks, digest truth, promotion.
pub const ECR_REPOSITORY_ACTIONS: &[&str] = &[
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:ListImages",
];

/// With `create-repository`.
pub const ECR_CREATE_ACTIONS: &[&str] = &["ecr:CreateRepository", "ecr:PutLifecyclePolicy"];

/// ECS calls the action makes on services.
/// ECS calls the action makes on services (ListServiceDeployments: finding the service
/// deployment an UpdateService started under ECS's own strategies).
pub const ECS_SERVICE_ACTIONS: &[&str] = &[
    "ecs:DescribeServices",
    "ecs:UpdateService",
    "ecs:ListServiceDeployments",
];

/// On the services' service deployments (`…:service-deployment/CLUSTER/SERVICE/ID`): following
/// one, rolling it back with StopServiceDeployment, and answering a pause hook with
/// ContinueServiceDeployment (CONTINUE after the pause gate's check passed, ROLLBACK after it
/// failed).
pub const ECS_SERVICE_DEPLOYMENT_ACTIONS: &[&str] = &[
    "ecs:DescribeServiceDeployments",
    "ecs:StopServiceDeployment",
    "ecs:ContinueServiceDeployment",
];

/// ECS calls on task definitions, which IAM cannot scope to a resource.
pub const ECS_TASK_DEFINITION_ACTIONS: &[&str] =
    &["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"];

/// With `deregister-previous`: the replaced revision deregistered, unless another service of the
/// cluster still runs it (which ListServices and DescribeServices in the cluster tell).
pub const ECS_DEREGISTER_ACTIONS: &[&str] = &["ecs:DeregisterTaskDefinition"];

/// Reading stopped tasks for failure evidence.
pub const ECS_TASK_ACTIONS: &[&str] = &["ecs:ListTasks", "ecs:DescribeTasks"];

/// What the policies are for.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyRequest {
    /// The GitHub repository, ORG/REPO.
    #[arg(long)]
    pub repository: String,
    /// The AWS account id of the role.
    #[arg(long)]
    pub account: String,
    /// The AWS region of the registry and the services (`--aws-region` as elsewhere).
    #[arg(long, visible_alias = "aws-region")]
    pub region: String,
    /// The ECR repository the action pushes to.
    #[arg(long)]
    pub ecr_repository: String,
    /// The account whose registry holds the repository, when it is not --account's (the
    /// action's `registry` naming another account's ECR host).
    #[arg(long, value_name = "ACCOUNT")]
    pub registry_account: Option<String>,
    /// The ECS cluster of the services (`--ecs-cluster` as elsewhere).
    #[arg(long, visible_alias = "ecs-cluster")]
    pub cluster: Option<String>,
    /// The services the action rolls (repeatable, or comma-separated as `--ecs-services`).
    #[arg(
        long = "service",
        visible_alias = "ecs-services",
        value_delimiter = ','
    )]
    pub services: Vec<String>,
    /// Only runs on these branches may assume the role (repeatable).
    #[arg(long = "branch")]
    pub branches: Vec<String>,
    /// Only jobs of this GitHub environment may assume the role.
    #[arg(long)]
    pub environment: Option<String>,
    /// Any run of the repository may assume the role — any branch, tag, pull request or
    /// environment. The trust policy needs this, --branch or --environment.
    #[arg(long)]
    pub any_ref: bool,
    /// Only this reusable workflow (ORG/REPO/.github/workflows/FILE@REF) may assume the role.
    /// AWS evaluates only `sub`: the repository's OIDC subject template must include
    /// `job_workflow_ref` (the command prints how).
    #[arg(long, value_name = "WORKFLOW@REF")]
    pub job_workflow_ref: Option<String>,
    /// The task and execution roles the task definitions use (repeatable) [default: read from
    /// the services' task definitions with your credentials; needed with --offline].
    #[arg(long = "pass-role", value_name = "ROLE_ARN")]
    pub pass_roles: Vec<String>,
    /// The CloudWatch log groups of the services' containers, read for a crashed task's last
    /// lines (repeatable); `REGION:GROUP` for a group in another region than --region (a
    /// container's `awslogs-region`) [default: read from the task definitions; else /ecs/*].
    #[arg(long = "log-group", value_name = "GROUP")]
    pub log_groups: Vec<String>,
    /// Do not read the services' task definitions (no AWS call): the defaults above apply.
    #[arg(long)]
    pub offline: bool,
    /// The task definitions pass no role: no iam:PassRole at all.
    #[arg(skip)]
    pub passes_no_role: bool,
    /// The services' task definition families, when read: RunTask only on their revisions.
    #[arg(skip)]
    pub task_families: Vec<String>,
    /// The action runs with `deregister-previous: true`: DeregisterTaskDefinition, and listing
    /// the cluster's services to keep a revision another one runs.
    #[arg(long)]
    pub deregister_previous: bool,
    /// The action runs `pre-deploy-command`: RunTask in the cluster, StopTask on a timeout.
    #[arg(long)]
    pub pre_deploy: bool,
    /// The action may create the repository (`create-repository: true`).
    #[arg(long)]
    pub create_repository: bool,
    /// The OIDC audience [default: sts.amazonaws.com, sts.amazonaws.com.cn in China regions, as
    /// the action sends].
    #[arg(long)]
    pub audience: Option<String>,
    /// Which document to print.
    #[arg(long, value_enum, default_value = "both")]
    pub document: Document,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Document {
    Trust,
    Permissions,
    Both,
}

/// The command line that prints the permissions policy a run of `plan` needs, for the hint of
/// an AccessDenied.
pub fn command_for(plan: &crate::plan::Plan, account: &str) -> String {
    let repository = plan.source.repository.as_deref().unwrap_or("ORG/REPO");
    let mut command = format!(
        "deploy-action iam-policy --repository {repository} --account {account} --region {} --ecr-repository {}",
        plan.region, plan.image.repository
    );
    if let Some(registry) = plan
        .image
        .registry_id
        .as_deref()
        .filter(|id| *id != account)
    {
        command.push_str(&format!(" --registry-account {registry}"));
    }
    if let Some(rollout) = &plan.rollout {
        command.push_str(&format!(" --cluster {}", rollout.cluster));
        for service in &rollout.services {
            command.push_str(&format!(" --service {service}"));
        }
    }
    if plan.image.create_repository {
        command.push_str(" --create-repository");
    }
    if plan
        .rollout
        .as_ref()
        .is_some_and(|r| r.pre_deploy.is_some())
    {
        command.push_str(" --pre-deploy");
    }
    if plan.rollout.as_ref().is_some_and(|r| r.deregister_previous) {
        command.push_str(" --deregister-previous");
    }
    command.push_str(" --document permissions");
    command
}

/// The requested document(s), pretty-printed JSON.
pub fn render(request: &PolicyRequest) -> Result<String, Problem> {
    check_arguments(request)?;
    check_roles_are_named(request)?;
    let document = match request.document {
        Document::Trust => trust_policy(request),
        Document::Permissions => permissions_policy(request),
        Document::Both => json!({
            "TrustPolicy": trust_policy(request),
            "PermissionsPolicy": permissions_policy(request),
        }),
    };
    // A JSON value always serialises; the compact form stands in should it not.
    Ok(serde_json::to_string_pretty(&document).unwrap_or_else(|_| document.to_string()))
}

/// The arguments as given, before anything is read from the services.
pub fn check_arguments(request: &PolicyRequest) -> Result<(), Problem> {
    let bad = |what: String, hint: &str| Problem::new(what).hint(hint.to_string());
    let parts: Vec<&str> = request.repository.split('/').collect();
    if parts.len() != 2 || parts.iter().any(|part| part.is_empty()) {
        return Err(bad(
            format!("--repository `{}` is not ORG/REPO", request.repository),
            "e.g. --repository operationcode/back-end",
        ));
    }
    if !values::is_account_id(&request.account) {
        return Err(bad(
            format!(
                "--account `{}` is not a 12-digit account id",
                request.account
            ),
            "e.g. --account 633607774026",
        ));
    }
    values::check_region(&request.region)
        .map_err(|why| bad(format!("--region: {why}"), "e.g. --region us-east-2"))?;
    for group in &request.log_groups {
        if let Some((region, _)) = group.split_once(':') {
            values::check_region(region).map_err(|why| {
                bad(
                    format!("--log-group `{group}`: {why}"),
                    "GROUP, or REGION:GROUP for a group in another region: e.g. --log-group eu-west-1:/ecs/api",
                )
            })?;
        }
    }
    if let Some(role) = request.pass_roles.iter().find(|role| {
        !(role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/"))
    }) {
        return Err(bad(
            format!("--pass-role `{role}` is not a role's ARN"),
            "e.g. --pass-role arn:aws:iam::633607774026:role/back-end-task (the task definition's taskRoleArn or executionRoleArn)",
        ));
    }
    values::check_repository(&request.ecr_repository).map_err(|why| {
        bad(
            format!("--ecr-repository: {why}"),
            "e.g. --ecr-repository back-end",
        )
    })?;
    if let Some(account) = request
        .registry_account
        .as_ref()
        .filter(|account| !values::is_account_id(account))
    {
        return Err(bad(
            format!("--registry-account `{account}` is not a 12-digit account id"),
            "the account in the registry host ACCOUNT.dkr.ecr.REGION.amazonaws.com",
        ));
    }
    if !request.services.is_empty() && request.cluster.is_none() {
        return Err(bad(
            "--service needs --cluster".into(),
            "name the services' cluster with --cluster",
        ));
    }
    if request.environment.is_some() && !request.branches.is_empty() {
        return Err(bad(
            "--branch and --environment exclude each other".into(),
            "a job with an environment gets sub `…:environment:NAME`, never `…:ref:…`: pick one",
        ));
    }
    let scoped = request.environment.is_some() || !request.branches.is_empty();
    if request.document != Document::Permissions && !scoped && !request.any_ref {
        return Err(bad(
            "the trust policy would let any run of the repository assume the role: any branch, any pull \
             request's workflow, any tag"
                .into(),
            "name who may deploy: --branch main, or --environment production (with required reviewers or \
             deployment branches on that environment); --any-ref if you really mean every run",
        ));
    }
    if request.any_ref && scoped {
        return Err(bad(
            "--any-ref excludes --branch and --environment".into(),
            "drop --any-ref to trust only the branches or the environment named",
        ));
    }
    if let Some(workflow) = &request.job_workflow_ref {
        let well_formed = workflow.split_once('@').is_some_and(|(path, git_ref)| {
            path.contains("/.github/workflows/") && !git_ref.is_empty()
        });
        if !well_formed {
            return Err(bad(
                format!(
                    "--job-workflow-ref `{workflow}` is not ORG/REPO/.github/workflows/FILE@REF"
                ),
                "e.g. --job-workflow-ref operationcode/back-end/.github/workflows/deploy.yml@refs/heads/main",
            ));
        }
    }
    Ok(())
}

/// iam:PassRole names roles: the ones read from the task definitions or `--pass-role`.
fn check_roles_are_named(request: &PolicyRequest) -> Result<(), Problem> {
    let permissions = request.document != Document::Trust;
    if permissions
        && request.cluster.is_some()
        && request.pass_roles.is_empty()
        && !request.passes_no_role
    {
        // RegisterTaskDefinition cannot be scoped, and a RunTask's overrides take any
        // taskRoleArn: iam:PassRole is all that bounds which role a task of this deploy role
        // gets, so the policy names the roles rather than `role/*`.
        return Err(Problem::new(
            "iam:PassRole needs the roles the services' task definitions pass to their tasks",
        )
        .hint(
            "name them with --pass-role ROLE_ARN (repeatable: the task role and the execution role), or name \
             --cluster and --service without --offline and run with credentials that may describe them \
             (the command reads the roles from the task definitions)",
        ));
    }
    Ok(())
}

/// What the person applying the trust policy must know, printed to stderr beside it.
pub fn notes(request: &PolicyRequest) -> Vec<String> {
    if request.document == Document::Permissions {
        return Vec::new();
    }
    let mut notes = Vec::new();
    if request.any_ref {
        notes.push(
            "warning: --any-ref: every run of the repository may assume this role, a pull request's \
             workflow edited on its branch included"
                .to_string(),
        );
    }
    if let Some(environment) = &request.environment {
        notes.push(format!(
            "note: the environment `{environment}` is only as strong as its protection rules: require reviewers \
             or limit its deployment branches (Settings → Environments), or any branch's job can name it"
        ));
    }
    if request.job_workflow_ref.is_some() {
        notes.push(format!(
            "note: AWS evaluates only the token's `sub`: make the repository's subject include job_workflow_ref \
             first — gh api -X PUT repos/{}/actions/oidc/customization/sub -F use_default=false \
             -f 'include_claim_keys[]=repo' -f 'include_claim_keys[]=context' -f 'include_claim_keys[]=job_workflow_ref'",
            request.repository
        ));
    }
    notes
}

pub fn trust_policy(request: &PolicyRequest) -> Value {
    let partition = values::partition(&request.region);
    let repo = &request.repository;
    let audience = request
        .audience
        .clone()
        .unwrap_or_else(|| values::default_audience(&request.region).to_string());
    let mut equals = json!({ format!("{ISSUER}:aud"): audience });
    let mut condition = json!({});
    let subjects: Vec<String> = match (&request.environment, request.branches.as_slice()) {
        (Some(environment), _) => vec![format!("repo:{repo}:environment:{environment}")],
        (None, []) => Vec::new(),
        (None, branches) => branches
            .iter()
            .map(|b| format!("repo:{repo}:ref:refs/heads/{b}"))
            .collect(),
    };
    // With a subject template of repo, context, job_workflow_ref, GitHub appends the workflow.
    let subjects: Vec<String> = match &request.job_workflow_ref {
        Some(workflow) => subjects
            .into_iter()
            .map(|s| format!("{s}:job_workflow_ref:{workflow}"))
            .collect(),
        None => subjects,
    };
    match subjects.as_slice() {
        [] => {
            let any = match &request.job_workflow_ref {
                Some(workflow) => format!("repo:{repo}:*:job_workflow_ref:{workflow}"),
                None => format!("repo:{repo}:*"),
            };
            condition["StringLike"] = json!({ format!("{ISSUER}:sub"): any });
        }
        [one] => equals[format!("{ISSUER}:sub")] = json!(one),
        many => equals[format!("{ISSUER}:sub")] = json!(many),
    }
    condition["StringEquals"] = equals;
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:{partition}:iam::{}:oidc-provider/{ISSUER}", request.account) },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }]
    })
}

pub fn permissions_policy(request: &PolicyRequest) -> Value {
    let partition = values::partition(&request.region);
    let (account, region) = (&request.account, &request.region);
    let registry_account = request.registry_account.as_ref().unwrap_or(account);
    let mut statements = vec![
        json!({ "Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*" }),
        json!({
            "Sid": "EcrPush",
            "Effect": "Allow",
            "Action": ECR_PUSH_ACTIONS,
            "Resource": format!("arn:{partition}:ecr:{region}:{registry_account}:repository/{}", request.ecr_repository),
        }),
        json!({
            "Sid": "EcrRepository",
            "Effect": "Allow",
            "Action": if request.create_repository {
                [ECR_REPOSITORY_ACTIONS, ECR_CREATE_ACTIONS].concat()
            } else {
                ECR_REPOSITORY_ACTIONS.to_vec()
            },
            "Resource": format!("arn:{partition}:ecr:{region}:{registry_account}:repository/{}", request.ecr_repository),
        }),
    ];
    if let Some(cluster) = request.cluster.as_deref().map(name_in_arn) {
        let services: Vec<String> = if request.services.is_empty() {
            vec![format!(
                "arn:{partition}:ecs:{region}:{account}:service/{cluster}/*"
            )]
        } else {
            request
                .services
                .iter()
                .map(|service| {
                    let service = name_in_arn(service);
                    format!("arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}")
                })
                .collect()
        };
        let groups: Vec<String> = if request.log_groups.is_empty() {
            vec!["/ecs/*".to_string()]
        } else {
            request.log_groups.clone()
        };
        let log_groups: Vec<String> = groups
            .iter()
            .map(|group| log_streams_arn(partition, region, account, group))
            .collect();
        statements.extend([
            json!({ "Sid": "EcsServices", "Effect": "Allow", "Action": ECS_SERVICE_ACTIONS, "Resource": services }),
            json!({
                "Sid": "EcsServiceDeployments",
                "Effect": "Allow",
                "Action": ECS_SERVICE_DEPLOYMENT_ACTIONS,
                "Resource": services.iter().map(|service| format!("{}/*", service.replacen(":service/", ":service-deployment/", 1))).collect::<Vec<_>>(),
            }),
            json!({ "Sid": "EcsTaskDefinitions", "Effect": "Allow", "Action": ECS_TASK_DEFINITION_ACTIONS, "Resource": "*" }),
            json!({ "Sid": "EcsStoppedTasks", "Effect": "Allow", "Action": ECS_TASK_ACTIONS, "Resource": "*" }),
            json!({
                "Sid": "LogsOfFailedTasks",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": log_groups,
            }),
            json!({
                "Sid": "EcsTagNewRevisions",
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": format!("arn:{partition}:ecs:{region}:{account}:task-definition/*"),
                "Condition": { "StringEquals": { "ecs:CreateAction": "RegisterTaskDefinition" } },
            }),
        ]);
        if request.deregister_previous {
            // deregister-previous keeps a revision another service of the cluster still runs:
            // it lists and reads (never changes) the cluster's other services. ListServices has
            // no resource type, only the ecs:cluster condition key; DescribeServices is scoped
            // by the service ARN.
            statements.extend([
                json!({ "Sid": "EcsDeregisterReplaced", "Effect": "Allow", "Action": ECS_DEREGISTER_ACTIONS, "Resource": "*" }),
                json!({
                    "Sid": "EcsListClusterServices",
                    "Effect": "Allow",
                    "Action": "ecs:ListServices",
                    "Resource": "*",
                    "Condition": { "ArnEquals": { "ecs:cluster": format!("arn:{partition}:ecs:{region}:{account}:cluster/{cluster}") } },
                }),
                json!({
                    "Sid": "EcsDescribeClusterServices",
                    "Effect": "Allow",
                    "Action": "ecs:DescribeServices",
                    "Resource": format!("arn:{partition}:ecs:{region}:{account}:service/{cluster}/*"),
                }),
            ]);
        }
        if !request.passes_no_role {
            statements.push(json!({
                "Sid": "PassTaskRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": request.pass_roles,
                "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            }));
        }
    }
    if let (true, Some(cluster)) = (
        request.pre_deploy,
        request.cluster.as_deref().map(name_in_arn),
    ) {
        // The one-off task of pre-deploy-command: started only in the services' cluster (the
        // ecs:cluster condition key), of the services' families when they were read (RunTask's
        // resource is the task definition), stopped there on a timeout. IAM has no condition
        // key for a RunTask's overrides (command, taskRoleArn): a role given to a task needs
        // iam:PassRole on it (IAM User Guide, "Grant a user permissions to pass a role to an
        // AWS service"), so PassTaskRoles above bounds the roles a one-off task can get.
        let cluster_arn = format!("arn:{partition}:ecs:{region}:{account}:cluster/{cluster}");
        let task_definitions: Vec<String> = if request.task_families.is_empty() {
            vec![format!(
                "arn:{partition}:ecs:{region}:{account}:task-definition/*"
            )]
        } else {
            request
                .task_families
                .iter()
                .map(|family| {
                    format!("arn:{partition}:ecs:{region}:{account}:task-definition/{family}:*")
                })
                .collect()
        };
        statements.extend([
            json!({
                "Sid": "EcsPreDeployRunTask",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": task_definitions,
                "Condition": { "ArnEquals": { "ecs:cluster": cluster_arn } },
            }),
            json!({
                "Sid": "EcsPreDeployStopTask",
                "Effect": "Allow",
                "Action": "ecs:StopTask",
                "Resource": format!("arn:{partition}:ecs:{region}:{account}:task/{cluster}/*"),
            }),
        ]);
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// A cluster or service as `--cluster`/`--service` may name it — a name, or an ARN
/// (`arn:…:cluster/NAME`, `arn:…:service/CLUSTER/NAME`, the old `arn:…:service/NAME`) — by name:
/// the policy builds the ARNs itself.
fn name_in_arn(named: &str) -> &str {
    if named.starts_with("arn:") {
        named.rsplit('/').next().unwrap_or(named)
    } else {
        named
    }
}

#[cfg(test)]
mod tests;

/// The ARN of a log group's streams; `group` may name its region first (`us-west-2:/ecs/api`:
/// log group names have no `:`), for a container whose `awslogs-region` is not the services'.
fn log_streams_arn(partition: &str, region: &str, account: &str, group: &str) -> String {
    let (region, group) = group.split_once(':').unwrap_or((region, group));
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}:log-stream:*")
}
