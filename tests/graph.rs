//! `sockstack graph`: the architecture of a stack file as Mermaid or DOT.

use assert_cmd::Command;

fn sockstack() -> Command {
    let mut cmd = Command::cargo_bin("sockstack").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn run(args: &[&str]) -> String {
    let out = sockstack().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn mermaid_shows_routes_functions_tables_and_the_authorizer_on_connect() {
    let text = run(&["graph", "dev"]);
    assert!(text.starts_with("flowchart LR\n"), "{text}");
    for line in [
        "client -- \"wss://\" --> api",
        "route_connect -. \"authorizes first\" .-> authorizer",
        "authorizer -- invoke --> fn_authorizer",
        "route_connect -- invoke --> fn_connect",
        "route_default -- \"invoke, reply\" --> fn_default",
        "fn_vote -- \"read, send\" --> table_connections_registry",
        "fn_vote -. \"POST @connections\" .-> client",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Only $connect carries the authorizer.
    assert_eq!(text.matches("authorizes first").count(), 1);
}

#[test]
fn dot_is_a_digraph_of_the_same_architecture() {
    let text = run(&["graph", "stacks/prod.yaml", "--format", "dot"]);
    assert!(text.starts_with("digraph \"team-health-prod\" {"), "{text}");
    assert!(text.trim_end().ends_with('}'));
    assert_eq!(text.matches('{').count(), text.matches('}').count());
    assert!(
        text.contains("route_connect -> authorizer [label=\"authorizes first\", style=dashed];")
    );
    assert!(
        text.contains("existing: team-health-profiles"),
        "prod references an existing table:\n{text}"
    );
}

#[test]
fn unknown_stack_exits_2() {
    let out = sockstack().args(["graph", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stack `nope`"));
}
