//! A function process: the command Lambda would run for a function, started with [`crate::spawn`].

use crate::runtime_api::{FunctionIdentity, lambda_environment};
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// The command Lambda would run for `function`: `binary` with an empty environment but the variables Lambda
/// sets for a Runtime API at `runtime_address` ([`lambda_environment`]), then the function's own `environment`
/// on top; stdin closed, stdout and stderr piped for the caller to read.
pub fn function_command(
    binary: &Path,
    function: &FunctionIdentity,
    runtime_address: &str,
    environment: &[(String, String)],
) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(lambda_environment(function, runtime_address))
        .envs(environment.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spawn::spawn_dying_with_parent;

    #[tokio::test]
    async fn a_function_command_has_only_lambdas_variables_and_its_own() {
        let f = FunctionIdentity::local("env-fn", 128);
        let vars = [("MY_SETTING".to_string(), "on".to_string())];
        let mut command = function_command(Path::new("env"), &f, "127.0.0.1:9", &vars);
        // `env` prints its environment: nothing of this process's leaks in.
        let out = spawn_dying_with_parent(&mut command)
            .unwrap()
            .wait_with_output()
            .await
            .unwrap();
        let printed = String::from_utf8(out.stdout).unwrap();
        let names: Vec<&str> = printed
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k)
            .collect();
        assert!(printed.contains("MY_SETTING=on\n"), "{printed}");
        assert!(
            printed.contains("AWS_LAMBDA_RUNTIME_API=127.0.0.1:9\n"),
            "{printed}"
        );
        assert!(
            printed.contains("AWS_LAMBDA_FUNCTION_NAME=env-fn\n"),
            "{printed}"
        );
        let expected = lambda_environment(&f, "127.0.0.1:9").len() + 1;
        assert_eq!(names.len(), expected, "{printed}");
    }
}
