//! `ipcrawl completions SHELL`: a completion script generated from the clap
//! definitions, on stdout.
//!
//! ```sh
//! ipcrawl completions bash > ~/.local/share/bash-completion/completions/ipcrawl
//! ipcrawl completions zsh  > ~/.zfunc/_ipcrawl        # with fpath+=(~/.zfunc)
//! ipcrawl completions fish > ~/.config/fish/completions/ipcrawl.fish
//! ```

use std::process::ExitCode;

use clap_complete::Shell;

/// Completions options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to write the script for.
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    // Generated into memory: clap_complete panics on a failed write, and
    // stdout may be a closed pipe.
    clap_complete::generate(shell, &mut super::command(), "ipcrawl", &mut buf);
    buf
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    super::write_stdout(&script(args.shell))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let s = String::from_utf8(script(shell)).unwrap();
            for cmd in [
                "gen-seeds",
                "crawl",
                "coverage",
                "lookup",
                "completions",
                "man",
            ] {
                assert!(s.contains(cmd), "{shell:?} script lacks {cmd}");
            }
            assert!(s.contains("map-size"), "{shell:?} script lacks --map-size");
        }
    }
}
