//! The one integration test binary: runs the real `ipcrawl` binary against
//! local RDAP servers on 127.0.0.1. Modules by theme.
