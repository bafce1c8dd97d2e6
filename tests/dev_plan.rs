//! The dev stack's template read the way API Gateway would, with every reference resolved to its local value.

use sockstack::dev::plan::{IdentitySource, Plan};
use sockstack::dev::project;
use std::path::Path;

fn dev_plan() -> (sockstack::raw::RawTemplate, Plan) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = project::stack_file(root, "dev").unwrap();
    let template = project::stack_template(root, &file).unwrap();
    let plan = Plan::read(&template, "dev", &project::handler_of).unwrap();
    (template, plan)
}

#[test]
fn routes_functions_and_the_authorizer_come_from_the_template() {
    let (_, plan) = dev_plan();
    assert_eq!(plan.stage(), "dev");
    assert_eq!(plan.selection.path, ["action"]);
    let connect = &plan.routes["$connect"];
    assert!(connect.authorized);
    assert!(plan.routes["vote"].two_way);
    assert!(!plan.routes["$disconnect"].two_way);
    let authorizer = plan.authorizer.as_ref().unwrap();
    assert_eq!(
        authorizer.identity_sources,
        [IdentitySource::Query("token".into())]
    );
    let f = &plan.functions[&authorizer.function];
    assert_eq!(f.handler, "authorizer");
    assert_eq!(
        plan.functions[&plan.routes["vote"].function].handler,
        "vote"
    );
    assert!(plan.tables.contains_key("ConnectionsTable"));
}

#[test]
fn environment_references_resolve_to_local_tables_and_the_local_callback_url() {
    let (template, plan) = dev_plan();
    let plan = plan.at(&template, "127.0.0.1:4567").unwrap();
    let vote = &plan.functions[&plan.routes["vote"].function];
    let table = &plan.tables["ConnectionsTable"].name;
    assert!(
        vote.environment.values().any(|v| v == table),
        "a Ref to the table is its local name: {:?}",
        vote.environment
    );
    assert!(
        vote.environment
            .values()
            .any(|v| v == "http://127.0.0.1:4567/dev"),
        "the callback URL built with Fn::Sub is the local @connections: {:?}",
        vote.environment
    );
    assert!(
        !vote
            .environment
            .values()
            .any(|v| v.contains("amazonaws.com")),
        "nothing points at AWS: {:?}",
        vote.environment
    );
}
