//! `sockstack dev`: a stack's whole WebSocket backend on this machine, running the real handlers.
//!
//! The stack is synthesized in memory ([`project::stack_template`]) and its template read the way API Gateway
//! would ([`plan`]); the handler binaries are built with cargo ([`build`]) and run as long-lived processes
//! against local Lambda Runtime APIs ([`instances`], on the `sockstack-lambda-local` crate, which the handler
//! crates' tests use too), children that die with dev; the WebSocket gateway and `@connections` ([`gateway`])
//! send them API Gateway's events ([`events`], [`policy`]); tables live on a local DynamoDB ([`dynamo`];
//! `existing` tables from the stack file's key schema, [`existing`]), the SSM parameters and secrets the
//! functions may read ([`granted`]) on the same moto_server, seeded from the project's values file
//! ([`values`], [`params`]), and tokens come from a local issuer ([`issuer`]).

pub mod build;
pub mod dynamo;
pub mod events;
pub mod existing;
pub mod gateway;
pub mod granted;
pub mod instances;
pub mod issuer;
pub mod params;
pub mod plan;
pub mod policy;
pub mod project;
pub mod resolve;
pub mod values;
pub mod watch;

use build::Build;
use instances::{FunctionSpec, Log, Pool, StderrLog};
use plan::Plan;
use sockstack_lambda_local::{FunctionIdentity, Spawner};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where the authorizer's keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// A local issuer: its JWKS on 127.0.0.1, tokens from `sockstack dev token`.
    Local,
    /// The stack's own JWKS settings, unchanged.
    Stack,
}

/// What `sockstack dev` runs.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// The stack: a name under `stacks/` or a path.
    pub stack: String,
    /// The port (0: a free one).
    pub port: u16,
    /// Build the handlers with `--release`.
    pub release: bool,
    /// Rebuild and swap handlers when their sources change.
    pub watch: bool,
    /// Where the authorizer's keys come from.
    pub auth: AuthMode,
    /// A DynamoDB to use instead of starting moto_server.
    pub dynamodb_endpoint: Option<String>,
    /// Idle and maximum connection time.
    pub limits: gateway::Limits,
    /// The most instances of one function at once.
    pub max_instances: usize,
}

/// Why dev could not run.
#[derive(Debug)]
pub enum DevError {
    /// The stack could not be found or synthesized.
    Stack(project::StackError),
    /// The template has something dev cannot run.
    Plan(plan::PlanError),
    /// A step failed (build, DynamoDB, a function's start, …).
    Failed(String),
}

