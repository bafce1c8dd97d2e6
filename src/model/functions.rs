//! Functions: settings with defaults resolved, grants, and the environment each
//! grant (and the stack) gives them.

use super::{
    Architecture, Authorizer, ConnectionsAccess, Registry, Table, TableAccess, pascal_case,
};
use crate::config::Problem;
use crate::config::locate::{child, item};
use crate::config::shapes::{EnvRef, EnvValue as ConfigEnv};
use crate::config::stack::{FunctionConfig, FunctionDefaults, LOG_RETENTION_DAYS};
use crate::sources::HandlerSources;
use sockstack_contract::{auth, grants, naming, registry};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One permission of a function: each becomes exactly the IAM actions on exactly
/// the resources of `contract::grants`, and the environment variable naming it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// `tables: {T: access}`.
    Table {
        /// The stack file's table name.
        table: String,
        /// What the function may do with it.
        access: TableAccess,
    },
    /// `tables: {T/I: read}`.
    Index {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
    /// `connections: …`.
    Connections(ConnectionsAccess),
    /// `parameters: [P]` (or `{parameter: P}` in the environment).
    Parameter(String),
    /// `secrets: [S]`.
    Secret(String),
}

/// The value of an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Text.
    Literal(String),
    /// The physical name of the stack file's table of this name.
    TableName(String),
    /// The physical name of the registry.
    RegistryName,
    /// The `@connections` callback URL.
    CallbackUrl,
}

/// A Lambda function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Its name in the stack file (`send`): logical ids `SendFunction`, `SendRole`, `SendLogGroup`.
    pub name: String,
    /// The handler binary it runs.
    pub handler: String,
    /// S3 key of its bundle (`{binary}-{source hash}.zip`).
    pub bundle_key: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Memory in MB.
    pub memory: u32,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Log retention in days.
    pub log_retention_days: u32,
    /// X-Ray tracing.
    pub tracing: bool,
    /// Reserved concurrency.
    pub reserved_concurrency: Option<u32>,
    /// What it may do, sorted.
    pub grants: Vec<Grant>,
    /// Its environment: from its grants, its role (authorizer, `$default`) and the stack file.
    pub environment: BTreeMap<String, EnvValue>,
}

impl Function {
    /// Logical-id stem: `send` → `Send`.
    pub fn stem(&self) -> String {
        pascal_case(&self.name)
    }

    /// Whether it has the connections grant `access`.
    pub fn has_connections(&self, access: ConnectionsAccess) -> bool {
        self.grants.contains(&Grant::Connections(access))
    }
}

/// What the rest of the stack says about one function.
pub(super) struct Role<'a> {
    /// It serves at least one route (so API Gateway's 29 s limit applies).
    pub behind_route: bool,
    /// It is the authorizer.
    pub authorizer: Option<&'a Authorizer>,
    /// It serves `$default`: the custom route keys.
    pub route_keys: Option<String>,
}

/// Everything a function's checks look at.
pub(super) struct Context<'a> {
    pub tables: &'a [Table],
    pub registry: &'a Registry,
    pub handlers: &'a HandlerSources,
    /// Bundle keys already computed in this build, by binary: functions that share a
    /// binary hash its sources once.
    pub bundle_keys: RefCell<BTreeMap<String, Result<String, String>>>,
}

impl Context<'_> {
    /// The bundle key of `binary`, hashed once per build (the error as text).
    fn bundle_key(&self, binary: &str) -> Result<String, String> {
        if let Some(known) = self.bundle_keys.borrow().get(binary) {
            return known.clone();
        }
        let key = self.handlers.bundle_key(binary).map_err(|e| e.to_string());
        self.bundle_keys
            .borrow_mut()
            .insert(binary.to_string(), key.clone());
        key
    }
}

const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

/// Lambda's limit on a function's environment variables, all together: 4 KB, in bytes
/// (names and values; references resolved at deploy time are not counted).
pub const ENVIRONMENT_BYTES: usize = 4096;

/// Whether `name` is an SSM parameter name: up to 2,048 letters, digits and `_.-/`, not only
/// slashes.
pub(super) fn is_parameter_name(name: &str) -> bool {
    !name.trim_start_matches('/').is_empty()
        && name.len() <= 2048
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
}

