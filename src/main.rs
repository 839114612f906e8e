//! The `ipcrawl` binary: parse the command line, run, map the result to an
//! exit code (0 done; 1 finished but some lookups failed for good; 2 fatal,
//! or no registry reachable; 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP,
//! resumable). All the work is in the library; `cli` only
//! parses, prints and picks exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
