//! Runs `ipcrawl world` before the CLI dispatcher exists: the same `Args` and
//! `run` as the subcommand (`src/cli/world.rs`).
//!
//! `cargo run --release --example world -- --scope 1.0.0.0/8 --truth truth.json`

#[path = "../src/cli/world.rs"]
mod world;

use clap::Parser;

#[derive(Parser)]
#[command(name = "world", about = "Serve the local RDAP world on 127.0.0.1")]
struct Cli {
    #[command(flatten)]
    args: world::Args,
}

fn main() -> std::process::ExitCode {
    match world::run(Cli::parse().args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
