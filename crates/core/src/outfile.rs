//! Output files written whole or not at all (`export -o`, `coverage --map`,
//! `merge -o`).
//!
//! An output is written to a temporary file beside it,
//! `.{name}.ipcrawl-{pid}-{n}.tmp` (same directory, so the rename cannot
//! cross file systems), synced, and renamed onto the name only when
//! complete. A reader never sees half a file; a failure (a full disk, an
//! error) leaves the previous file as it was and removes the temporary. An
//! interrupted run (Ctrl-C, SIGTERM, SIGKILL) leaves the previous file too,
//! but cannot remove its temporary: the next run writing the same output
//! removes it ([`remove_stale`]). A
//! temporary is stale when the process that made it is gone (Linux: no
//! `/proc/{pid}`; elsewhere: older than [`STALE_AGE`]) or when its pid is
//! ours but this process does not hold it (a pid reused after a restart,
//! as in containers where every run is pid 1).
//!
//! A special file (`/dev/stdout`, a FIFO, `/dev/null`) is written directly:
//! it cannot be renamed onto. A symbolic link is followed: the file it
//! names is replaced. An existing file's permissions are kept.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Where no `/proc` tells whether a process lives, a temporary older than
/// this is stale.
pub const STALE_AGE: Duration = Duration::from_secs(24 * 3600);

/// The temporaries this process holds (never stale to itself).
static HELD: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn held(f: impl FnOnce(&mut HashSet<PathBuf>)) {
    let mut g = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    f(g.get_or_insert_with(HashSet::new));
}

fn is_held(p: &Path) -> bool {
    let mut yes = false;
    held(|h| yes = h.contains(p));
    yes
}

/// Whether `a` and `b` name one existing file (same device and inode, so
/// through symbolic and hard links, `./`, `..`; elsewhere the same
/// canonical path). A missing path names no file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// The directory a path's file is in (`.` for a bare name).
pub fn dir_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What an output path stands for once links are followed.
enum Dest {
    /// A regular file (existing or not): written through a temporary.
    File(PathBuf),
    /// A device, FIFO or socket: written directly.
    Special(PathBuf),
}

fn resolve(dest: &Path) -> io::Result<Dest> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", dest.display()));
    match fs::metadata(dest) {
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a directory (expected a file name)", dest.display()),
        )),
        Ok(m) if m.is_file() => Ok(Dest::File(fs::canonicalize(dest).map_err(named)?)),
        Ok(_) => Ok(Dest::Special(dest.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(dest).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} is a symbolic link to nothing", dest.display()),
                ));
            }
            if dest.file_name().is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a file name", dest.display()),
                ));
            }
            let dir = dir_of(dest);
            if !dir.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: no such directory", dir.display()),
                ));
            }
            Ok(Dest::File(dest.to_path_buf()))
        }
        Err(e) => Err(named(e)),
    }
}

/// A temporary file's name beside `dest`, reserved for this process: the
/// file itself is made by the caller (redb, for `merge`) and removed when
/// the `Temp` drops unless [`Temp::rename_onto`] moved it.
pub struct Temp {
    path: PathBuf,
    dest: PathBuf,
    moved: bool,
}

impl Temp {
    /// Removes the stale temporaries of `dest` (see the module docs), then
    /// reserves a new name beside it. `dest` must be a file name in an
    /// existing directory (links are not followed here).
    pub fn beside(dest: &Path) -> io::Result<Temp> {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file name", dest.display()),
            )
        })?;
        remove_stale(dest);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let mut tmp = std::ffi::OsString::from(".");
        tmp.push(name);
        tmp.push(format!(".ipcrawl-{}-{n}.tmp", std::process::id()));
        let path = dir_of(dest).join(tmp);
        held(|h| {
            h.insert(path.clone());
        });
        Ok(Temp {
            path,
            dest: dest.to_path_buf(),
            moved: false,
        })
    }

    /// The temporary's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary onto its destination and syncs the directory
    /// (best effort: not every platform can), keeping the destination's
    /// permissions if it existed.
    pub fn rename_onto(mut self) -> io::Result<()> {
        if let Ok(m) = fs::metadata(&self.dest) {
            let _ = fs::set_permissions(&self.path, m.permissions());
        }
        fs::rename(&self.path, &self.dest).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot move {} onto {}: {e}",
                    self.path.display(),
                    self.dest.display()
                ),
            )
        })?;
        self.moved = true;
        if let Ok(d) = File::open(dir_of(&self.dest)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.moved {
            let _ = fs::remove_file(&self.path);
        }
        held(|h| {
            h.remove(&self.path);
        });
    }
}

