//! Ctrl-C and SIGTERM. The first one stops the load and lets the run tear down as usual;
//! a second one kills every process group the harness started and exits at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::watch;

static INTERRUPTS: AtomicU32 = AtomicU32::new(0);
static PROCESS_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Output directories (and scenario names) of the runs under way.
static RUNS: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
static CHANNEL: OnceLock<watch::Sender<bool>> = OnceLock::new();

/// Exit status used when a run was interrupted (128 + SIGINT, as shells do).
pub const INTERRUPTED_EXIT: i32 = 130;

/// A handle that tells whether the run was interrupted and waits for it.
#[derive(Debug, Clone)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

impl Interrupt {
    /// Installs the process-wide handler (once; later calls share it). It also keeps goose
    /// from installing its own handler, which would exit without tearing down.
    pub fn install() -> Interrupt {
        let tx = CHANNEL.get_or_init(|| {
            let (tx, _) = watch::channel(false);
            if let Err(e) = ctrlc::set_handler(on_signal) {
                tracing::warn!("cannot install the Ctrl-C handler: {e}");
            }
            tx
        });
        Interrupt { rx: tx.subscribe() }
    }

    /// Whether Ctrl-C or SIGTERM has arrived.
    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when Ctrl-C or SIGTERM arrives (never, if it does not).
    pub async fn wait(&mut self) {
        if self.rx.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn on_signal() {
    if INTERRUPTS.fetch_add(1, Ordering::SeqCst) == 0 {
        eprintln!(
            "\ninterrupted: stopping the load and tearing down (press Ctrl-C again to kill everything now)"
        );
        goose::trigger_killswitch("interrupted by the user");
        if let Some(tx) = CHANNEL.get() {
            tx.send_replace(true);
        }
    } else {
        eprintln!("\ninterrupted twice: killing the service now");
        kill_registered_groups();
        memwatch::remove_own_cgroups();
        report_runs_interrupted();
        std::process::exit(INTERRUPTED_EXIT);
    }
}

/// Remembers a process group to kill if the harness must exit abruptly.
pub fn register_process_group(pgid: i32) {
    if let Ok(mut groups) = PROCESS_GROUPS.lock() {
        groups.push(pgid);
    }
}

/// Forgets a process group once it has been torn down.
pub fn unregister_process_group(pgid: i32) {
    if let Ok(mut groups) = PROCESS_GROUPS.lock() {
        groups.retain(|g| *g != pgid);
    }
}

fn kill_registered_groups() {
    if let Ok(groups) = PROCESS_GROUPS.lock() {
        for &pgid in groups.iter() {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// Registers a run's output directory until the guard is dropped: if a second Ctrl-C
/// makes the harness exit at once, the directory still gets its "interrupted" report.
pub fn report_on_abrupt_exit(out_dir: &Path, scenario: &str) -> RunRegistration {
    let entry = (out_dir.to_path_buf(), scenario.to_string());
    if let Ok(mut runs) = RUNS.lock() {
        runs.push(entry.clone());
    }
    RunRegistration { entry }
}

/// Keeps a run registered for [`report_on_abrupt_exit`] while alive.
#[derive(Debug)]
pub struct RunRegistration {
    entry: (PathBuf, String),
}

impl Drop for RunRegistration {
    fn drop(&mut self) {
        if let Ok(mut runs) = RUNS.lock() {
            runs.retain(|r| *r != self.entry);
        }
    }
}

fn report_runs_interrupted() {
    if let Ok(runs) = RUNS.lock() {
        for (dir, scenario) in runs.iter() {
            let why = crate::report::NotEvaluated::Interrupted;
            if let Err(e) = crate::report::write_not_evaluated(dir, scenario, why) {
                eprintln!("{e}");
            }
        }
    }
}
