"""Generalising across lengths, the protocol of Delétang et al. (ICLR 2023), with bptt's defaults.

For each task: ``bptt data make`` writes 10,000 training and 1,000 validation
sequences of lengths 1-40 and 100 test sequences at each of the lengths 41, 60,
100, 200, 300 and 500; ``bptt train`` runs with only ``--data --valid --task
--out --seed --max-time`` (plus any ``--config`` arguments); ``bptt evaluate
--by-length`` scores the model kept on validation.  The mean accuracy over the
six test lengths is printed beside the paper's RNN column: whole-sequence
accuracy for the classification tasks; for a tag task (``reverse-string``) the
paper's measure, the share of answer tokens right (the ``_`` tags of the
reading half do not count).  Runs are separate
processes, ``--jobs`` at a time, each with its share of the cores.

    python benchmarks/lengths.py                                # every task, seed 0, 600 s each
    python benchmarks/lengths.py --tasks parity even-pairs --seeds 0 1 2
    python benchmarks/lengths.py --max-time 120 --config a="--lr 0.001" --config b="--lr 0.003"   # a sweep
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

TEST_LENGTHS = (41, 60, 100, 200, 300, 500)
PAPER_RNN = {  # Delétang et al. 2023, Table 2, RNN column (best of 10 seeds x 3 learning rates)
    "parity": 100.0, "even-pairs": 100.0, "cycle-navigation": 100.0, "modular-arithmetic": 100.0,
    "reverse-string": 62.0,
}
TASKS = ["parity", "even-pairs", "cycle-navigation", "modular-arithmetic", "divisible3", "third-last", "ab-parity",
         "reverse-string"]


def bptt(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bptt", *map(str, args)], capture_output=True, text=True, env=env)


def make_data(task: str, root: str, n_train: int) -> dict:
    from bptt.tasks import TASKS as T

    d = os.path.join(root, task)
    os.makedirs(d, exist_ok=True)
    files = {"train": ("1-40", n_train, 1), "valid": ("1-40", 1000, 2),
             "test": (",".join(map(str, TEST_LENGTHS)), 100 * len(TEST_LENGTHS), 3)}
    paths = {}
    for name, (lengths, n, seed) in files.items():
        paths[name] = os.path.join(d, f"{name}.tsv")
        if not os.path.exists(paths[name]):
            r = bptt("data", "make", task, "--lengths", lengths, "--n", n, "--seed", seed, "--out", paths[name])
            if r.returncode:
                raise RuntimeError(r.stderr)
    paths["kind"] = T[task].kind
    return paths


def answer_accuracy(model_path, test_path) -> dict:
    """A tag task's score as the paper gives it: per sequence, the share of its answer tokens (tags
    other than ``_``, which only mark the steps that read the input) predicted right, averaged
    over the sequences of each input length (answer tokens)."""
    import numpy as np

    from bptt import checkpoint
    from bptt.data import Labels, Vocab, encode, read_examples
    from bptt.train import SeqData

    ck = checkpoint.load(model_path)
    vocab, labels = Vocab(ck.meta["vocab"]), Labels(ck.meta["labels"])
    ex, _ = read_examples(test_path, "tag", tokenizer=ck.meta["tokenizer"])
    data = SeqData(*encode(ex, vocab, labels, "tag"), "tag")
    blank = labels.index.get("_", -1)
    scores = {}
    for i in range(len(data)):
        b = data.batch([i])
        pred = np.asarray(ck.model.predict(b.x, b.lengths)).argmax(-1)[0]
        y = b.y[0]
        ans = y != blank
        scores.setdefault(int(ans.sum()), []).append(float((pred[ans] == y[ans]).mean()))
    return {k: float(np.mean(v)) for k, v in sorted(scores.items())}


def run_one(task, paths, seed, max_time, extra, threads, workdir) -> dict:
    env = dict(os.environ, BPTT_CPU_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads))
    out = os.path.join(workdir, f"{task}-s{seed}-{zlib.crc32(extra.encode()):08x}.bptt")
    t0 = time.perf_counter()
    r = bptt("train", "--data", paths["train"], "--valid", paths["valid"], "--task", paths["kind"], "--out", out,
             "--seed", seed, "--max-time", max_time, "--quiet", *shlex.split(extra), env=env)
    wall = time.perf_counter() - t0
    if r.returncode:
        return {"task": task, "seed": seed, "extra": extra, "error": (r.stderr or r.stdout).strip()[-500:]}
    epochs = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
    best = [ln for ln in epochs if ln.endswith("*")]
    if paths["kind"] == "tag":
        by_len = answer_accuracy(out, paths["test"])
    else:
        e = json.loads(bptt("evaluate", "--model", out, "--data", paths["test"], "--by-length", "--json").stdout)
        by_len = {int(k): v["accuracy"] for k, v in e["by_length"].items()}
    v = json.loads(bptt("evaluate", "--model", out, "--data", paths["valid"], "--json").stdout)
    return {"task": task, "seed": seed, "extra": extra, "wall_s": round(wall, 1), "epochs": len(epochs),
            "last_epoch": epochs[-1] if epochs else "", "best_epoch": best[-1] if best else "",
            "stopped": next((ln for ln in r.stdout.splitlines() if ln.startswith("stopped")), ""),
            "valid": v["accuracy"], "test_mean": statistics.mean(by_len.values()), "by_length": by_len}


def run_all(runs, max_time, jobs, threads, workdir, span: str, each=None) -> list:
    """Run ``runs`` -- ``(head, task, paths, seed, extra, fields)`` each -- with :func:`run_one`, ``jobs``
    at a time; as each ends, print ``head`` and its figures (``span``: the test lengths' text), call
    ``each(result)``.  Returns the results (each with ``fields`` added), in the order they ended."""
    results = []
    with cf.ThreadPoolExecutor(jobs) as pool:
        futs = {pool.submit(run_one, task, paths, seed, max_time, extra, threads, workdir): (head, fields)
                for head, task, paths, seed, extra, fields in runs}
        for f in cf.as_completed(futs):
            head, fields = futs[f]
            r = dict(f.result(), **fields)
            results.append(r)
            if "error" in r:
                print(f"{head}: ERROR {r['error']}", flush=True)
            else:
                print(f"{head}: valid {r['valid']:.1%}  test {span} {r['test_mean']:.1%}  "
                      f"({' '.join(f'{k}:{v:.0%}' for k, v in r['by_length'].items())})  {r['epochs']} epochs "
                      f"{r['wall_s']:.0f}s  {r['stopped']}", flush=True)
            if each is not None:
                each(r)
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=TASKS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--max-time", type=float, default=600, help="--max-time of each training run (seconds)")
    ap.add_argument("--n-train", type=int, default=10_000)
    ap.add_argument("--config", action="append", default=None, metavar="NAME=ARGS",
                    help="extra bptt train arguments under a name (repeat for a sweep; default: none, the defaults)")
    ap.add_argument("--jobs", type=int, default=None, help="runs side by side (default: one per core)")
    ap.add_argument("--threads", type=int, default=None, help="cores per run (default: the cores / --jobs)")
    ap.add_argument("--data-dir", default=None, help="where the data files go (default: a temporary folder)")
    ap.add_argument("--json", help="append one JSON line per run to this file")
    a = ap.parse_args(argv)
    configs = [c.split("=", 1) if "=" in c else (c, c) for c in (a.config or ["defaults="])]
    jobs = a.jobs or os.cpu_count() or 1
    threads = a.threads or max(1, (os.cpu_count() or 1) // jobs)
    root = a.data_dir or tempfile.mkdtemp(prefix="bptt-lengths-")
    data = {t: make_data(t, root, a.n_train) for t in a.tasks}
    runs = [(name, t, s, extra) for name, extra in configs for t in a.tasks for s in a.seeds]
    print(f"{len(runs)} runs, {jobs} at a time ({threads} thread(s) each), --max-time {a.max_time:g}s; data in {root}",
          flush=True)
    def save(r):
        if a.json:
            with open(a.json, "a") as fh:
                fh.write(json.dumps(r) + "\n")

    results = run_all([(f"{name:12} {t:20} seed {s}", t, data[t], s, extra, {"config": name})
                       for name, t, s, extra in runs], a.max_time, jobs, threads, root, "41-500", each=save)
    print()
    print(f"{'config':12} {'task':20} {'valid (1-40)':>14} {'test 41-500, mean over seeds (min-max)':>40} "
          f"{'paper RNN':>10}")
    for name, _ in configs:
        for t in a.tasks:
            rs = [r for r in results if r["config"] == name and r["task"] == t and "error" not in r]
            if not rs:
                continue
            te = [100 * r["test_mean"] for r in rs]
            va = statistics.mean(100 * r["valid"] for r in rs)
            paper = PAPER_RNN.get(t)
            print(f"{name:12} {t:20} {va:13.1f}% {statistics.mean(te):31.1f}% ({min(te):.1f}-{max(te):.1f})"
                  f" {'' if paper is None else f'{paper:9.1f}%'}")
    return results


if __name__ == "__main__":
    main()
