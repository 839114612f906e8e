#!/usr/bin/env python3
"""Checks the Kubernetes recipe offline, and runs its pods' script here.

    scripts/k8s-check.py [--schema] MANIFEST
        The checks below; with --schema also the Kubernetes JSON schema
        (kubernetes-validate, strict: unknown fields are errors; its schemas
        ship inside the PyPI package, so this works offline).

    scripts/k8s-check.py MANIFEST --pod K [--set NAME=VALUE]... \\
            [--secret-env FILE] [--mount PATH=DIR]...
        Prints a POSIX sh script that runs pod K's container command with
        the environment Kubernetes would give it: the secret's keys
        (envFrom; from FILE, KEY=VALUE lines), then the env list in order
        with $(VAR) expanded only from variables defined before it, a
        fieldRef to the completion-index annotation or label giving K, and
        the Job controller's own JOB_COMPLETION_INDEX appended last unless
        the list defines one. --set replaces an env entry's value before
        expansion (e.g. SHARDS for a smaller test); --mount rewrites a
        volume's mountPath prefix in the expanded values to a local DIR.

    scripts/k8s-check.py --self-test MANIFEST
        Shows that the checks catch the mistakes they exist for: the
        manifest with DB defined before JOB_COMPLETION_INDEX, with an
        `echo` instead of an upload, with SHARDS unlike completions.

What is checked (exit 1 and one line per problem): one batch/v1 Job,
completionMode Indexed, parallelism <= completions, restartPolicy Never or
OnFailure; in every container, env names unique, every $(VAR) reference
defined earlier in the list (or by envFrom), JOB_COMPLETION_INDEX (when
referenced) defined from the completion-index annotation or label, SHARDS
equal to completions, the command using --shard with both, an upload with
an object-store CLI (rclone/aws/gsutil) and no placeholder echo, the Secret
of envFrom named in the manifest's comments (how to create it), and the
image equal to the tag the Containerfile documents.
"""

import argparse
import copy
import pathlib
import re
import shlex
import sys

import yaml

INDEX = "JOB_COMPLETION_INDEX"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_PATHS = {
    f"metadata.annotations['{INDEX_KEY}']",
    f"metadata.labels['{INDEX_KEY}']",
}
REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(value, defined):
    """Kubernetes' $(VAR) expansion: $$ is a literal $, $(VAR) is replaced
    when VAR is in `defined`, and left as written otherwise."""

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return defined[name] if name in defined else m.group(0)

    return REF.sub(sub, value)


def refs(value):
    """The variable names `value` references with $(VAR) (not $$(VAR))."""
    return [m.group(1) for m in REF.finditer(value) if m.group(1)]


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, [d for d in yaml.safe_load_all(text) if d is not None]


def containers(job):
    spec = job.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


def documented_image(root):
    """The tag the Containerfile's build instructions give."""
    cf = root / "Containerfile"
    if not cf.exists():
        return None
    m = re.search(r"build -t (\S+)", cf.read_text(encoding="utf-8"))
    return m.group(1) if m else None


def check(text, docs, root):
    problems = []
    jobs = [d for d in docs if d.get("kind") == "Job"]
    if len(jobs) != 1:
        return [f"expected one Job, found {len(jobs)}"]
    job = jobs[0]
    spec = job.get("spec", {})
    if job.get("apiVersion") != "batch/v1":
        problems.append(f"apiVersion {job.get('apiVersion')!r}: expected batch/v1")
    if spec.get("completionMode") != "Indexed":
        problems.append("completionMode is not Indexed: pods get no completion index")
    completions = spec.get("completions")
    parallelism = spec.get("parallelism", 1)
    if not isinstance(completions, int) or completions < 1:
        problems.append(f"completions {completions!r}: expected N >= 1")
    elif parallelism > completions:
        problems.append(f"parallelism {parallelism} > completions {completions}")
    policy = spec.get("template", {}).get("spec", {}).get("restartPolicy")
    if policy not in ("Never", "OnFailure"):
        problems.append(f"restartPolicy {policy!r}: a Job needs Never or OnFailure")
    want_image = documented_image(root)
    for c in containers(job):
        name = c.get("name", "?")
        where = f"container {name}"
        env = c.get("env", [])
        seen = set()
        from_secret = [e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e]
        for s in from_secret:
            if f"secret generic {s}" not in text:
                problems.append(f"{where}: envFrom Secret {s!r} is not explained (kubectl create secret generic {s} ...)")
        values = {}
        for e in env:
            n = e.get("name")
            if n in seen:
                problems.append(f"{where}: env {n} defined twice")
            for r in refs(e.get("value", "")):
                if r not in seen:
                    problems.append(
                        f"{where}: env {n} uses $({r}) but {r} is not defined before it"
                        " (Kubernetes expands only earlier variables; the Job controller"
                        f" appends {INDEX} last): its value stays the literal text"
                    )
            if n == INDEX:
                path = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                if path not in INDEX_PATHS:
                    problems.append(f"{where}: {INDEX} is not from the completion-index annotation or label")
            seen.add(n)
            values[n] = e.get("value")
        # The command without its shell comments (an example in a comment is no upload).
        script = "\n".join(
            line
            for part in c.get("command", []) + c.get("args", [])
            for line in part.splitlines()
            if not line.lstrip().startswith("#")
        )
        if "SHARDS" in values and values["SHARDS"] != str(completions):
            problems.append(f"{where}: SHARDS={values['SHARDS']} but completions={completions}")
        if "--shard" not in script or f"${INDEX}" not in script:
            problems.append(f"{where}: the command does not crawl --shard ${INDEX}/N")
        if not re.search(r"\b(rclone copyto|rclone copy|aws s3 cp|gsutil cp)\b", script):
            problems.append(f"{where}: no upload step (rclone, aws s3 cp or gsutil cp)")
        if re.search(r"echo \"?upload\s", script):
            problems.append(f"{where}: the upload is a placeholder echo")
        if want_image and c.get("image") != want_image:
            problems.append(f"{where}: image {c.get('image')!r} is not the Containerfile's {want_image!r}")
    return problems


