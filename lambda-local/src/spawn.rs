//! Function processes that die with their parent, even when the parent is killed with SIGKILL.
//!
//! Each child asks the kernel for `SIGKILL` when its parent goes (`prctl(PR_SET_PDEATHSIG)`, in `pre_exec`).
//! Linux ties that signal to the *thread* that forked the child, not to the process, so a long-running parent
//! (`sockstack dev`) spawns every child from one thread that lives as long as it does ([`Spawner`]); a child
//! forked from a short-lived tokio worker would be killed when that worker retires. A test, whose thread
//! outlives the children it starts, can call [`spawn_dying_with_parent`] directly. Each child also gets a
//! process group of its own, so a terminal's Ctrl-C reaches the parent alone and the parent stops its
//! children in order.

use std::io;
use std::sync::mpsc as std_mpsc;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

type Request = (Command, oneshot::Sender<io::Result<Child>>);

/// Spawns child processes from one long-lived thread, each with `PR_SET_PDEATHSIG(SIGKILL)`.
#[derive(Clone)]
pub struct Spawner {
    requests: std_mpsc::Sender<Request>,
}

impl Spawner {
    /// Starts the spawning thread inside the current tokio runtime.
    pub fn new() -> io::Result<Spawner> {
        let (requests, incoming) = std_mpsc::channel::<Request>();
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("sockstack-spawner".into())
            .spawn(move || {
                let _guard = runtime.enter();
                while let Ok((mut command, reply)) = incoming.recv() {
                    let _ = reply.send(spawn_dying_with_parent(&mut command));
                }
            })?;
        Ok(Spawner { requests })
    }

    /// Spawns `command`; the child is killed when this process exits, however it exits.
    pub async fn spawn(&self, command: Command) -> io::Result<Child> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((command, reply))
            .map_err(|_| io::Error::other("the spawner thread has stopped"))?;
        answer
            .await
            .map_err(|_| io::Error::other("the spawner thread has stopped"))?
    }
}

/// Spawns `command` (inside a tokio runtime) so that the kernel kills the child with `SIGKILL` when the
/// *calling thread* ends, which is when the process ends if that thread is the main thread, a test's thread or
/// the [`Spawner`]'s. The child is also killed when its [`Child`] is dropped, and runs in a process group of
/// its own.
pub fn spawn_dying_with_parent(command: &mut Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    command.kill_on_drop(true);
    // A process group of its own: Ctrl-C in a terminal signals the foreground group, and the parent, not the
    // terminal, decides when its children stop (`sockstack dev`: after the last `$disconnect` has run).
    command.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe functions
    // (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nothing would ever signal us.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn children_run_and_are_reaped() {
        let spawner = Spawner::new().unwrap();
        let mut command = Command::new("sh");
        command.arg("-c").arg("exit 3");
        let mut child = spawner.spawn(command).await.unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(3));
    }
}
