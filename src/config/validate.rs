//! Semantic validation of a parsed stack file: everything its shape cannot say.
//!
//! Each problem names the path of the offending key or value; [`super::load`]
//! turns paths into line and column.

use super::locate::{child, item};
use super::stack::{RouteAccess, StackFile};
use crate::check::websocket::{check_identity_source, check_route_key};
use crate::model::{CONNECT, DISCONNECT, pascal_case, profile_for, route_name};
use crate::sources::HandlerSources;
use sockstack_contract::AccessProfile;
use sockstack_contract::access::handlers::TOOLS;
use std::collections::BTreeMap;

/// One semantic problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Path of the offending node, e.g. `routes[3].authorizer`.
    pub path: String,
    /// Point at the value (true) or at the key (false).
    pub at_value: bool,
    /// What is wrong.
    pub message: String,
    /// What was expected instead.
    pub expected: String,
}

struct Problems(Vec<Problem>);

impl Problems {
    fn value(&mut self, path: String, message: impl Into<String>, expected: impl Into<String>) {
        self.0.push(Problem {
            path,
            at_value: true,
            message: message.into(),
            expected: expected.into(),
        });
    }

    fn key(&mut self, path: String, message: impl Into<String>, expected: impl Into<String>) {
        self.0.push(Problem {
            path,
            at_value: false,
            message: message.into(),
            expected: expected.into(),
        });
    }
}

/// Retention values CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Every semantic problem of `file`, in file order.
pub fn validate(file: &StackFile, handlers: &HandlerSources) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    stack_names(file, &mut p);
    routes(file, handlers, &mut p);
    authorizer(file, handlers, &mut p);
    resources(file, &mut p);
    p.0
}

fn is_name(s: &str, extra: &[char], max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

fn stack_names(file: &StackFile, p: &mut Problems) {
    let s = &file.stack;
    if !is_name(s, &['-'], 128) || !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        p.value(
            "stack".into(),
            format!("`{s}` is not a valid CloudFormation stack name"),
            "1–128 letters, digits and hyphens, starting with a letter",
        );
    }
    let stage = &file.stage.name;
    if !is_name(stage, &['-', '_'], 128) {
        p.value(
            "stage.name".into(),
            format!("`{stage}` is not a valid stage name"),
            "1–128 letters, digits, `-` and `_` (the stage name is part of the URL)",
        );
    }
    let t = &file.stage.throttling;
    if !(1..=5000).contains(&t.burst_limit) {
        p.value(
            "stage.throttling.burstLimit".into(),
            format!("burst limit {} is out of range", t.burst_limit),
            "a whole number from 1 to 5000",
        );
    }
    if !(t.rate_limit >= 1.0 && t.rate_limit <= 10_000.0) {
        p.value(
            "stage.throttling.rateLimit".into(),
            format!("rate limit {} is out of range", t.rate_limit),
            "requests per second from 1 to 10000",
        );
    }
    let rse = &file.route_selection_expression;
    if !(rse.starts_with("$request.body.") || rse.starts_with("${request.body.")) {
        p.value(
            "routeSelectionExpression".into(),
            format!("`{rse}` is not a WebSocket route selection expression"),
            "a JSON path into the message, e.g. `$request.body.action`",
        );
    }
    for (key, value) in &file.tags {
        let path = child("tags", key);
        if key.is_empty() || key.len() > 128 || key.to_ascii_lowercase().starts_with("aws:") {
            p.key(
                path.clone(),
                format!("`{key}` is not a valid tag key"),
                "1–128 characters, not starting with `aws:`",
            );
        }
        if value.len() > 256 {
            p.value(path, "tag value is too long", "at most 256 characters");
        }
    }
}

