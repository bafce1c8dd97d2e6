//! From a parsed stack file to the model: every check the file's shape cannot
//! express, each problem named by its path.

use super::functions::{self, Context, Role};
use super::{
    AlarmEmail, Alarms, CONNECT, ConnectAuth, ConnectRoute, DEFAULT, DISCONNECT, Model, Route,
    RouteKey, Stage, WebSocketApi, authorizer, pascal_case, route_name, tables,
};
use crate::config::locate::{child, item};
use crate::config::stack::{FORMAT, StackFile};
use crate::config::{self, ConfigErrors, Problem};
use crate::sources::HandlerSources;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads, parses and builds one stack file.
pub fn load(file: &Path, handlers: &HandlerSources) -> Result<Model, ConfigErrors> {
    let text = config::read(file)?;
    load_str(file, &text, handlers)
}

/// Parses and builds stack-file text (`file` is only used in errors).
pub fn load_str(file: &Path, text: &str, handlers: &HandlerSources) -> Result<Model, ConfigErrors> {
    let text = &config::normalize_newlines(text);
    let stack = config::parse(file, text)?;
    build(&stack, handlers).map_err(|problems| config::locate(file, text, problems))
}

fn is_name(s: &str, extra: &[char], max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

fn stack_level(file: &StackFile, p: &mut Vec<Problem>) {
    if file.version != FORMAT {
        p.push(Problem::value(
            "version",
            format!(
                "stack-file format {} is not one this sockstack reads",
                file.version
            ),
            format!("`version: {FORMAT}`"),
        ));
    }
    let s = &file.stack;
    if !is_name(s, &['-'], 128) || !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        p.push(Problem::value(
            "stack",
            format!("`{s}` is not a valid CloudFormation stack name"),
            "1–128 letters, digits and hyphens, starting with a letter",
        ));
    }
    if let Some(region) = &file.region {
        let parts: Vec<&str> = region.split('-').collect();
        let ok = parts.len() >= 3
            && parts.iter().all(|x| is_name(x, &[], 20))
            && parts
                .last()
                .is_some_and(|x| x.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            p.push(Problem::value(
                "region",
                format!("`{region}` is not an AWS region"),
                "a region name such as `eu-west-1`",
            ));
        }
    }
    let stage = &file.stage.name;
    if !is_name(stage, &['-', '_'], 128) {
        p.push(Problem::value(
            "stage.name",
            format!("`{stage}` is not a valid stage name"),
            "1–128 letters, digits, `-` and `_` (the stage name is part of the URL)",
        ));
    }
    let t = &file.stage.throttling;
    if !(1..=5000).contains(&t.burst_limit) {
        p.push(Problem::value(
            "stage.throttling.burstLimit",
            format!("burst limit {} is out of range", t.burst_limit),
            "a whole number from 1 to 5000",
        ));
    }
    if !(t.rate_limit >= 1.0 && t.rate_limit <= 10_000.0) {
        p.push(Problem::value(
            "stage.throttling.rateLimit",
            format!("rate limit {} is out of range", t.rate_limit),
            "requests per second from 1 to 10000",
        ));
    }
    let rse = &file.route_selection_expression;
    if !(rse.starts_with("$request.body.") || rse.starts_with("${request.body.")) {
        p.push(Problem::value(
            "routeSelectionExpression",
            format!("`{rse}` is not a WebSocket route selection expression"),
            "a JSON path into the message, e.g. `$request.body.action`",
        ));
    }
    if let Some(email) = &file.alarms.email {
        alarm_email(email, p);
    }
    if let Some(d) = &file.description
        && d.len() > DESCRIPTION_BYTES
    {
        p.push(Problem::value(
            "description",
            format!("the description is {} bytes (UTF-8), more than CloudFormation's {DESCRIPTION_BYTES}", d.len()),
            format!("at most {DESCRIPTION_BYTES} bytes: AWS measures a template's description in bytes"),
        ));
    }
    for (key, value) in &file.tags {
        let path = child("tags", key);
        let chars = key.chars().count();
        if !(1..=TAG_KEY_CHARS).contains(&chars) || key.to_ascii_lowercase().starts_with("aws:") {
            p.push(Problem::key(
                path.clone(),
                format!("`{key}` is not a valid tag key ({chars} characters)"),
                format!("1–{TAG_KEY_CHARS} characters (AWS counts characters, not bytes), not starting with `aws:`"),
            ));
        }
        let chars = value.chars().count();
        if !(1..=TAG_VALUE_CHARS).contains(&chars) {
            p.push(Problem::value(
                path,
                format!("the tag value has {chars} characters"),
                format!("1–{TAG_VALUE_CHARS} characters (AWS counts characters, not bytes)"),
            ));
        }
    }
}

