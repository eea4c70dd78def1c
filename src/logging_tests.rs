use super::runner_filter;

#[test]
fn in_a_runner_rust_log_reaches_only_our_own_targets() {
    let table = [
        ("trace", "warn,deploy_action=trace"),
        ("debug,aws_smithy_runtime=trace", "warn,deploy_action=debug"),
        (
            "aws_smithy_runtime=trace,hyper=debug",
            "warn,deploy_action=info",
        ),
        (
            "deploy_action::image=trace,reqwest=trace",
            "warn,deploy_action::image=trace",
        ),
        ("deploy_action=debug", "warn,deploy_action=debug"),
    ];
    for (rust_log, expected) in table {
        assert_eq!(runner_filter(rust_log, "info"), expected, "{rust_log}");
        assert!(tracing_subscriber::EnvFilter::try_new(expected).is_ok());
    }
}
