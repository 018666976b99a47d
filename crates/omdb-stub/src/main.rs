//! `omdb-stub`: run the OMDB stub standalone for local development.
//!
//! ```text
//! cargo run -p omdb-stub -- --port 8089 --seed 7 --latency uniform:20..120 --fault reset=0.01
//! ```
//! On Ctrl-C or SIGTERM it prints the client-strategy verdict and dumps the
//! connection ledger as JSON (to `--ledger-out FILE`, or stdout).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use omdb_stub::{CLASSIFY_PATH, Fault, LEDGER_PATH, Latency, OmdbStub, StubConfig, classify};

/// OMDB API stub with a connection ledger (binds 127.0.0.1 only).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8089, env = "OMDB_STUB_PORT")]
    port: u16,
    /// Base configuration as TOML (the same table a scenario embeds);
    /// the flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed of latency and fault draws.
    #[arg(long)]
    seed: Option<u64>,
    /// Latency model: fixed:MS, uniform:MIN..MAX or lognormal:MEDIAN,SIGMA.
    #[arg(long)]
    latency: Option<Latency>,
    /// A fault and its probability, e.g. `reset=0.01`; repeatable. Kinds:
    /// not-found, http-500, rate-limit, malformed-json, timeout, reset.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<(Fault, f64)>,
    /// Delay of the timeout fault, in milliseconds.
    #[arg(long)]
    timeout_delay_ms: Option<u64>,
    /// Accept only this API key (default: any key).
    #[arg(long, env = "OMDB_API_KEY")]
    api_key: Option<String>,
    /// Calls one wiremock backend takes before it is reset [default: 500].
    #[arg(long)]
    rotate_after_requests: Option<u64>,
    /// Write the ledger JSON here on exit instead of stdout.
    #[arg(long)]
    ledger_out: Option<PathBuf>,
}

fn parse_fault(s: &str) -> Result<(Fault, f64), String> {
    let (kind, p) = s
        .split_once('=')
        .ok_or("expected KIND=PROBABILITY, e.g. reset=0.01")?;
    let fault: Fault = kind
        .parse()
        .map_err(|e: omdb_stub::ConfigError| e.to_string())?;
    let p: f64 = p
        .trim()
        .parse()
        .map_err(|_| format!("`{p}` is not a probability"))?;
    Ok((fault, p))
}

fn config_from(cli: &Cli) -> anyhow::Result<StubConfig> {
    let mut config = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => StubConfig::default(),
    };
    if let Some(seed) = cli.seed {
        config.seed = seed;
    }
    if let Some(latency) = &cli.latency {
        config.latency = latency.clone();
    }
    for (fault, p) in &cli.faults {
        config.faults.set_probability(*fault, *p);
    }
    if let Some(ms) = cli.timeout_delay_ms {
        config.faults.timeout_delay_ms = ms;
    }
    if cli.api_key.is_some() {
        config.api_key.clone_from(&cli.api_key);
    }
    if let Some(n) = cli.rotate_after_requests {
        config.rotate_after_requests = n;
    }
    config.validate()?;
    Ok(config)
}

async fn wait_for_signal() -> anyhow::Result<&'static str> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => { r.context("waiting for Ctrl-C")?; Ok("Ctrl-C") }
        _ = term.recv() => Ok("SIGTERM"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = match config_from(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let catalog = Arc::new(
        movie_fixtures::Catalog::embedded().context("loading the embedded movie fixtures")?,
    );
    let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, cli.port));
    let stub = OmdbStub::start(config.clone(), Arc::clone(&catalog), bind).await?;
    let url = stub.url();
    let sample = catalog
        .rows(1)
        .next()
        .map(|m| m.imdb_id)
        .unwrap_or_default();
    println!(
        "OMDB stub on {url} ({} films, latency {}, seed {})",
        catalog.base_len(),
        config.latency,
        config.seed
    );
    println!("Point a service at it:");
    println!("  export OMDB_BASE_URL={url}");
    println!(
        "  export OMDB_API_KEY={}",
        config.api_key.as_deref().unwrap_or("any-key")
    );
    println!("Try:    curl '{url}/?apikey=k&i={sample}'");
    println!("Ledger: curl {url}{LEDGER_PATH}   verdict: curl {url}{CLASSIFY_PATH}");
    println!(
        "Stop with Ctrl-C: the ledger JSON is then written to {}",
        cli.ledger_out
            .as_ref()
            .map_or("stdout".to_string(), |p| p.display().to_string())
    );
    let signal = wait_for_signal().await?;
    let snapshot = stub.shutdown().await;
    let verdict = classify(&snapshot);
    eprintln!(
        "{signal}: stopped after {} calls on {} connections (max {} open). Client strategy: {} — {}",
        snapshot.requests_total,
        snapshot.connections.len(),
        snapshot.max_open_connections,
        verdict.strategy,
        verdict.explanation
    );
    let json = serde_json::to_string_pretty(&snapshot)?;
    match &cli.ledger_out {
        Some(path) => {
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("ledger written to {}", path.display());
        }
        None => println!("{json}"),
    }
    Ok(())
}