/// A stack tag's key: at most 128 characters (CloudFormation's `Tag.Key`).
pub const TAG_KEY_CHARS: usize = 128;
/// A stack tag's value: at most 256 characters (CloudFormation's `Tag.Value`).
pub const TAG_VALUE_CHARS: usize = 256;
/// A template's description: at most 1024 bytes.
pub const DESCRIPTION_BYTES: usize = 1024;

/// Checks the alarms' e-mail address, or the SSM parameter name that holds one.
fn alarm_email(email: &AlarmEmail, p: &mut Vec<Problem>) {
    match email {
        AlarmEmail::Address(a) => {
            let ok = a.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty()
                    && !domain.contains('@')
                    && domain.split('.').count() >= 2
                    && domain.split('.').all(|part| !part.is_empty())
            }) && !a.chars().any(char::is_whitespace)
                && a.len() <= 254;
            if !ok {
                p.push(Problem::value(
                    "alarms.email",
                    format!("`{a}` is not an e-mail address"),
                    "an address such as `ops@example.com`, or `{parameter: NAME}` (an SSM parameter holding one)",
                ));
            }
        }
        AlarmEmail::Parameter(name) => {
            if !functions::is_parameter_name(name) {
                p.push(Problem::value(
                    "alarms.email.parameter",
                    format!("`{name}` is not an SSM parameter name"),
                    "letters, digits, `_`, `.`, `-` and `/`, e.g. `/app/prod/alarm-email`",
                ));
            }
        }
    }
}

