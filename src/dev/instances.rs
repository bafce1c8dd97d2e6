//! Function instances, the way Lambda keeps them: long-lived processes, each with its own Runtime API; an
//! extra instance starts when every instance is busy (up to a bound per function); the template's `Timeout`
//! is enforced by killing the instance; a crashed or timed-out instance is replaced on the next invocation.
//! Each instance's stdout and stderr lines go to the [`Log`], prefixed with the function's name.

use sockstack_lambda_local::{FunctionIdentity, Outcome, RuntimeApi, Spawner, function_command};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::Semaphore;

/// Where dev's terminal lines go.
pub trait Log: Send + Sync {
    /// One line.
    fn line(&self, line: &str);
}

/// Lines on stderr.
pub struct StderrLog;

impl Log for StderrLog {
    fn line(&self, line: &str) {
        use std::io::Write;
        // One write per line (`eprintln!` on unbuffered stderr writes the line and its newline apart).
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// What the gateway invokes for a function: a [`Pool`] of processes, or an in-process stand-in (the
/// benchmarks' no-Lambda baseline).
pub trait Invoke: Send + Sync {
    /// Invokes the function with `event` (JSON bytes); its answer's bytes.
    fn invoke(
        &self,
        event: Vec<u8>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<u8>, InvokeError>> + Send + '_>,
    >;
}

impl Invoke for Pool {
    fn invoke(
        &self,
        event: Vec<u8>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<u8>, InvokeError>> + Send + '_>,
    > {
        Box::pin(Pool::invoke(self, event))
    }
}

/// How long a new process may take to reach its first `next` (Lambda's init phase limit).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a function pool runs.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's identity (name, ARN, memory, log group).
    pub identity: FunctionIdentity,
    /// The executable.
    pub binary: PathBuf,
    /// The function's own environment, on top of Lambda's.
    pub environment: Vec<(String, String)>,
    /// The invocation timeout.
    pub timeout: Duration,
    /// The most instances at once.
    pub max_instances: usize,
}

/// Why an invocation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function reported an error.
    Function {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// It did not answer within its timeout.
    Timeout(Duration),
    /// The process exited (or could not start) before answering.
    Crashed(String),
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvokeError::Function {
                error_type,
                message,
            } => write!(f, "{error_type}: {message}"),
            InvokeError::Timeout(d) => write!(f, "timed out after {:.1} s", d.as_secs_f64()),
            InvokeError::Crashed(why) => write!(f, "crashed: {why}"),
        }
    }
}

struct Instance {
    api: RuntimeApi,
    child: Child,
    number: u64,
}

impl Instance {
    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

/// The instances of one function.
pub struct Pool {
    spec: Mutex<FunctionSpec>,
    spawner: Spawner,
    log: Arc<dyn Log>,
    idle: Mutex<Vec<Instance>>,
    slots: Semaphore,
    started: AtomicU64,
    generation: AtomicUsize,
}

impl Pool {
    /// A pool with no instance yet.
    pub fn new(spec: FunctionSpec, spawner: Spawner, log: Arc<dyn Log>) -> Pool {
        let slots = Semaphore::new(spec.max_instances.max(1));
        Pool {
            spec: Mutex::new(spec),
            spawner,
            log,
            idle: Mutex::new(Vec::new()),
            slots,
            started: AtomicU64::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    /// The function's name.
    pub fn name(&self) -> String {
        self.spec.lock().expect("lock").identity.name.clone()
    }

    /// How many instances have been started so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    async fn spawn(&self) -> Result<(Instance, usize), InvokeError> {
        let (spec, generation) = {
            let spec = self.spec.lock().expect("lock");
            (spec.clone(), self.generation.load(Ordering::SeqCst))
        };
        let api = RuntimeApi::start(&spec.identity)
            .await
            .map_err(|e| InvokeError::Crashed(format!("cannot start its Runtime API: {e}")))?;
        let command = function_command(
            &spec.binary,
            &spec.identity,
            &api.address(),
            &spec.environment,
        );
        let mut child = self.spawner.spawn(command).await.map_err(|e| {
            InvokeError::Crashed(format!("cannot run {}: {e}", spec.binary.display()))
        })?;
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let prefix = spec.identity.name.clone();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let log = self.log.clone();
            let prefix = prefix.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.line(&format!("{prefix} | {line}"));
                }
            });
        }
        Ok((Instance { api, child, number }, generation))
    }

    /// Starts one instance and waits until it polls for work: a function that cannot start fails here, with
    /// its init error or exit status.
    pub async fn warm(&self) -> Result<(), InvokeError> {
        let (mut instance, _) = self.spawn().await?;
        let ready = tokio::time::timeout(INIT_TIMEOUT, async {
            tokio::select! {
                _ = instance.api.wait_ready() => None,
                status = instance.child.wait() => Some(status),
            }
        })
        .await;
        match ready {
            Err(_) => Err(InvokeError::Crashed(format!(
                "did not poll the Runtime API within {} s",
                INIT_TIMEOUT.as_secs()
            ))),
            Ok(Some(status)) => Err(InvokeError::Crashed(format!(
                "exited during init ({}){}",
                status.map(|s| s.to_string()).unwrap_or_default(),
                instance
                    .api
                    .init_error()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ))),
            Ok(None) => {
                if let Some(e) = instance.api.init_error() {
                    let _ = instance.child.kill().await;
                    return Err(InvokeError::Crashed(format!("init error: {e}")));
                }
                self.idle.lock().expect("lock").push(instance);
                Ok(())
            }
        }
    }

    /// Invokes the function with `event`; the answer's bytes, or why there is none.
    pub async fn invoke(&self, event: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| InvokeError::Crashed("the function is stopping".into()))?;
        let reused = loop {
            let candidate = self.idle.lock().expect("lock").pop();
            match candidate {
                Some(mut i) => {
                    if !i.exited() {
                        break Some(i);
                    }
                    self.log.line(&format!(
                        "{} | instance {} had exited; starting another",
                        self.name(),
                        i.number
                    ));
                    let _ = i.child.wait().await;
                }
                None => break None,
            }
        };
        let (mut instance, generation) = match reused {
            Some(i) => (i, self.generation.load(Ordering::SeqCst)),
            None => self.spawn().await?,
        };
        let timeout = self.spec.lock().expect("lock").timeout;
        let outcome = tokio::select! {
            o = instance.api.invoke(event, timeout) => Ok(o),
            status = instance.child.wait() => Err(status),
            _ = tokio::time::sleep(timeout + INIT_TIMEOUT) => Ok(Outcome::Timeout),
        };
        let result = match outcome {
            Ok(Outcome::Response(bytes)) => Ok(bytes),
            Ok(Outcome::Error {
                error_type,
                error_message,
            }) => Err(InvokeError::Function {
                error_type,
                message: error_message,
            }),
            Ok(Outcome::Timeout) => Err(InvokeError::Timeout(timeout)),
            Err(status) => Err(InvokeError::Crashed(
                status
                    .map(|s| format!("process {s}"))
                    .unwrap_or_else(|e| e.to_string()),
            )),
        };
        let keep = match &result {
            Ok(_) | Err(InvokeError::Function { .. }) => {
                generation == self.generation.load(Ordering::SeqCst)
            }
            _ => false,
        };
        if keep {
            self.idle.lock().expect("lock").push(instance);
        } else {
            let _ = instance.child.start_kill();
            let _ = instance.child.wait().await;
        }
        result
    }

    /// Replaces the executable (after a rebuild): idle instances stop now, busy ones after their invocation,
    /// and new ones run `binary`.
    pub async fn swap(&self, binary: PathBuf) {
        self.spec.lock().expect("lock").binary = binary;
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.stop_idle().await;
    }

    async fn stop_idle(&self) {
        let idle: Vec<Instance> = std::mem::take(&mut *self.idle.lock().expect("lock"));
        for mut i in idle {
            let _ = i.child.start_kill();
            let _ = i.child.wait().await;
        }
    }

    /// Stops every idle instance (busy ones are killed when their invocation ends or dev exits).
    pub async fn stop(&self) {
        self.slots.close();
        self.stop_idle().await;
    }
}
