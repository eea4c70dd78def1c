use super::*;

#[test]
fn the_private_config_is_0700_and_gone_when_dropped() {
    let docker = Docker::with_program("docker".into()).unwrap();
    let dir = docker.config_dir().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    drop(docker);
    assert!(!dir.exists());
}