/// The routes, checked against the functions and the authorizer.
fn routes(
    file: &StackFile,
    authorizer: Option<&super::Authorizer>,
    p: &mut Vec<Problem>,
) -> (Option<ConnectRoute>, Vec<Route>) {
    if file.routes.is_empty() {
        p.push(Problem::value(
            "routes",
            "the stack has no routes",
            "at least one route, usually `$connect`, `$disconnect` and `$default`",
        ));
    }
    // Each route makes at least three resources (route, integration, permission): beyond this many the
    // template cannot fit CloudFormation's resource limit, so stop before building a huge model.
    let most = crate::check::limits::MAX_RESOURCES / 3;
    if file.routes.len() > most {
        p.push(Problem::value(
            "routes",
            format!(
                "{} routes: each makes at least 3 resources, so more than {most} cannot fit CloudFormation's {} resources per template",
                file.routes.len(),
                crate::check::limits::MAX_RESOURCES
            ),
            format!("at most {most} routes per stack"),
        ));
        return (None, Vec::new());
    }
    let functions = &file.functions.functions;
    let mut seen_keys: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen_names: BTreeMap<String, &str> = BTreeMap::new();
    let mut connect = None;
    let mut others = Vec::new();
    for (i, r) in file.routes.iter().enumerate() {
        let path = item("routes", i);
        let key = match RouteKey::parse(&r.key) {
            Ok(k) => k,
            Err(why) => {
                p.push(Problem::value(
                    child(&path, "key"),
                    why,
                    "`$connect`, `$disconnect`, `$default`, or a custom key such as `send`",
                ));
                continue;
            }
        };
        if let Some(first) = seen_keys.insert(&r.key, i) {
            p.push(Problem::value(
                child(&path, "key"),
                format!(
                    "route `{}` is defined twice (first as routes[{first}])",
                    r.key
                ),
                "each route key once",
            ));
            continue;
        }
        if let Some(other) = seen_names.insert(route_name(&r.key), &r.key) {
            p.push(Problem::value(
                child(&path, "key"),
                format!(
                    "route `{}` and route `{other}` would both be named `{}` in the template",
                    r.key,
                    route_name(&r.key)
                ),
                "route keys that differ in more than case and punctuation",
            ));
        }
        if !functions.contains_key(&r.function) {
            p.push(Problem::value(
                child(&path, "function"),
                format!("no function `{}` under `functions:`", r.function),
                if functions.is_empty() {
                    format!("a `functions: {{{}: {{}}}}` entry", r.function)
                } else {
                    format!(
                        "one of: {} (or add `{}:` under `functions:`)",
                        functions.keys().cloned().collect::<Vec<_>>().join(", "),
                        r.function
                    )
                },
            ));
        }
        if let Some(a) = authorizer
            && a.function == r.function
        {
            p.push(Problem::value(
                child(&path, "function"),
                format!(
                    "function `{}` is the authorizer and cannot serve a route",
                    r.function
                ),
                "a function of its own for the authorizer",
            ));
        }
        if r.authorizer && r.key != CONNECT {
            p.push(Problem::key(
                child(&path, "authorizer"),
                format!("route `{}` cannot use the authorizer", r.key),
                "`authorizer: true` only on `$connect`: API Gateway runs WebSocket authorizers when the connection opens, never per message",
            ));
        }
        if r.public && (r.key != CONNECT || r.authorizer) {
            p.push(Problem::key(
                child(&path, "public"),
                format!("`public` on route `{}` has no meaning", r.key),
                "`public: true` only on a `$connect` route without `authorizer: true`",
            ));
        }
        if r.two_way && r.key == DISCONNECT {
            p.push(Problem::key(
                child(&path, "twoWay"),
                "`$disconnect` cannot answer: the connection is already closed",
                "no `twoWay` on `$disconnect`",
            ));
        }
        let route = Route {
            key,
            function: r.function.clone(),
            two_way: r.two_way,
        };
        if r.key == CONNECT {
            let auth = match (r.authorizer, authorizer) {
                (true, Some(a)) => Some(ConnectAuth::Jwt(a.clone())),
                (true, None) => {
                    p.push(Problem::key(
                        child(&path, "authorizer"),
                        "`$connect` asks for the authorizer but the stack defines none",
                        "a top-level `authorizer:` section (`jwt:` or `cognito:`)",
                    ));
                    None
                }
                (false, _) if r.public => Some(ConnectAuth::Public),
                (false, _) => {
                    p.push(Problem::value(
                        child(&path, "key"),
                        "`$connect` has no authorizer, so anyone could open a connection",
                        "`authorizer: true` (with a top-level `authorizer:` section), or `public: true` to accept anonymous connections on purpose",
                    ));
                    None
                }
            };
            if let Some(auth) = auth {
                connect = Some(ConnectRoute { route, auth });
            }
        } else {
            others.push(route);
        }
    }
    let has_connect = file.routes.iter().any(|r| r.key == CONNECT);
    if !has_connect && !file.routes.is_empty() && !file.public {
        p.push(Problem::value(
            "routes",
            "the stack has no `$connect` route, so API Gateway lets anyone connect",
            "a `$connect` route with `authorizer: true`, or top-level `public: true` to accept anonymous connections on purpose",
        ));
    }
    if file.public && has_connect {
        p.push(Problem::key(
            "public",
            "top-level `public` is only for a stack without a `$connect` route",
            "`public: true` on the `$connect` route itself, or remove `$connect`",
        ));
    }
    if let Some(_a) = &file.authorizer {
        let used = file.routes.iter().any(|r| r.key == CONNECT && r.authorizer);
        if !used {
            p.push(Problem::key(
                "authorizer",
                "the authorizer is defined but no route uses it",
                "`authorizer: true` on the `$connect` route (or remove this section)",
            ));
        }
    }
    (connect, others)
}