fn routes(file: &StackFile, handlers: &HandlerSources, p: &mut Problems) {
    if file.routes.is_empty() {
        p.value(
            "routes".into(),
            "the stack has no routes",
            "at least one route, usually `$connect`, `$disconnect` and `$default`",
        );
    }
    let mut seen_keys: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen_names: BTreeMap<String, &str> = BTreeMap::new();
    let mut profiles: BTreeMap<&str, (AccessProfile, usize)> = BTreeMap::new();
    for (i, route) in file.routes.iter().enumerate() {
        let path = item("routes", i);
        if let Err(why) = check_route_key(&route.key) {
            p.value(
                child(&path, "key"),
                why,
                "`$connect`, `$disconnect`, `$default`, or a custom key such as `vote`",
            );
        } else if let Some(first) = seen_keys.insert(&route.key, i) {
            p.value(
                child(&path, "key"),
                format!(
                    "route `{}` is defined twice (first as routes[{first}])",
                    route.key
                ),
                "each route key once",
            );
        } else if let Some(other) = seen_names.insert(route_name(&route.key), &route.key) {
            p.value(
                child(&path, "key"),
                format!(
                    "route `{}` and route `{other}` would both be named `{}` in the template",
                    route.key,
                    route_name(&route.key)
                ),
                "route keys that differ in more than case and punctuation",
            );
        }
        handler_exists(&route.handler, &child(&path, "handler"), handlers, p);
        if route.authorizer && route.key != CONNECT {
            p.key(
                child(&path, "authorizer"),
                format!("route `{}` cannot use the authorizer", route.key),
                "`authorizer: true` only on `$connect`: API Gateway runs WebSocket authorizers when the connection opens, never per message",
            );
        }
        if route.authorizer && route.key == CONNECT && file.authorizer.is_none() {
            p.key(
                child(&path, "authorizer"),
                "`$connect` asks for the authorizer but the stack defines none",
                "a top-level `authorizer:` section (JWKS URL or Cognito pool, audience)",
            );
        }
        if route.key == CONNECT && !route.authorizer && !route.public {
            p.value(
                child(&path, "key"),
                "`$connect` has no authorizer, so anyone could open a connection",
                "`authorizer: true` (with a top-level `authorizer:` section), or `public: true` to accept anonymous connections on purpose",
            );
        }
        if route.public && (route.key != CONNECT || route.authorizer) {
            p.key(
                child(&path, "public"),
                format!("`public` on route `{}` has no meaning", route.key),
                "`public: true` only on a `$connect` route without `authorizer: true`",
            );
        }
        if route.two_way && route.key == DISCONNECT {
            p.key(
                child(&path, "twoWay"),
                "`$disconnect` cannot answer: the connection is already closed",
                "no `twoWay` on `$disconnect`",
            );
        }
        let declared = route.access.map(RouteAccess::profile);
        if let (Some(d), Some(builtin)) = (declared, AccessProfile::for_handler(&route.handler))
            && d != builtin
        {
            {
                p.value(
                    child(&path, "access"),
                    format!(
                        "handler `{}` is built in with access `{}`",
                        route.handler,
                        builtin.name()
                    ),
                    format!("`access: {}` or no `access`", builtin.name()),
                );
            }
        }
        let profile = profile_for(&route.handler, declared);
        if let Some((other, first)) = profiles.insert(&route.handler, (profile, i))
            && other != profile
        {
            {
                p.value(
                    child(&path, "access"),
                    format!(
                        "handler `{}` has access `{}` here but `{}` in routes[{first}]",
                        route.handler,
                        profile.name(),
                        other.name()
                    ),
                    "the same access wherever a handler is used (one function per handler)",
                );
            }
        }
    }
    let mut handler_paths: Vec<(String, &str)> = file
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| (child(&item("routes", i), "handler"), r.handler.as_str()))
        .collect();
    if let Some(a) = &file.authorizer {
        handler_paths.push(("authorizer.handler".into(), a.handler.as_str()));
    }
    let mut by_name: BTreeMap<String, &str> = BTreeMap::new();
    for (path, handler) in handler_paths {
        let name = pascal_case(handler);
        if name.is_empty() || name == "ApiGatewayAccount" {
            p.value(
                path,
                format!("handler `{handler}` cannot be named in the template"),
                "a handler name with letters, other than `api-gateway-account`",
            );
        } else if let Some(other) = by_name.insert(name.clone(), handler)
            && other != handler
        {
            {
                p.value(
                    path,
                    format!(
                        "handlers `{other}` and `{handler}` would both be named `{name}Function`"
                    ),
                    "handler names that differ in more than case and punctuation",
                );
            }
        }
    }
    if let Some(a) = &file.authorizer {
        let connect_uses_it = file.routes.iter().any(|r| r.key == CONNECT && r.authorizer);
        if !connect_uses_it {
            p.key(
                "authorizer".into(),
                "the authorizer is defined but no route uses it",
                "`authorizer: true` on the `$connect` route (or remove this section)",
            );
        }
        if file.routes.iter().any(|r| r.handler == a.handler) {
            p.value(
                "authorizer.handler".into(),
                format!(
                    "handler `{}` is used both as authorizer and as a route",
                    a.handler
                ),
                "a handler binary of its own for the authorizer",
            );
        }
    }
}

fn handler_exists(name: &str, path: &str, handlers: &HandlerSources, p: &mut Problems) {
    if TOOLS.contains(&name) {
        p.value(
            path.to_string(),
            format!("`{name}` is a command-line tool of the handlers member, not a Lambda handler"),
            format!("one of: {}", lambda_handlers(handlers).join(", ")),
        );
    } else if !handlers.contains(name) {
        p.value(
            path.to_string(),
            format!(
                "no handler `{name}` in {}",
                handlers.dir().join("src/bin").display()
            ),
            format!(
                "one of: {} (or add src/bin/{name}.rs to the handlers member)",
                lambda_handlers(handlers).join(", ")
            ),
        );
    }
}

/// The handler binaries that can back a route (tools such as `notify` cannot).
fn lambda_handlers(handlers: &HandlerSources) -> Vec<&str> {
    handlers
        .names()
        .iter()
        .map(String::as_str)
        .filter(|n| !TOOLS.contains(n))
        .collect()
}

