//! Verifying a database file without writing to it: redb's integrity check
//! (the one `merge` runs on its inputs) over a copy-on-write view of the
//! file, so reports verify what they read even in a read-only directory and
//! without a copy on disk.
//!
//! redb's check runs only on a writable open (it rebuilds the allocator
//! state and commits). [`Overlay`] is a [`StorageBackend`] whose reads come
//! from the file and whose writes stay in memory: the check's commit (a
//! header and the allocator state, a few pages) never reaches the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redb::{DatabaseError, StorageBackend, StorageError};

use super::{Error, Result};

/// The unit in which writes are kept.
const CHUNK: u64 = 4096;

/// redb's page cache during the check (it reads every committed page twice).
const CHECK_CACHE: usize = 32 << 20;

/// A file seen through an in-memory layer of writes (see the module doc).
#[derive(Debug)]
pub(super) struct Overlay {
    file: File,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The length redb sees.
    len: u64,
    /// The file's bytes from here on read as zeros (the view was shortened).
    file_end: u64,
    /// Written chunks, by index, each `CHUNK` bytes.
    chunks: BTreeMap<u64, Vec<u8>>,
}

impl Overlay {
    pub(super) fn new(file: File) -> io::Result<Overlay> {
        let len = file.metadata()?.len();
        Ok(Overlay {
            file,
            state: Mutex::new(State {
                len,
                file_end: len,
                chunks: BTreeMap::new(),
            }),
        })
    }

    /// `out` from the file alone (zeros past `file_end`).
    fn read_file(&self, file_end: u64, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let n = usize::try_from(file_end.saturating_sub(offset))
            .unwrap_or(usize::MAX)
            .min(out.len());
        self.file.read_exact_at(&mut out[..n], offset)?;
        out[n..].fill(0);
        Ok(())
    }
}

fn past_end(offset: u64, len: usize, end: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("read of {len} bytes at {offset} past the end ({end})"),
    )
}

