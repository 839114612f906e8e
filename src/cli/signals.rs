//! Stop signals for the long-running commands (`crawl`, `import`): SIGINT,
//! SIGTERM and SIGHUP stop the run cleanly (exit 128 + the signal); a second
//! signal exits at once. SIGHUP is left alone when it was ignored at start
//! (`nohup`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A stop signal: its number, name, and how to send it again.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sig {
    pub number: i32,
    pub name: &'static str,
    pub again: &'static str,
}

impl Sig {
    /// 128 + the signal, as shells report a process it ended.
    pub fn exit_code(self) -> u8 {
        u8::try_from(128 + self.number).unwrap_or(130)
    }
}

#[cfg(unix)]
pub const SIGNALS: [Sig; 3] = [
    Sig {
        number: signal_hook::consts::SIGINT,
        name: "SIGINT",
        again: "Ctrl-C again",
    },
    Sig {
        number: signal_hook::consts::SIGTERM,
        name: "SIGTERM",
        again: "signal again",
    },
    Sig {
        number: signal_hook::consts::SIGHUP,
        name: "SIGHUP",
        again: "signal again",
    },
];

#[cfg(not(unix))]
pub const SIGNALS: [Sig; 2] = [
    Sig {
        number: signal_hook::consts::SIGINT,
        name: "SIGINT",
        again: "Ctrl-C again",
    },
    Sig {
        number: signal_hook::consts::SIGTERM,
        name: "SIGTERM",
        again: "signal again",
    },
];

/// The stop signals' handlers (see the module docs): the first signal
/// raises `quit` and records which it was; a second one exits at once.
pub struct StopSignals {
    pub quit: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl StopSignals {
    pub fn install() -> anyhow::Result<StopSignals> {
        let quit = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        let handled: Vec<Sig> = SIGNALS
            .into_iter()
            .filter(|sig| !(sig.name == "SIGHUP" && ignored_at_start(sig.number)))
            .collect();
        // One handler per signal that only records it (signal-hook's
        // pipe), read by a thread: a signal arriving while the handlers are
        // installed is either not caught yet (the default: the process
        // ends) or recorded whole. (Three signal-hook actions per signal
        // left a window in which the first signal was caught and lost:
        // seen on a loaded machine.)
        let mut signals = signal_hook::iterator::Signals::new(handled.iter().map(|s| s.number))
            .map_err(|e| anyhow::anyhow!("cannot handle the stop signals: {e}"))?;
        let (q, w) = (Arc::clone(&quit), Arc::clone(&which));
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for n in signals.forever() {
                    if q.load(Ordering::SeqCst) {
                        let code = SIGNALS
                            .into_iter()
                            .find(|s| s.number == n)
                            .map_or(130, Sig::exit_code);
                        std::process::exit(i32::from(code));
                    }
                    w.store(n as usize, Ordering::SeqCst);
                    q.store(true, Ordering::SeqCst);
                }
            })
            .map_err(|e| anyhow::anyhow!("cannot start the signal thread: {e}"))?;
        Ok(StopSignals { quit, which })
    }

    /// The signal that raised `quit`, if one did.
    pub fn received(&self) -> Option<Sig> {
        let n = self.which.load(Ordering::SeqCst);
        SIGNALS.into_iter().find(|s| s.number as usize == n)
    }
}

/// Whether signal `n` was ignored when the process started (`nohup` ignores
/// SIGHUP): read from `/proc/self/status` on Linux; elsewhere `false`.
fn ignored_at_start(n: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| n >= 1 && mask & (1 << (n - 1)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        let codes: Vec<u8> = SIGNALS.iter().map(|s| s.exit_code()).collect();
        assert_eq!(&codes[..2], [130, 143]);
        #[cfg(unix)]
        assert_eq!(codes[2], 129);
    }
}