fn env_name_ok(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Environment being gathered, with where each variable came from (for collisions).
struct Env {
    vars: BTreeMap<String, (EnvValue, String)>,
}

impl Env {
    fn set(&mut self, name: String, value: EnvValue, from: String, p: &mut Vec<Problem>) {
        match self.vars.get(&name) {
            Some((existing, first)) if *existing != value => p.push(Problem::value(
                from,
                format!("this sets environment variable `{name}`, which `{first}` already sets to something else"),
                "grants and variables that give each environment variable one value (rename one; see contract::naming::env_suffix)",
            )),
            Some(_) => {}
            None => {
                self.vars.insert(name, (value, from));
            }
        }
    }
}

fn check_setting(
    path: &str,
    field: &str,
    value: u32,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
    p: &mut Vec<Problem>,
) {
    if !range.contains(&value) {
        p.push(Problem::value(
            child(path, field),
            format!("{field} {value} is out of range"),
            format!("{what} from {} to {}", range.start(), range.end()),
        ));
    }
}

/// Checks the shared defaults (their paths are under `functions.defaults`).
pub(super) fn check_defaults(d: &FunctionDefaults, p: &mut Vec<Problem>) {
    let path = "functions.defaults";
    check_setting(
        path,
        "memory",
        d.memory,
        128..=10240,
        "a whole number of MB",
        p,
    );
    check_setting(path, "timeout", d.timeout, 1..=900, "seconds", p);
    if !LOG_RETENTION_DAYS.contains(&d.log_retention_days) {
        p.push(retention_problem(
            &child(path, "logRetentionDays"),
            d.log_retention_days,
        ));
    }
    if let Some(c) = d.reserved_concurrency {
        check_setting(path, "reservedConcurrency", c, 0..=10000, "functions", p);
    }
}

fn retention_problem(path: &str, days: u32) -> Problem {
    Problem::value(
        path,
        format!("{days} days is not a CloudWatch retention period"),
        format!(
            "one of {}",
            LOG_RETENTION_DAYS
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// Builds one function. `None` when its binary is missing (the problem is recorded).
pub(super) fn build(
    name: &str,
    config: &FunctionConfig,
    defaults: &FunctionDefaults,
    role: &Role<'_>,
    cx: &Context<'_>,
    p: &mut Vec<Problem>,
) -> Option<Function> {
    let path = child("functions", name);
    let binary = config.binary.clone().unwrap_or_else(|| name.to_string());
    let binary_path = if config.binary.is_some() {
        child(&path, "binary")
    } else {
        path.clone()
    };
    let binary_ok = cx.handlers.contains(&binary);
    if !binary_ok {
        p.push(Problem::value(
            binary_path,
            format!(
                "no handler binary `{binary}` in {}",
                cx.handlers.dir().join("src/bin").display()
            ),
            format!(
                "one of: {} (or add src/bin/{binary}.rs to the handler crate, or set `binary:`)",
                cx.handlers.names().join(", ")
            ),
        ));
    }

    let memory = config.memory.unwrap_or(defaults.memory);
    let timeout = config.timeout.unwrap_or(defaults.timeout);
    let log_retention_days = config
        .log_retention_days
        .unwrap_or(defaults.log_retention_days);
    if config.memory.is_some() {
        check_setting(
            &path,
            "memory",
            memory,
            128..=10240,
            "a whole number of MB",
            p,
        );
    }
    let (max, why) = if role.behind_route {
        (
            29,
            "seconds (API Gateway waits at most 29 s for a WebSocket integration)",
        )
    } else {
        (900, "seconds (Lambda's limit)")
    };
    if !(1..=max).contains(&timeout) {
        let at = if config.timeout.is_some() {
            child(&path, "timeout")
        } else {
            "functions.defaults.timeout".to_string()
        };
        p.push(Problem::value(
            at,
            format!("timeout {timeout} s is out of range for function `{name}`"),
            format!("1 to {max} {why}"),
        ));
    }
    if config.log_retention_days.is_some() && !LOG_RETENTION_DAYS.contains(&log_retention_days) {
        p.push(retention_problem(
            &child(&path, "logRetentionDays"),
            log_retention_days,
        ));
    }
    let reserved_concurrency = config
        .reserved_concurrency
        .or(defaults.reserved_concurrency);
    if let Some(c) = config.reserved_concurrency {
        check_setting(&path, "reservedConcurrency", c, 0..=10000, "functions", p);
    }

    let mut env = Env {
        vars: BTreeMap::new(),
    };
    let mut grants_out: Vec<Grant> = Vec::new();
    let gpath = child(&path, "grants");

    if let Some(conn) = &config.grants.connections {
        let cpath = child(&gpath, "connections");
        if conn.0.is_empty() {
            p.push(Problem::value(
                cpath.clone(),
                "an empty list grants nothing",
                "`read`, `write`, `send`, or a list of them",
            ));
        }
        for (i, access) in conn.0.iter().enumerate() {
            let g = Grant::Connections(*access);
            if grants_out.contains(&g) {
                p.push(Problem::value(
                    item(&cpath, i),
                    "this access is listed twice",
                    "each of read, write, send once",
                ));
                continue;
            }
            grants_out.push(g);
            let from = cpath.clone();
            match access {
                ConnectionsAccess::Read | ConnectionsAccess::Write => {
                    env.set(
                        registry::TABLE_ENV.into(),
                        EnvValue::RegistryName,
                        from.clone(),
                        p,
                    );
                    env.set(
                        registry::INDEXES_ENV.into(),
                        EnvValue::Literal(cx.registry.indexes_env()),
                        from,
                        p,
                    );
                }
                ConnectionsAccess::Send => {
                    env.set(
                        registry::TABLE_ENV.into(),
                        EnvValue::RegistryName,
                        from.clone(),
                        p,
                    );
                    env.set(
                        grants::CALLBACK_URL.into(),
                        EnvValue::CallbackUrl,
                        from.clone(),
                        p,
                    );
                    env.set(
                        grants::NOTIFY_CONCURRENCY.into(),
                        EnvValue::Literal(grants::DEFAULT_NOTIFY_CONCURRENCY.to_string()),
                        from,
                        p,
                    );
                }
            }
        }
    }

    for (target, access) in &config.grants.tables {
        let tpath = child(&child(&gpath, "tables"), target);
        let (table_name, index) = match target.split_once('/') {
            Some((t, i)) => (t, Some(i)),
            None => (target.as_str(), None),
        };
        let Some(table) = cx.tables.iter().find(|t| t.name == table_name) else {
            p.push(Problem::key(
                tpath,
                format!("no table `{table_name}` in this stack file"),
                if cx.tables.is_empty() {
                    "a table declared under `tables:`".to_string()
                } else {
                    format!(
                        "one of: {}",
                        cx.tables
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ));
            continue;
        };
        match index {
            None => grants_out.push(Grant::Table {
                table: table.name.clone(),
                access: *access,
            }),
            Some(index) => {
                if !table.indexes().iter().any(|i| i.name == index) {
                    p.push(Problem::key(
                        tpath.clone(),
                        format!("table `{table_name}` has no index `{index}`"),
                        if table.indexes().is_empty() {
                            format!("an index declared under `tables.{table_name}.indexes`")
                        } else {
                            format!(
                                "one of: {}",
                                table
                                    .indexes()
                                    .iter()
                                    .map(|i| i.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                    ));
                    continue;
                }
                if *access != TableAccess::Read {
                    p.push(Problem::value(
                        tpath.clone(),
                        "an index can only be read",
                        "`read` (write to the table itself)",
                    ));
                    continue;
                }
                grants_out.push(Grant::Index {
                    table: table.name.clone(),
                    index: index.to_string(),
                });
            }
        }
        env.set(
            naming::table_env(&table.name),
            EnvValue::TableName(table.name.clone()),
            tpath,
            p,
        );
    }

    let parameter = |name: &str,
                     at: String,
                     env: &mut Env,
                     grants_out: &mut Vec<Grant>,
                     p: &mut Vec<Problem>,
                     set_env: bool| {
        if !is_parameter_name(name) {
            p.push(Problem::value(
                at.clone(),
                format!("`{name}` is not an SSM parameter name"),
                "letters, digits, `_`, `.`, `-` and `/`, e.g. `/app/dev/api-key`",
            ));
        }
        let g = Grant::Parameter(name.to_string());
        if !grants_out.contains(&g) {
            grants_out.push(g);
        }
        if set_env {
            env.set(
                naming::parameter_env(name),
                EnvValue::Literal(name.to_string()),
                at,
                p,
            );
        }
    };
    for (i, name) in config.grants.parameters.iter().enumerate() {
        parameter(
            name,
            item(&child(&gpath, "parameters"), i),
            &mut env,
            &mut grants_out,
            p,
            true,
        );
    }
    for (i, name) in config.grants.secrets.iter().enumerate() {
        let at = item(&child(&gpath, "secrets"), i);
        let ok = !name.is_empty()
            && name.len() <= 512
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
        if !ok {
            p.push(Problem::value(
                at.clone(),
                format!("`{name}` is not a Secrets Manager secret name"),
                "letters, digits and `/_+=.@-`, e.g. `app/dev/webhook`",
            ));
        }
        let g = Grant::Secret(name.clone());
        if grants_out.contains(&g) {
            p.push(Problem::value(
                at,
                "this secret is listed twice",
                "each secret once",
            ));
            continue;
        }
        grants_out.push(g);
        env.set(
            naming::secret_env(name),
            EnvValue::Literal(name.clone()),
            at,
            p,
        );
    }

    if let Some(a) = role.authorizer {
        let from = "authorizer".to_string();
        for (var, value) in [
            (auth::JWKS_URL, a.jwks_url.clone()),
            (auth::JWT_ISSUER, a.issuer.clone()),
            (auth::JWT_AUDIENCE, a.audience.join(",")),
            (
                auth::TOKEN_SOURCE,
                a.identity_source.first().cloned().unwrap_or_default(),
            ),
            (auth::CONTEXT, a.context_env()),
            (auth::REQUIRED_CLAIMS, a.required_claims_env()),
        ] {
            env.set(var.into(), EnvValue::Literal(value), from.clone(), p);
        }
    }
    if let Some(keys) = &role.route_keys {
        env.set(
            grants::ROUTE_KEYS.into(),
            EnvValue::Literal(keys.clone()),
            "routes".into(),
            p,
        );
    }

    // The stack file's own variables: defaults first, the function's own override them.
    let mut own: BTreeMap<&String, (&ConfigEnv, String)> = BTreeMap::new();
    for (k, v) in &defaults.environment {
        own.insert(k, (v, child("functions.defaults.environment", k)));
    }
    for (k, v) in &config.environment {
        own.insert(k, (v, child(&child(&path, "environment"), k)));
    }
    for (var, (value, at)) in own {
        if !env_name_ok(var) || var.starts_with("AWS_") || RESERVED_ENV.contains(&var.as_str()) {
            p.push(Problem::key(
                at.clone(),
                format!("`{var}` cannot be set on a Lambda function"),
                "letters, digits and `_`, not starting with a digit; not `AWS_…` or a name Lambda reserves",
            ));
            continue;
        }
        let value = match value {
            ConfigEnv::Literal(s) => EnvValue::Literal(s.clone()),
            ConfigEnv::Ref(r) => match env_ref(r, &at, cx, p) {
                Some(Ref::Table(t)) => EnvValue::TableName(t),
                Some(Ref::CallbackUrl) => EnvValue::CallbackUrl,
                Some(Ref::Parameter(name)) => {
                    parameter(&name, at.clone(), &mut env, &mut grants_out, p, false);
                    EnvValue::Literal(name)
                }
                None => continue,
            },
        };
        env.set(var.clone(), value, at, p);
    }

    let env_bytes: usize = env
        .vars
        .iter()
        .map(|(k, (v, _))| {
            k.len()
                + match v {
                    EnvValue::Literal(s) => s.len(),
                    _ => 0,
                }
        })
        .sum();
    if env_bytes > ENVIRONMENT_BYTES {
        p.push(Problem::key(
            child(&path, "environment"),
            format!(
                "the environment of function `{name}` is {env_bytes} bytes (names and literal values, UTF-8), more than Lambda's 4 KB ({ENVIRONMENT_BYTES} bytes)"
            ),
            "at most 4096 bytes in all (Lambda counts bytes): keep a large value in an SSM parameter and name it with `{parameter: NAME}`",
        ));
    }

    let tracing = config.tracing.unwrap_or(defaults.tracing);
    grants_out.sort();
    let bundle_key = if binary_ok {
        match cx.bundle_key(&binary) {
            Ok(key) => key,
            Err(e) => {
                p.push(Problem::value(
                    path.clone(),
                    format!("cannot hash the sources of `{binary}`: {e}"),
                    "a readable handler crate",
                ));
                return None;
            }
        }
    } else {
        return None;
    };
    Some(Function {
        name: name.to_string(),
        handler: binary,
        bundle_key,
        architecture: config.architecture.unwrap_or(defaults.architecture),
        memory,
        timeout,
        log_retention_days,
        tracing,
        reserved_concurrency,
        grants: grants_out,
        environment: env.vars.into_iter().map(|(k, (v, _))| (k, v)).collect(),
    })
}

enum Ref {
    Table(String),
    CallbackUrl,
    Parameter(String),
}

fn env_ref(r: &EnvRef, at: &str, cx: &Context<'_>, p: &mut Vec<Problem>) -> Option<Ref> {
    let set = [
        r.table.is_some(),
        r.callback_url.is_some(),
        r.parameter.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        p.push(Problem::value(
            at,
            format!("a reference names exactly one thing, this one names {set}"),
            "one of {table: T}, {callbackUrl: true}, {parameter: P}",
        ));
        return None;
    }
    if let Some(t) = &r.table {
        if !cx.tables.iter().any(|x| &x.name == t) {
            p.push(Problem::value(
                child(at, "table"),
                format!("no table `{t}` in this stack file"),
                "a table declared under `tables:`",
            ));
            return None;
        }
        return Some(Ref::Table(t.clone()));
    }
    if let Some(c) = r.callback_url {
        if !c {
            p.push(Problem::value(
                child(at, "callbackUrl"),
                "`callbackUrl: false` sets nothing",
                "`callbackUrl: true`, or no variable",
            ));
            return None;
        }
        return Some(Ref::CallbackUrl);
    }
    r.parameter.clone().map(Ref::Parameter)
}