/// `usize` of a distance inside one buffer (always small).
fn at(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl StorageBackend for Overlay {
    fn len(&self) -> io::Result<u64> {
        Ok(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let end = offset
            .checked_add(out.len() as u64)
            .filter(|&e| e <= st.len)
            .ok_or_else(|| past_end(offset, out.len(), st.len))?;
        if out.is_empty() {
            return Ok(());
        }
        self.read_file(st.file_end, offset, out)?;
        for (&i, c) in st.chunks.range(offset / CHUNK..=(end - 1) / CHUNK) {
            let cs = i * CHUNK;
            let (lo, hi) = (cs.max(offset), (cs + CHUNK).min(end));
            out[at(lo - offset)..at(hi - offset)].copy_from_slice(&c[at(lo - cs)..at(hi - cs)]);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if len < st.len {
            st.file_end = st.file_end.min(len);
            let _ = st.chunks.split_off(&len.div_ceil(CHUNK));
            if let Some(c) = st.chunks.get_mut(&(len / CHUNK)) {
                c[at(len % CHUNK)..].fill(0);
            }
        }
        st.len = len;
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| past_end(offset, data.len(), u64::MAX))?;
        if data.is_empty() {
            return Ok(());
        }
        for i in offset / CHUNK..=(end - 1) / CHUNK {
            let cs = i * CHUNK;
            if !st.chunks.contains_key(&i) {
                let mut c = vec![0; at(CHUNK)];
                self.read_file(st.file_end.min(st.len), cs, &mut c)?;
                st.chunks.insert(i, c);
            }
            let (lo, hi) = (cs.max(offset), (cs + CHUNK).min(end));
            if let Some(c) = st.chunks.get_mut(&i) {
                c[at(lo - cs)..at(hi - cs)]
                    .copy_from_slice(&data[at(lo - offset)..at(hi - offset)]);
            }
        }
        st.len = st.len.max(end);
        Ok(())
    }
}

const LAST_COMMIT: &str = "redb's integrity check: a page of its last commit fails its checksum";

/// redb's report of a failed check, in words for the user.
pub(super) fn checked(m: &str) -> String {
    if m.starts_with("Primary is corrupted") {
        LAST_COMMIT.to_string()
    } else {
        format!("redb's integrity check: {m}")
    }
}

/// Runs redb's full integrity check on the file at `path` (every page of
/// the committed trees against its checksum) without writing to it. The
/// caller holds the file open read-only meanwhile, so no crawl writes it.
/// `Err(Error::Damaged)` names what failed.
pub(super) fn verify(path: &Path) -> Result<()> {
    // redb may panic on a damaged file where it does not detect the damage.
    std::panic::catch_unwind(|| verify_inner(path)).unwrap_or_else(|_| {
        Err(Error::Damaged(
            path.to_path_buf(),
            "redb failed reading it".into(),
        ))
    })
}

fn verify_inner(path: &Path) -> Result<()> {
    let damaged = |m: String| Error::Damaged(path.to_path_buf(), m);
    let file = File::open(path).map_err(|e| super::open::io_error(path, &e, false))?;
    let overlay = Overlay::new(file).map_err(|e| super::open::io_error(path, &e, false))?;
    // The check falls back to the previous commit when the last one fails
    // its checksums (redb reports that at progress 0.3): a file closed
    // cleanly never needs that, so it is damage, not a crash, here.
    let fell_back = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&fell_back);
    let opened = redb::Builder::new()
        .set_cache_size(CHECK_CACHE)
        .set_check_integrity_on_open(true)
        .set_repair_callback(move |s| {
            if s.progress() > 0.0 && s.progress() < 0.5 {
                flag.store(true, Ordering::Relaxed);
                s.abort();
            }
        })
        .create_with_backend(overlay);
    match opened {
        Ok(db) => {
            drop(db);
            Ok(())
        }
        Err(DatabaseError::RepairAborted) if fell_back.load(Ordering::Relaxed) => {
            Err(damaged(LAST_COMMIT.into()))
        }
        Err(DatabaseError::Storage(StorageError::Corrupted(m))) => Err(damaged(checked(&m))),
        Err(DatabaseError::Storage(StorageError::Io(e))) => {
            Err(damaged(format!("reading it failed: {e}")))
        }
        Err(e) => Err(damaged(checked(&e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(bytes: &[u8]) -> (Overlay, std::path::PathBuf) {
        let p = std::env::temp_dir().join(format!(
            "ipcrawl-overlay-{}-{}",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&p, bytes).unwrap();
        (Overlay::new(File::open(&p).unwrap()).unwrap(), p)
    }

    fn read(o: &Overlay, offset: u64, n: usize) -> Vec<u8> {
        let mut v = vec![0xee; n];
        o.read(offset, &mut v).unwrap();
        v
    }

    #[test]
    fn writes_stay_in_memory_and_read_back() {
        let file: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (o, p) = overlay(&file);
        assert_eq!(read(&o, 0, 10_000), file);
        // A write across a chunk boundary, then one past the end.
        o.write(4090, &[1; 20]).unwrap();
        o.write(10_000, &[2; 100]).unwrap();
        assert_eq!(o.len().unwrap(), 10_100);
        let mut want = file.clone();
        want[4090..4110].fill(1);
        want.extend([2; 100]);
        assert_eq!(read(&o, 0, 10_100), want);
        assert_eq!(read(&o, 4095, 3), want[4095..4098]);
        // Shortened, then grown: the cut part reads as zeros.
        o.set_len(5000).unwrap();
        o.set_len(9000).unwrap();
        want.truncate(5000);
        want.resize(9000, 0);
        assert_eq!(read(&o, 0, 9000), want);
        let mut past = [0; 2];
        assert!(o.read(8999, &mut past).is_err());
        // The file itself is untouched.
        assert_eq!(std::fs::read(&p).unwrap(), file);
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod zeroed_pages {
    use super::super::schema::RAW;
    use super::super::{Db, Error, Store};
    use redb::ReadableTable as _;

    /// A real DB with free pages: `v2.redb` migrated, then half its raw
    /// answers removed (their pages freed; no compaction).
    fn with_free_pages(path: &std::path::Path) {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/db/v2.redb"
        );
        std::fs::copy(fixture, path).unwrap();
        let s = Store::open_rw(path).unwrap();
        let Db::Rw(d) = &s.db else {
            panic!("opened read-only")
        };
        let txn = d.begin_write().unwrap();
        {
            let mut t = txn.open_table(RAW).unwrap();
            let keys: Vec<_> = t
                .iter()
                .unwrap()
                .take(1500)
                .map(|r| r.unwrap().0.value())
                .collect();
            for k in keys {
                t.remove(k).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    /// Issue 15.7: a zeroed page that no report reads (one of the raw
    /// answers) let reports work while the crawl's compaction panicked in
    /// redb at the end of every crawl. Now each zeroed page either passes
    /// the check (a free page: the file opens for writing and compacts, its
    /// records intact) or is refused at open, reads and writers alike,
    /// before any work.
    #[test]
    fn a_zeroed_page_is_harmless_or_refused_before_any_work() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-zeroed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("base.redb");
        with_free_pages(&base);
        let good = std::fs::read(&base).unwrap();
        let records = Store::open_read(&base).unwrap().records(true).unwrap();
        let p = dir.join("z.redb");
        let (mut free, mut refused) = (0, 0);
        // Every 8th page after the header (zeroed, the file is no redb file at
        // all); the stride keeps the test short.
        let pages = good.len() / 4096;
        for page in (1..pages).step_by(8) {
            let mut b = good.clone();
            b[page * 4096..(page + 1) * 4096].fill(0);
            std::fs::write(&p, &b).unwrap();
            // `open_read` turns redb's panics into `Damaged`.
            match Store::open_read(&p).map(|_| ()) {
                Ok(()) => {
                    let mut s = Store::open_rw(&p).unwrap();
                    s.compact().unwrap_or_else(|e| panic!("page {page}: {e}"));
                    assert_eq!(s.records(true).unwrap(), records, "page {page}");
                    free += 1;
                }
                Err(Error::Damaged(..)) => {
                    assert!(
                        matches!(Store::open_rw(&p), Err(Error::Damaged(..))),
                        "page {page}"
                    );
                    assert!(std::fs::read(&p).unwrap() == b, "page {page}: modified");
                    refused += 1;
                }
                Err(e) => panic!("page {page}: {e}"),
            }
        }
        eprintln!("zeroed pages: {free} free (compacted fine), {refused} refused as damaged");
        assert!(free > 0 && refused > 0, "{free} free, {refused} refused");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