def schema(docs, version):
    try:
        import kubernetes_validate
    except ImportError:
        return ["--schema: kubernetes-validate is not installed (pip install kubernetes-validate)"]
    problems = []
    for d in docs:
        try:
            kubernetes_validate.validate(d, version or kubernetes_validate.latest_version(), strict=True)
        except Exception as e:  # the package raises several error types
            first = (str(e).splitlines() or [type(e).__name__])[0]
            problems.append(f"schema: {d.get('kind')}/{d.get('metadata', {}).get('name')}: {first}")
    return problems


def pod_script(docs, k, sets, secret_file, mounts):
    job = next(d for d in docs if d.get("kind") == "Job")
    c = job["spec"]["template"]["spec"]["containers"][0]
    env = {}
    if secret_file:
        for line in pathlib.Path(secret_file).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value
    for e in c.get("env", []):
        n = e["name"]
        if n in sets:
            env[n] = expand(sets[n], env)
        elif "value" in e:
            env[n] = expand(e["value"], env)
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") in INDEX_PATHS:
            env[n] = str(k)
        else:
            raise SystemExit(f"--pod: env {n}: only values and the completion index are emulated")
    env.setdefault(INDEX, str(k))  # the Job controller's own, appended last
    for path, local in mounts:
        for n, v in env.items():
            if v == path or v.startswith(path + "/"):
                env[n] = local + v[len(path):]
    lines = ["#!/bin/sh", f"# pod {k} of {job['metadata']['name']}, emulated by scripts/k8s-check.py"]
    lines += [f"export {n}={shlex.quote(v)}" for n, v in env.items()]
    lines.append(f"mkdir -p {' '.join(shlex.quote(loc) for _, loc in mounts)}" if mounts else ":")
    lines.append("exec " + " ".join(shlex.quote(a) for a in c["command"] + c.get("args", [])))
    return "\n".join(lines) + "\n"


def self_test(text, docs, root):
    """Each mutation must be caught; the manifest itself must pass."""
    failures = []
    if check(text, docs, root):
        failures.append("the manifest itself fails the checks")

    def mutated(f):
        d = copy.deepcopy(docs)
        f(next(x for x in d if x.get("kind") == "Job"))
        return d

    def db_first(job):
        env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        idx = next(e for e in env if e["name"] == INDEX)
        env.remove(idx)
        env.append(idx)

    def echo_upload(job):
        c = job["spec"]["template"]["spec"]["containers"][0]
        c["args"] = [re.sub(r"rclone copyto[^\n]*", 'echo "upload $DB here"', c["args"][0])]

    def more_shards(job):
        job["spec"]["completions"] = 16

    for name, f, needle in [
        ("DB before JOB_COMPLETION_INDEX", db_first, "not defined before it"),
        ("an echo instead of an upload", echo_upload, "no upload step"),
        ("SHARDS unlike completions", more_shards, "SHARDS=8 but completions=16"),
    ]:
        found = check(text, mutated(f), root)
        if not any(needle in p for p in found):
            failures.append(f"not caught: {name} (got {found})")
    # Expansion semantics.
    assert expand("/d/s-$(I).r", {"I": "3"}) == "/d/s-3.r"
    assert expand("$(I)", {}) == "$(I)"
    assert expand("$$(I)", {"I": "3"}) == "$(I)"
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest")
    ap.add_argument("--schema", action="store_true")
    ap.add_argument("--kubernetes-version", default=None)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--pod", type=int)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--secret-env")
    ap.add_argument("--mount", action="append", default=[])
    a = ap.parse_args()
    root = pathlib.Path(a.manifest).resolve().parent.parent
    text, docs = load(a.manifest)
    if a.pod is not None:
        sets = dict(s.split("=", 1) for s in a.set)
        mounts = [tuple(m.split("=", 1)) for m in a.mount]
        sys.stdout.write(pod_script(docs, a.pod, sets, a.secret_env, mounts))
        return 0
    problems = self_test(text, docs, root) if a.self_test else check(text, docs, root)
    if a.schema:
        problems += schema(docs, a.kubernetes_version)
    for p in problems:
        print(f"{a.manifest}: {p}", file=sys.stderr)
    if not problems:
        what = "self-test" if a.self_test else "checks" + (" and strict schema" if a.schema else "")
        print(f"{a.manifest}: {what} passed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
