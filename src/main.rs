//! The `ipcrawl` binary: parse the command line, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
