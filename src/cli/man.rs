//! `ipcrawl man [COMMAND]`: the manual page in roff, on stdout, generated
//! from the clap definitions (`ipcrawl man | man -l -`, or
//! `ipcrawl man > /usr/local/share/man/man1/ipcrawl.1`).

use std::process::ExitCode;

use anyhow::Context as _;

/// Man options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// One command's page (`ipcrawl-COMMAND(1)`) instead of the main page.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// The roff page of ipcrawl, or of one of its commands.
pub fn page(command: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut root = super::command();
    // Propagates the global flags (--db, -q, -v) and the version to the commands.
    root.build();
    let cmd = match command {
        None => root,
        Some(name) => {
            let names: Vec<String> = root
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let sub = root.find_subcommand(name).cloned().with_context(|| {
                format!(
                    "man {name:?}: no such command (expected one of {})",
                    names.join(", ")
                )
            })?;
            let page_name = format!("ipcrawl-{}", sub.get_name());
            sub.name(page_name).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let page = page(args.command.as_deref())?;
    super::write_stdout(&page)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_page_lists_every_command_and_a_command_page_its_flags() {
        let main = String::from_utf8(page(None).unwrap()).unwrap();
        assert!(main.starts_with(".ie"), "{}", &main[..80.min(main.len())]);
        assert!(main.contains(".TH ipcrawl 1"), "no title header");
        for cmd in [
            "gen\\-seeds",
            "crawl",
            "merge",
            "coverage",
            "lookup",
            "stats",
        ] {
            assert!(main.contains(cmd), "main page lacks {cmd}");
        }
        let cov = String::from_utf8(page(Some("coverage")).unwrap()).unwrap();
        assert!(cov.contains(".TH ipcrawl-coverage 1"), "{cov}");
        assert!(
            cov.contains("map\\-size") && cov.contains("\\-\\-quiet"),
            "{cov}"
        );
        let err = page(Some("nope")).unwrap_err().to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("coverage"),
            "{err}"
        );
    }
}