impl fmt::Display for DevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevError::Stack(e) => write!(f, "{e}"),
            DevError::Plan(e) => write!(f, "{e}"),
            DevError::Failed(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for DevError {}

impl From<project::StackError> for DevError {
    fn from(e: project::StackError) -> DevError {
        DevError::Stack(e)
    }
}

impl From<plan::PlanError> for DevError {
    fn from(e: plan::PlanError) -> DevError {
        DevError::Plan(e)
    }
}

/// The stack's template and its local plan (before the gateway's port is known).
struct Loaded {
    root: std::path::PathBuf,
    /// The stack's local name (its file's stem).
    stack: String,
    template: crate::raw::RawTemplate,
    plan: Plan,
}

fn load(cwd: &Path, stack: &str) -> Result<Loaded, DevError> {
    let root = project::project_root(cwd)?;
    let file = project::stack_file(&root, stack)?;
    let (template, model) = project::stack_synthesized(&root, &file)?;
    let stack = project::stack_name(&file);
    let mut plan = Plan::read(&template, &stack, &project::handler_of)?;
    plan.existing_tables = existing::tables(&model);
    Ok(Loaded {
        root,
        stack,
        template,
        plan,
    })
}

/// The values of the SSM parameters and secrets of stack `stack`, checked against what its functions are
/// granted (every one needs a value).
fn local_values(root: &Path, stack: &str, plan: &Plan) -> Result<values::Values, DevError> {
    let file = values::path(root, stack);
    let shown = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
    let read = values::read(&file).map_err(DevError::Failed)?;
    let granted = plan.granted();
    values::check(&read, &granted, &shown).map_err(DevError::Failed)?;
    for warning in values::ungranted(&read, &granted) {
        StderrLog.line(&format!("{}: {warning} (seeded anyway)", shown.display()));
    }
    Ok(read)
}

/// The authorizer function's token settings, if the stack has an authorizer.
fn auth_settings(plan: &Plan) -> Option<(String, issuer::AuthSettings)> {
    let authorizer = plan.authorizer.as_ref()?;
    let function = plan.functions.get(&authorizer.function)?;
    Some((
        authorizer.function.clone(),
        issuer::AuthSettings::from_environment(&function.environment),
    ))
}

/// `sockstack dev token`: a JWT the local issuer of this project signs, with the stack's `iss` and `aud`.
pub fn token(
    cwd: &Path,
    stack: &str,
    claims: &[(String, String)],
    expires_in_secs: i64,
) -> Result<String, DevError> {
    let Loaded { root, plan, .. } = load(cwd, stack)?;
    let (_, settings) = auth_settings(&plan).ok_or_else(|| {
        DevError::Failed(format!(
            "stack {stack} has no authorizer on $connect: it needs no token"
        ))
    })?;
    let issuer = issuer::Issuer::load_or_create(&issuer::Issuer::key_path(&root))
        .map_err(DevError::Failed)?;
    issuer
        .token(&settings, claims, events::now_ms() / 1000, expires_in_secs)
        .map_err(DevError::Failed)
}

/// Runs `sockstack dev` until SIGINT or SIGTERM, then stops everything it started.
pub fn run(options: &DevOptions, cwd: &Path) -> Result<(), DevError> {
    let Loaded {
        root,
        stack,
        template,
        plan,
    } = load(cwd, &options.stack)?;
    let values = local_values(&root, &stack, &plan)?;
    let builder: Arc<dyn Build> = Arc::new(build::Cargo {
        krate: project::handler_crate(&root),
    });
    let binaries = builder.build(options.release).map_err(DevError::Failed)?;
    for f in plan.functions.values() {
        if !binaries.contains_key(&f.handler) {
            return Err(DevError::Failed(format!(
                "function {} needs the handler binary {:?}, which the handler crate does not build (it builds: {})",
                f.logical_id,
                f.handler,
                binaries.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DevError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(
        options, &root, &template, plan, &values, binaries, builder,
    ))
}

async fn serve(
    options: &DevOptions,
    root: &Path,
    template: &crate::raw::RawTemplate,
    plan: Plan,
    values: &values::Values,
    binaries: BTreeMap<String, std::path::PathBuf>,
    builder: Arc<dyn Build>,
) -> Result<(), DevError> {
    let log: Arc<dyn Log> = Arc::new(StderrLog);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| {
            DevError::Failed(format!("cannot listen on 127.0.0.1:{}: {e}", options.port))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| DevError::Failed(e.to_string()))?;
    let plan = plan.at(template, &addr.to_string())?;
    let spawner = Spawner::new().map_err(|e| DevError::Failed(e.to_string()))?;

    let mut dynamo = match &options.dynamodb_endpoint {
        Some(endpoint) => dynamo::LocalDynamo::at(endpoint),
        None => {
            let moto = dynamo::find_or_install_moto(root, &|l| log.line(l))
                .await
                .map_err(DevError::Failed)?;
            dynamo::LocalDynamo::start_moto(&moto, &spawner)
                .await
                .map_err(DevError::Failed)?
        }
    };
    // SSM and Secrets Manager: the moto that serves DynamoDB serves them too; next to a DynamoDB of the
    // user's (which serves neither), a moto of their own, started only when the stack needs one.
    let needs_values = !values.is_empty() || !plan.granted().is_empty();
    let mut values_moto = None;
    if !dynamo.is_ours() && needs_values {
        let started = match dynamo::find_or_install_moto(root, &|l| log.line(l)).await {
            Ok(moto) => dynamo::LocalDynamo::start_moto(&moto, &spawner).await,
            Err(e) => Err(e),
        };
        match started {
            Ok(moto) => values_moto = Some(moto),
            Err(e) => {
                dynamo.stop().await;
                return Err(DevError::Failed(e));
            }
        }
    }
    let values_endpoint = match &values_moto {
        Some(moto) => Some(moto.endpoint.clone()),
        None => dynamo.is_ours().then(|| dynamo.endpoint.clone()),
    };
    let started = async {
        if let Some(endpoint) = &values_endpoint {
            params::seed(endpoint, values)
                .await
                .map_err(DevError::Failed)?;
        }
        start(
            options,
            root,
            &plan,
            &binaries,
            &spawner,
            &log,
            &mut dynamo,
            values_endpoint.as_deref(),
            addr,
        )
        .await
    }
    .await;
    let (pools, local_issuer) = match started {
        Ok(s) => s,
        Err(e) => {
            dynamo.stop().await;
            if let Some(mut moto) = values_moto {
                moto.stop().await;
            }
            return Err(e);
        }
    };

    let invokers = pools
        .iter()
        .map(|(id, p)| (id.clone(), p.clone() as Arc<dyn instances::Invoke>))
        .collect();
    let gateway = gateway::Gateway::new(
        plan.clone(),
        invokers,
        options.limits,
        local_issuer,
        log.clone(),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = gateway
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    {
        let mut out = std::io::stdout().lock();
        let stage = plan.stage();
        let _ = writeln!(out, "ready: ws://{addr}/{stage}");
        let _ = writeln!(out, "callback: http://{addr}/{stage}/@connections");
        let _ = writeln!(out, "dynamodb: {}", dynamo.endpoint);
        if let Some(endpoint) = &values_endpoint {
            let _ = writeln!(out, "ssm: {endpoint}");
            let _ = writeln!(out, "secretsmanager: {endpoint}");
        }
        let _ = out.flush();
    }
    log.line(&format!(
        "sockstack dev: {} route(s), {} function(s), {} table(s); page at http://{addr}/; Ctrl-C stops",
        plan.routes.len(),
        plan.functions.len(),
        plan.tables.len() + plan.existing_tables.len()
    ));

    let watcher = options.watch.then(|| {
        let pools = plan
            .functions
            .values()
            .map(|f| {
                (
                    f.logical_id.clone(),
                    (f.handler.clone(), pools[&f.logical_id].clone()),
                )
            })
            .collect();
        log.line("watching the handler sources (--watch)");
        tokio::spawn(watch::watch(
            project::handler_crate(root).sources,
            builder,
            options.release,
            pools,
            binaries.clone(),
            log.clone(),
        ))
    });

    wait_for_signal().await;
    if let Some(w) = watcher {
        w.abort();
    }
    log.line("stopping: closing sockets, stopping functions and DynamoDB");
    gateway.shutdown(Duration::from_secs(5)).await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    for pool in pools.values() {
        pool.stop().await;
    }
    dynamo.stop().await;
    if let Some(mut moto) = values_moto {
        moto.stop().await;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn start(
    options: &DevOptions,
    root: &Path,
    plan: &Plan,
    binaries: &BTreeMap<String, std::path::PathBuf>,
    spawner: &Spawner,
    log: &Arc<dyn Log>,
    dynamo: &mut dynamo::LocalDynamo,
    values_endpoint: Option<&str>,
    addr: std::net::SocketAddr,
) -> Result<(BTreeMap<String, Arc<Pool>>, Option<gateway::LocalIssuer>), DevError> {
    for table in plan.tables.values() {
        dynamo.create_table(table).await.map_err(DevError::Failed)?;
        log.line(&format!("table {} -> {}", table.logical_id, table.name));
    }
    for table in plan.existing_tables.values() {
        dynamo.create_table(table).await.map_err(DevError::Failed)?;
        log.line(&format!(
            "table {} (existing, key schema from the stack file) -> {}",
            table.logical_id, table.name
        ));
    }
    let mut overrides: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut local_issuer = None;
    if options.auth == AuthMode::Local
        && let Some((function, settings)) = auth_settings(plan)
    {
        let issuer = issuer::Issuer::load_or_create(&issuer::Issuer::key_path(root))
            .map_err(DevError::Failed)?;
        if let Some(var) = &settings.jwks_variable {
            overrides
                .entry(function)
                .or_default()
                .push((var.clone(), format!("http://{addr}{}", issuer::JWKS_PATH)));
        }
        local_issuer = Some(gateway::LocalIssuer { issuer, settings });
    }
    let mut pools = BTreeMap::new();
    for f in plan.functions.values() {
        let mut identity = FunctionIdentity::local(&f.name, f.memory_mb);
        if let Some(format) = &f.log_format {
            identity
                .extra
                .push(("AWS_LAMBDA_LOG_FORMAT".into(), format.clone()));
        }
        let mut environment: Vec<(String, String)> = f
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        environment.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), dynamo.endpoint.clone()));
        if let Some(endpoint) = values_endpoint {
            for variable in params::ENDPOINT_VARIABLES {
                environment.push((variable.into(), endpoint.to_string()));
            }
        }
        for (k, v) in overrides.get(&f.logical_id).into_iter().flatten() {
            environment.retain(|(name, _)| name != k);
            environment.push((k.clone(), v.clone()));
        }
        let spec = FunctionSpec {
            identity,
            binary: binaries[&f.handler].clone(),
            environment,
            timeout: Duration::from_secs(f.timeout_secs),
            max_instances: options.max_instances,
        };
        pools.insert(
            f.logical_id.clone(),
            Arc::new(Pool::new(spec, spawner.clone(), log.clone())),
        );
    }
    let warmed = futures_util::future::join_all(pools.iter().map(|(id, pool)| async move {
        pool.warm()
            .await
            .map_err(|e| format!("function {id} ({}) {e}", pool.name()))
    }))
    .await;
    let failures: Vec<String> = warmed.into_iter().filter_map(Result::err).collect();
    if !failures.is_empty() {
        for pool in pools.values() {
            pool.stop().await;
        }
        return Err(DevError::Failed(failures.join("\n")));
    }
    Ok((pools, local_issuer))
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