/// Builds the model of a parsed stack file, or every problem it has.
pub fn build(file: &StackFile, handlers: &HandlerSources) -> Result<Model, Vec<Problem>> {
    let mut p = Vec::new();
    stack_level(file, &mut p);
    let protection = &file.data_protection;
    let tables = tables::tables(&file.tables, protection, &mut p);
    let authorizer = file
        .authorizer
        .as_ref()
        .map(|a| authorizer::build(a, &mut p));
    let context_keys: BTreeSet<String> = authorizer
        .as_ref()
        .map(|a| a.context.keys().cloned().collect())
        .unwrap_or_default();
    let registry = tables::registry(&file.connections, &context_keys, protection, &mut p);
    let (connect, routes) = routes(file, authorizer.as_ref(), &mut p);

    let functions_config = &file.functions;
    functions::check_defaults(&functions_config.defaults, &mut p);
    if functions_config.functions.is_empty() {
        p.push(Problem::value(
            "functions",
            "the stack has no functions",
            "one entry per function under `functions:`, e.g. `connect: {grants: {connections: write}}`",
        ));
    }
    if let Some(a) = &authorizer
        && !functions_config.functions.contains_key(&a.function)
    {
        p.push(Problem::value(
            if file
                .authorizer
                .as_ref()
                .is_some_and(|c| c.function != "authorizer")
            {
                "authorizer.function"
            } else {
                "authorizer"
            },
            format!(
                "the authorizer's function `{}` is not under `functions:`",
                a.function
            ),
            format!(
                "a `functions: {{{}: {{}}}}` entry (it runs the JWT authorizer binary)",
                a.function
            ),
        ));
    }
    let custom_keys = {
        let api = WebSocketApi {
            name: String::new(),
            route_selection_expression: String::new(),
            connect: None,
            routes: routes.clone(),
        };
        api.custom_keys().join(",")
    };
    let cx = Context {
        tables: &tables,
        registry: &registry,
        handlers,
        bundle_keys: Default::default(),
    };
    let mut stems: BTreeMap<String, &str> = BTreeMap::new();
    let mut functions = Vec::new();
    for (name, config) in &functions_config.functions {
        let path = child("functions", name);
        let stem = pascal_case(name);
        if stem.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            p.push(Problem::key(
                path,
                format!("function `{name}` cannot be named in the template"),
                "a name starting with a letter, e.g. `send`",
            ));
            continue;
        }
        if stem == "ApiGatewayAccount" {
            p.push(Problem::key(
                path,
                format!("function `{name}` would take the logical id of the account role"),
                "another name",
            ));
            continue;
        }
        if let Some(other) = stems.insert(stem.clone(), name) {
            p.push(Problem::key(
                path.clone(),
                format!("functions `{other}` and `{name}` would both be `{stem}Function` in the template"),
                "function names that differ in more than case and punctuation",
            ));
        }
        let serves: Vec<&Route> = connect
            .iter()
            .map(|c| &c.route)
            .chain(routes.iter())
            .filter(|r| &r.function == name)
            .collect();
        let is_authorizer = authorizer.as_ref().filter(|a| &a.function == name);
        let referenced_anywhere = file.routes.iter().any(|r| &r.function == name);
        if !referenced_anywhere && is_authorizer.is_none() {
            p.push(Problem::key(
                path.clone(),
                format!("function `{name}` serves no route and is not the authorizer"),
                "a route with `function: {name}`, or remove the function",
            ));
        }
        let role = Role {
            behind_route: referenced_anywhere,
            authorizer: is_authorizer,
            route_keys: serves
                .iter()
                .any(|r| r.key.as_str() == DEFAULT)
                .then(|| custom_keys.clone()),
        };
        if let Some(f) =
            functions::build(name, config, &functions_config.defaults, &role, &cx, &mut p)
        {
            functions.push(f);
        }
    }

    if !p.is_empty() {
        return Err(p);
    }
    Ok(Model {
        stack_name: file.stack.clone(),
        description: file.description.clone(),
        region: file.region.clone(),
        api: WebSocketApi {
            name: file.stack.clone(),
            route_selection_expression: file.route_selection_expression.clone(),
            connect,
            routes,
        },
        stage: Stage {
            name: file.stage.name.clone(),
            access_logs: file.stage.access_logs,
            burst_limit: file.stage.throttling.burst_limit,
            rate_limit: file.stage.throttling.rate_limit,
            log_retention_days: functions_config.defaults.log_retention_days,
        },
        registry,
        tables,
        functions,
        table_key: protection.table_key,
        retain_table_key: protection.retain_tables
            || file.tables.values().any(|t| t.retain == Some(true)),
        retain_logs: protection.retain_logs,
        account_role: file.api_gateway_account_role,
        tags: file.tags.clone(),
        alarms: file.alarms.enabled.then(|| Alarms {
            email: file.alarms.email.clone(),
        }),
    })
}