/// The pid in a temporary's name if it is one of `dest_name`'s:
/// `.{dest_name}.ipcrawl-{pid}-{n}.tmp`, or the names earlier versions
/// used, `.{dest_name}.merge-{pid}.tmp` and `.{dest_name}.{pid}.tmp`.
fn temp_pid(file: &str, dest_name: &str) -> Option<u32> {
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(dest_name)?
        .strip_prefix('.')?;
    let body = rest.strip_suffix(".tmp")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let pid = if let Some(t) = body.strip_prefix("ipcrawl-") {
        let (pid, n) = t.split_once('-')?;
        digits(n).then_some(pid)?
    } else if let Some(pid) = body.strip_prefix("merge-") {
        pid
    } else {
        body
    };
    if !digits(pid) {
        return None;
    }
    pid.parse().ok()
}

/// Whether the process `pid` is alive (`None`: this system cannot tell).
fn alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    proc.join("self")
        .exists()
        .then(|| proc.join(pid.to_string()).exists())
}

/// Whether a temporary made by `pid` at `path` is stale.
pub fn is_stale(path: &Path, pid: u32) -> bool {
    if is_held(path) {
        return false;
    }
    if pid == std::process::id() {
        return true;
    }
    match alive(pid) {
        Some(alive) => !alive,
        None => fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AGE),
    }
}

/// Removes every stale temporary `file_pid` recognises in `dir` (it gives
/// the pid that made a file, or `None` for files that are not temporaries);
/// returns how many were removed. Errors (an unreadable directory, a file
/// gone meanwhile) are ignored: cleaning is best effort.
pub fn remove_stale_in(dir: &Path, file_pid: impl Fn(&str) -> Option<u32>) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(&file_pid) else {
            continue;
        };
        let path = e.path();
        if e.file_type().is_ok_and(|t| t.is_file())
            && is_stale(&path, pid)
            && fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Removes the stale temporaries of `dest` (from killed runs); returns how
/// many.
pub fn remove_stale(dest: &Path) -> usize {
    let Some(name) = dest.file_name().and_then(|n| n.to_str()) else {
        return 0;
    };
    remove_stale_in(&dir_of(dest), |f| temp_pid(f, name))
}

/// An output file being written: [`OutFile::commit`] puts it in place;
/// dropped without it, the destination is left as it was.
pub struct OutFile {
    file: File,
    /// `None` for a special file, written directly.
    temp: Option<Temp>,
}

