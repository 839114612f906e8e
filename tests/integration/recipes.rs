//! The scale-out recipes in `scripts/`, run for real against the local RDAP
//! world with stand-in schedulers, each followed by `merge`: the merged DB
//! must equal one crawl of the same world (coverage and networks).
//!
//! - Slurm: `scripts/slurm-array.sh` through `tests/recipes/bin/sbatch`,
//!   which runs the array's tasks here with `SLURM_ARRAY_TASK_ID` set;
//! - ssh: `scripts/parallel-ssh.sh` with real GNU parallel and the stand-in
//!   `ssh`/`scp` of `tests/recipes/bin/` (each "host" a directory);
//! - Kubernetes: the Job's container script, with the environment
//!   Kubernetes would give pod K (`scripts/k8s-check.py --pod K`: `$(VAR)`
//!   expansion, the completion index) and real rclone uploading to its
//!   `local` backend.
//!
//! Needs GNU parallel, rclone and python3 with PyYAML (`.ci/run` installs
//! them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::localworld::{coverage, crawl, gen_seeds, networks, LocalWorld};
use crate::util::Workdir;

/// Two registries' space: RIPE NCC, and LACNIC with transfers to ARIN.
const SCOPE: [&str; 2] = ["185.2.0.0/15", "200.0.0.0/13"];

/// Longest a recipe may run before the test gives up.
const DEADLINE: Duration = Duration::from_secs(300);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A PATH with the stand-ins first, then a directory holding `ipcrawl`
/// (this build's binary), then the system's.
fn path_with_fakes(wd: &Workdir) -> String {
    let bin = wd.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("ipcrawl");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ipcrawl"), &link).unwrap();
    }
    format!(
        "{}:{}:{}",
        repo().join("tests/recipes/bin").display(),
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn require(tool: &str, why: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed ({why}); .ci/run installs it"
    );
}