fn authorizer(file: &StackFile, handlers: &HandlerSources, p: &mut Problems) {
    let Some(a) = &file.authorizer else { return };
    handler_exists(&a.handler, "authorizer.handler", handlers, p);
    match (&a.jwks_url, &a.cognito) {
        (Some(_), Some(_)) => p.key(
            "authorizer.cognito".into(),
            "both `jwksUrl` and `cognito` are set",
            "either `jwksUrl` with `issuer`, or `cognito` (issuer and JWKS URL follow from the pool)",
        ),
        (None, None) => p.key(
            "authorizer".into(),
            "the authorizer has no key source",
            "`jwksUrl` with `issuer`, or `cognito: {userPoolId: …}`",
        ),
        (Some(url), None) => {
            if !is_https_or_local(url) {
                p.value(
                    "authorizer.jwksUrl".into(),
                    format!("`{url}` is not an https URL"),
                    "an https:// URL (http:// only for localhost)",
                );
            }
            match &a.issuer {
                None => p.key(
                    "authorizer.jwksUrl".into(),
                    "`jwksUrl` is given without `issuer`",
                    "`issuer:` with the exact `iss` claim the tokens carry",
                ),
                Some(iss) if iss.trim().is_empty() => {
                    p.value("authorizer.issuer".into(), "the issuer is empty", "the exact `iss` claim")
                }
                Some(_) => {}
            }
        }
        (None, Some(c)) => {
            if crate::model::cognito_region(&c.user_pool_id).is_none() {
                p.value(
                    "authorizer.cognito.userPoolId".into(),
                    format!("`{}` is not a Cognito user pool id", c.user_pool_id),
                    "`<region>_<id>`, e.g. `eu-west-1_AbCdEf123`",
                );
            }
            if a.issuer.is_some() {
                p.key(
                    "authorizer.issuer".into(),
                    "`issuer` is set together with `cognito`",
                    "no `issuer`: it follows from the user pool",
                );
            }
        }
    }
    if a.audience.is_empty() {
        p.value(
            "authorizer.audience".into(),
            "no audience",
            "at least one accepted audience (the app client id for Cognito)",
        );
    }
    for (i, aud) in a.audience.iter().enumerate() {
        if aud.trim().is_empty() || aud.contains(',') {
            p.value(
                item("authorizer.audience", i),
                format!("`{aud}` is not a usable audience"),
                "a non-empty value without commas",
            );
        }
    }
    for (name, claim) in [
        ("userId", &a.claims.user_id),
        ("email", &a.claims.email),
        ("teamId", &a.claims.team_id),
    ] {
        if claim.trim().is_empty() {
            p.value(
                child("authorizer.claims", name),
                "the claim name is empty",
                "a claim name such as `sub`",
            );
        }
    }
    if a.identity_source.is_empty() {
        p.value(
            "authorizer.identitySource".into(),
            "no identity source",
            "e.g. `route.request.querystring.token`",
        );
    }
    for (i, source) in a.identity_source.iter().enumerate() {
        if let Err(why) = check_identity_source(source) {
            p.value(
                item("authorizer.identitySource", i),
                why,
                "`route.request.header.X`, `route.request.querystring.X`, `stageVariables.X` or `context.X`",
            );
        }
    }
}

fn is_https_or_local(url: &str) -> bool {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        return !r.is_empty();
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1")
}

fn resources(file: &StackFile, p: &mut Problems) {
    let l = &file.lambda;
    if !(128..=10240).contains(&l.memory) {
        p.value(
            "lambda.memory".into(),
            format!("memory {} MB is out of range", l.memory),
            "a whole number of MB from 128 to 10240",
        );
    }
    if !(1..=29).contains(&l.timeout) {
        p.value(
            "lambda.timeout".into(),
            format!("timeout {} s is out of range", l.timeout),
            "1 to 29 seconds (API Gateway waits at most 29 s for a WebSocket integration)",
        );
    }
    if !LOG_RETENTION_DAYS.contains(&l.log_retention_days) {
        p.value(
            "lambda.logRetentionDays".into(),
            format!(
                "{} days is not a CloudWatch retention period",
                l.log_retention_days
            ),
            format!(
                "one of {}",
                LOG_RETENTION_DAYS
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !(1..=1000).contains(&l.notify_concurrency) {
        p.value(
            "lambda.notifyConcurrency".into(),
            format!("concurrency {} is out of range", l.notify_concurrency),
            "1 to 1000 posts in flight",
        );
    }
    for (name, table) in [
        ("connections", &file.tables.connections),
        ("profiles", &file.tables.profiles),
    ] {
        if let Some(existing) = &table.existing
            && (!is_name(existing, &['_', '-', '.'], 255) || existing.len() < 3)
        {
            {
                p.value(
                    format!("tables.{name}.existing"),
                    format!("`{existing}` is not a DynamoDB table name"),
                    "3–255 letters, digits, `_`, `-` and `.`",
                );
            }
        }
    }
}