impl OutFile {
    /// Starts writing `dest` (see the module docs). Errors name the path.
    pub fn create(dest: &Path) -> io::Result<OutFile> {
        match resolve(dest)? {
            Dest::Special(p) => {
                let file = fs::OpenOptions::new().write(true).open(&p).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot open {}: {e}", p.display()))
                })?;
                Ok(OutFile { file, temp: None })
            }
            Dest::File(p) => {
                let temp = Temp::beside(&p)?;
                let file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(temp.path())
                    .map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "cannot create a temporary file in {} for {}: {e}",
                                dir_of(&p).display(),
                                dest.display()
                            ),
                        )
                    })?;
                Ok(OutFile {
                    file,
                    temp: Some(temp),
                })
            }
        }
    }

    /// Syncs the data and renames the temporary onto the destination.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        self.file.sync_all()?;
        temp.rename_onto()
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes `bytes` to `dest` whole or not at all.
pub fn write_whole(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OutFile::create(dest)?;
    f.write_all(bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ipcrawl-outfile-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A pid no process has: a child that has been reaped.
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[test]
    fn a_committed_file_replaces_whole_and_a_dropped_one_leaves_the_old() {
        let d = dir("commit");
        let p = d.join("out.csv");
        fs::write(&p, b"old").unwrap();
        let mut f = OutFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        assert_eq!(names(&d).len(), 2, "a temporary beside it");
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(&d), ["out.csv"]);
        write_whole(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(names(&d), ["out.csv"]);
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_modes_kept() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("links");
        fs::create_dir(d.join("real")).unwrap();
        let target = d.join("real/x.csv");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        let link = d.join("x.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_whole(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(names(&d.join("real")), ["x.csv"]);
        let dangling = d.join("dangling.csv");
        std::os::unix::fs::symlink(d.join("nothing/here"), &dangling).unwrap();
        let e = OutFile::create(&dangling).err().unwrap().to_string();
        assert!(e.contains("symbolic link to nothing"), "{e}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn special_files_and_bad_paths() {
        let mut f = OutFile::create(Path::new("/dev/null")).unwrap();
        f.write_all(b"gone").unwrap();
        f.commit().unwrap();
        assert!(Path::new("/dev/null").exists());
        let d = dir("bad");
        let e = OutFile::create(&d).err().unwrap().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = OutFile::create(&d.join("no/such/x.csv"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no such directory"), "{e}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn temporaries_are_recognised_by_name() {
        assert_eq!(temp_pid(".out.csv.ipcrawl-123-4.tmp", "out.csv"), Some(123));
        assert_eq!(temp_pid(".m.redb.merge-77.tmp", "m.redb"), Some(77));
        assert_eq!(temp_pid(".map.png.9.tmp", "map.png"), Some(9));
        for other in [
            ".out.csv.ipcrawl-123-4.tmp.bak",
            ".other.csv.ipcrawl-1-0.tmp",
            "out.csv.ipcrawl-1-0.tmp",
            ".out.csv.ipcrawl-x-0.tmp",
            ".out.csv.ipcrawl-1-.tmp",
            ".out.csv.notes.tmp",
            ".out.csv.tmp",
        ] {
            assert_eq!(temp_pid(other, "out.csv"), None, "{other}");
        }
    }

    #[test]
    fn stale_temporaries_go_and_live_ones_stay() {
        let d = dir("stale");
        let dest = d.join("out.redb");
        let dead = dead_pid();
        let mut live = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let stale = [
            format!(".out.redb.ipcrawl-{dead}-0.tmp"),
            format!(".out.redb.merge-{dead}.tmp"),
            format!(".out.redb.{dead}.tmp"),
            // Our own pid, but not a temporary this process holds.
            format!(".out.redb.ipcrawl-{}-999.tmp", std::process::id()),
        ];
        let kept = [
            format!(".out.redb.ipcrawl-{}-0.tmp", live.id()),
            format!(".other.redb.ipcrawl-{dead}-0.tmp"),
            "notes.tmp".to_string(),
        ];
        for n in stale.iter().chain(&kept) {
            fs::write(d.join(n), b"x").unwrap();
        }
        let held = Temp::beside(&dest).unwrap();
        fs::write(held.path(), b"in use").unwrap();
        assert_eq!(
            remove_stale(&dest),
            0,
            "the first Temp cleaned them already"
        );
        let mut want: Vec<String> = kept.to_vec();
        want.push(
            held.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
        want.sort();
        assert_eq!(names(&d), want);
        // A second writer of the same output leaves the held one alone.
        let other = OutFile::create(&dest).unwrap();
        assert!(held.path().exists());
        drop(other);
        drop(held);
        let _ = live.kill();
        let _ = live.wait();
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn the_same_file_through_any_spelling() {
        let d = dir("same");
        fs::create_dir(d.join("sub")).unwrap();
        let db = d.join("x.redb");
        fs::write(&db, b"db").unwrap();
        assert!(same_file(&db, &db));
        assert!(same_file(&d.join("sub/../x.redb"), &db));
        assert!(same_file(&d.join("./x.redb"), &db));
        std::os::unix::fs::symlink(&db, d.join("link")).unwrap();
        assert!(same_file(&d.join("link"), &db));
        fs::hard_link(&db, d.join("hard")).unwrap();
        assert!(same_file(&d.join("hard"), &db));
        assert!(!same_file(&d.join("missing"), &db));
        fs::write(d.join("copy"), b"db").unwrap();
        assert!(!same_file(&d.join("copy"), &db));
        let _ = fs::remove_dir_all(&d);
    }
}
