//! `ipcrawl export`: one record per stored network.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ipcrawl::export::{Format, Writer};
use ipcrawl::store::Store;

use super::Globals;

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// JSON Lines: one object per line.
    Jsonl,
    /// CSV with a header line.
    Csv,
}

/// Export options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: FormatArg,
    /// Write to FILE instead of stdout (gzip'd when FILE ends in `.gz`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also export placeholder answers (flagged `placeholder: true`).
    #[arg(long)]
    pub placeholders: bool,
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let format = match args.format {
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Csv => Format::Csv,
    };
    let out = super::output(args.output.as_deref())?;
    let mut w = Writer::new(out, format);
    let mut io_err: Option<std::io::Error> = None;
    store
        .for_each_record(args.placeholders, |r| {
            w.write(&r).map_err(|e| {
                let msg = e.to_string();
                io_err = Some(e);
                msg.into()
            })
        })
        .map_err(|e| match io_err.take() {
            Some(io) => anyhow::Error::new(io),
            None => anyhow::anyhow!("{e}"),
        })
        .context("exporting")?;
    let count = w.count;
    let mut out = w.finish()?;
    out.flush_all()?;
    if let Some(p) = &args.output {
        eprintln!("ipcrawl: {count} records written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
