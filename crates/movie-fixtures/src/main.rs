//! `movie-fixtures`: write the SQLite movie fixture.
//!
//! `cargo run -p movie-fixtures -- --out PATH [--rows N] [--dataset PATH]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use movie_fixtures::{Catalog, write_sqlite};

/// Write the oomguard movie fixture (SQLite, table `movies`).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The SQLite file to write (replaced atomically if it exists).
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Number of rows; more than the dataset's films repeats it with new ids.
    /// Default: every usable film once (3200).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    rows: Option<u64>,
    /// A dataset in the vega-datasets movies.json shape instead of the embedded one.
    #[arg(long, value_name = "PATH")]
    dataset: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("movie-fixtures: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<String> {
    let started = Instant::now();
    let catalog = match &cli.dataset {
        Some(path) => Catalog::from_json_file(path)?,
        None => Catalog::embedded()?,
    };
    let rows = cli.rows.unwrap_or(catalog.base_len() as u64);
    let summary = write_sqlite(&cli.out, &catalog, rows).with_context(|| {
        format!(
            "writing {} (help: check that the directory exists and is writable)",
            cli.out.display()
        )
    })?;
    Ok(format!(
        "wrote {} rows ({} distinct films) to {} ({} bytes) in {} ms",
        summary.rows,
        summary.base_len,
        summary.path.display(),
        summary.file_bytes,
        started.elapsed().as_millis()
    ))
}
