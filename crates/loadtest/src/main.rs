//! `loadtest` binary: parse the command line, run, map the result to an exit status.

use std::path::{Path, PathBuf};

use clap::Parser;
use loadtest::cli::{Cli, Command, ReproduceArgs, RunArgs, ServiceBinaryArgs};
use loadtest::exit::Exit;
use loadtest::interrupt::{INTERRUPTED_EXIT, Interrupt};
use loadtest::report::terminal;
use loadtest::reproduce::{self, ReproduceError};
use loadtest::run::{RunError, RunOptions, run_scenario, uses_enrichment_service};
use loadtest::scenario::{GateMode, load_scenario};
use loadtest::service_binary::locate_or_build;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                Exit::BadInput.code()
            } else {
                0
            });
        }
    };
    init_tracing(cli.verbose);
    let interrupt = Interrupt::install();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::CouldNotRun.code());
        }
    };
    let progress = !cli.no_progress;
    if matches!(
        cli.command,
        None | Some(Command::Reproduce(_)) | Some(Command::Run(_))
    ) {
        for group in memwatch::sweep_stale_cgroups() {
            tracing::warn!(
                "removed a memory cgroup left by an earlier run that was killed: {}",
                group.display()
            );
        }
    }
    let code = runtime.block_on(async move {
        match cli.command {
            None => reproduce_command(&cli.reproduce, progress, interrupt).await,
            Some(Command::Reproduce(args)) => reproduce_command(&args, progress, interrupt).await,
            Some(Command::Run(args)) => run_command(&args, progress, interrupt).await,
            Some(Command::Check(args)) => match load_scenario(&args.scenario, &args.overrides) {
                Ok(s) => {
                    println!("ok: {} ({})", args.scenario.display(), s.name);
                    if s.gates.client_per_call != GateMode::Off {
                        for caveat in s.client_strategy_caveats() {
                            println!(
                                "note: the client-per-call verdict may be wrong with {caveat}"
                            );
                        }
                    }
                    Exit::Pass.code()
                }
                Err(e) => bad_input(e),
            },
        }
    });
    // Goose users or reader threads may still hold the runtime: do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    std::process::exit(code);
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "loadtest=info,omdb_stub=warn,memwatch=warn,goose=error,warn",
        1 => "info,goose=warn",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("OOMGUARD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// The workspace root: where this crate was built from when it is still there, else the
/// current directory.
fn workspace_root() -> PathBuf {
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if built_in.join("scenarios").is_dir() {
        built_in.canonicalize().unwrap_or(built_in)
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }
}

fn bad_input(e: impl std::fmt::Display) -> i32 {
    eprintln!("error: {e}");
    Exit::BadInput.code()
}

fn could_not_run(e: impl std::fmt::Display) -> i32 {
    eprintln!("error: {e}");
    Exit::CouldNotRun.code()
}

fn service_binary(args: &ServiceBinaryArgs, workspace: &Path) -> Result<PathBuf, i32> {
    locate_or_build(args.service_bin.as_deref(), workspace, args.profile).map_err(|e| {
        if args.service_bin.is_some() {
            bad_input(e)
        } else {
            could_not_run(e)
        }
    })
}

async fn run_command(args: &RunArgs, progress: bool, interrupt: Interrupt) -> i32 {
    let scenario = match load_scenario(&args.scenario, &args.overrides) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let workspace = workspace_root();
    let enrichment_service = if uses_enrichment_service(&scenario) {
        match service_binary(&args.binary, &workspace) {
            Ok(bin) => Some(bin),
            Err(code) => return code,
        }
    } else {
        None
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| workspace.join("target/oomguard").join(&scenario.name));
    let opts = RunOptions {
        out_dir,
        workspace,
        enrichment_service,
        progress,
    };
    match run_scenario(&scenario, &opts, interrupt).await {
        Ok(outcome) => {
            println!("{}", terminal::run_summary(&outcome));
            if outcome.passed {
                Exit::Pass.code()
            } else {
                Exit::GateFailed.code()
            }
        }
        Err(RunError::Interrupted) => INTERRUPTED_EXIT,
        Err(e) => could_not_run(e),
    }
}

async fn reproduce_command(args: &ReproduceArgs, progress: bool, interrupt: Interrupt) -> i32 {
    let workspace = workspace_root();
    let bin = match service_binary(&args.binary, &workspace) {
        Ok(bin) => bin,
        Err(code) => return code,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace.join("target/oomguard/reproduce"));
    match reproduce::reproduce(&workspace, &out, bin, progress, interrupt).await {
        Ok(r) => {
            println!("{}", reproduce::render(&r));
            if r.surprises().is_empty() {
                Exit::Pass.code()
            } else {
                Exit::GateFailed.code()
            }
        }
        Err(ReproduceError::Run(RunError::Interrupted)) => INTERRUPTED_EXIT,
        Err(ReproduceError::Scenario(e)) => bad_input(e),
        Err(e) => could_not_run(e),
    }
}