/// Runs `cmd` to its end (killed after [`DEADLINE`]), insisting on success.
fn run_bounded(mut cmd: Command, what: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The world, its crawl arguments (without the leading `crawl`), and one
/// full crawl of it to compare the recipes' merges with.
struct Reference {
    world: LocalWorld,
    args: Vec<String>,
    full: PathBuf,
}

fn reference(wd: &Workdir) -> Reference {
    let world = LocalWorld::start(&wd.dir, &SCOPE, 0);
    // Few threads: the recipes run several crawls at once beside other tests.
    let mut args: Vec<String> = world.crawl_args().into_iter().skip(1).collect();
    args.extend(["--threads".to_string(), "8".to_string()]);
    let full = wd.path("full.redb");
    gen_seeds(&full, &SCOPE);
    let mut a = vec!["crawl".to_string()];
    a.extend(args.iter().cloned());
    let run = crawl(&full, &a, None);
    assert!(run.status.success(), "full crawl: {}", run.stderr);
    let n = networks(&full).len();
    assert!(n > 100, "the reference crawl found only {n} networks");
    Reference { world, args, full }
}

fn gen_seeds_arg() -> String {
    SCOPE
        .iter()
        .flat_map(|s| ["--within", s])
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_same(merged: &Path, r: &Reference, what: &str) {
    assert_eq!(
        coverage(merged),
        coverage(&r.full),
        "{what}: coverage of the merge"
    );
    assert!(
        networks(merged) == networks(&r.full),
        "{what}: networks of the merge"
    );
}

#[test]
fn slurm_array_tasks_merge_into_one_crawl() {
    let wd = Workdir::new("recipe-slurm");
    let r = reference(&wd);
    let dir = wd.path("shared");
    let sbatch = |args: &[&str], extra: &[String]| {
        let mut c = Command::new("sbatch");
        c.current_dir(&wd.dir)
            .env("PATH", path_with_fakes(&wd))
            .env("IPCRAWL_DIR", &dir)
            .env("IPCRAWL_CONTACT", "test@example.org")
            .env("GEN_SEEDS", gen_seeds_arg())
            .env_remove("IPCRAWL_DB")
            .args(args)
            .args(extra);
        run_bounded(c, "sbatch")
    };
    let script = repo().join("scripts/slurm-array.sh").display().to_string();
    let out = sbatch(&["--parsable", "--array=0-3", &script], &r.args);
    let jid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(jid.parse::<u32>().is_ok(), "--parsable printed {jid:?}");
    for k in 0..4 {
        assert!(dir.join(format!("shard-{k}.redb")).exists(), "shard {k}");
        let log = std::fs::read_to_string(wd.path(&format!("ipcrawl-{jid}_{k}.log"))).unwrap();
        assert!(log.contains("seeds "), "task {k} ran no stats: {log}");
    }
    let merged = dir.join("ipcrawl.redb");
    sbatch(
        &[
            &format!("--dependency=afterok:{jid}"),
            "--wrap",
            &format!(
                "ipcrawl merge -o {0}/ipcrawl.redb {0}/shard-*.redb",
                dir.display()
            ),
        ],
        &[],
    );
    assert_same(&merged, &r, "slurm, 4 tasks");
    // A task id outside the array's size is refused, not a silent overlap.
    let mut c = Command::new("bash");
    c.arg(&script)
        .env("SLURM_ARRAY_TASK_ID", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .env("IPCRAWL_CONTACT", "x@example.org");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    drop(r.world);
}

#[test]
fn parallel_over_ssh_crawls_on_each_host_and_merges_here() {
    require("parallel", "GNU parallel runs scripts/parallel-ssh.sh");
    let wd = Workdir::new("recipe-ssh");
    let r = reference(&wd);
    let hosts = wd.path("hosts.txt");
    std::fs::write(&hosts, "# two hosts\nnoc@alpha\n\nbeta\n").unwrap();
    let fake_hosts = wd.path("hosts");
    let merged = wd.path("ssh.redb");
    let mut c = Command::new("bash");
    c.current_dir(&wd.dir)
        .arg(repo().join("scripts/parallel-ssh.sh"))
        .arg(&hosts)
        .args(&r.args)
        .env("PATH", path_with_fakes(&wd))
        .env("FAKE_HOSTS", &fake_hosts)
        .env("COPY_BINARY", env!("CARGO_BIN_EXE_ipcrawl"))
        .env("IPCRAWL_CONTACT", "test@example.org")
        .env("GEN_SEEDS", gen_seeds_arg())
        .env("DIR", wd.path("shards"))
        .env("OUT", &merged)
        .env_remove("IPCRAWL_DB");
    run_bounded(c, "parallel-ssh.sh");
    // Each host crawled its own shard in its own home, with the copied binary.
    for (k, host) in ["alpha", "beta"].iter().enumerate() {
        assert!(
            fake_hosts.join(host).join("ipcrawl").exists(),
            "binary on {host}"
        );
        assert!(
            fake_hosts
                .join(host)
                .join(format!("shard-{k}.redb"))
                .exists(),
            "shard on {host}"
        );
    }
    let log = std::fs::read_to_string(fake_hosts.join("ssh.log")).unwrap();
    assert!(
        log.contains("noc@alpha\t./ipcrawl --db shard-0.redb crawl --shard 0/2"),
        "{log}"
    );
    assert!(
        log.contains("beta\t./ipcrawl --db shard-1.redb crawl --shard 1/2"),
        "{log}"
    );
    assert!(log.contains("--contact test@example.org"), "{log}");
    assert_same(&merged, &r, "ssh, 2 hosts");
    drop(r.world);
}

#[test]
fn kubernetes_pods_run_the_manifest_script_and_upload_with_rclone() {
    require("rclone", "the Job's upload step");
    require(
        "python3",
        "scripts/k8s-check.py emulates the pods' environment",
    );
    let wd = Workdir::new("recipe-k8s");
    let r = reference(&wd);
    let bucket = wd.path("bucket");
    let secret = wd.path("upload.env");
    std::fs::write(
        &secret,
        format!(
            "RCLONE_CONFIG_STORE_TYPE=local\nUPLOAD_TO=store:{}\n",
            bucket.display()
        ),
    )
    .unwrap();
    let manifest = repo().join("scripts/k8s-indexed-job.yaml");
    for k in 0..2 {
        let pod_dir = wd.path(&format!("pod-{k}"));
        let mut emit = Command::new("python3");
        emit.arg(repo().join("scripts/k8s-check.py"))
            .arg(&manifest)
            .args(["--pod", &k.to_string(), "--set", "SHARDS=2"])
            .arg("--set")
            .arg(format!("CRAWL_ARGS={}", r.args.join(" ")))
            .arg("--set")
            .arg(format!("GEN_SEEDS={}", gen_seeds_arg()))
            .arg("--secret-env")
            .arg(&secret)
            .arg("--mount")
            .arg(format!("/data={}", pod_dir.display()));
        let script = run_bounded(emit, "k8s-check.py --pod").stdout;
        let text = String::from_utf8(script).unwrap();
        // The index reached DB through $(JOB_COMPLETION_INDEX).
        assert!(
            text.contains(&format!("export DB={}/shard-{k}.redb", pod_dir.display())),
            "{text}"
        );
        let mut pod = Command::new("sh");
        pod.arg("-c")
            .arg(&text)
            .current_dir(&wd.dir)
            .env("PATH", path_with_fakes(&wd))
            .env("RCLONE_CONFIG", wd.path("no-rclone.conf"))
            .env_remove("IPCRAWL_DB");
        let out = run_bounded(pod, &format!("pod {k}"));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(&format!("shard-{k}.redb")), "{said}");
    }
    let shards: Vec<PathBuf> = (0..2)
        .map(|k| bucket.join(format!("shard-{k}.redb")))
        .collect();
    for s in &shards {
        assert!(s.exists(), "{} was not uploaded", s.display());
    }
    let merged = wd.path("k8s.redb");
    let mut m = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    m.arg("merge").arg("-o").arg(&merged).args(&shards);
    run_bounded(m, "merge");
    assert_same(&merged, &r, "kubernetes, 2 pods");
    drop(r.world);
}
