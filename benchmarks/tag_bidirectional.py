"""Should tags of symbols read both directions by default?  ``bptt train`` with its defaults against the
same with each ``--config`` (e.g. ``bi=--bidirectional``) on tagging tasks of symbols and numbers, each
trained on lengths 1-40 and tested on longer sequences:

  the seven tasks of benchmarks/own_tag_tasks.py (4,000 training, 400 validation sequences of lengths
  1-40; 500 test sequences of lengths 41-200): four whose tag depends on the tokens before it
  (prefix-parity, count-mod3, delay2, latch) and three on the tokens after it (next-same, next-token,
  suffix-parity), which no left-to-right model can learn;
  the tag tasks of benchmarks/number_tasks.py (--inputs numbers; test lengths 41-200): seen-high,
  record and rising (by the values before a step), next-up (by the value after it) and local-max (both);
  addition, the tutorial's example (bptt data make addition: 4,000 training and 500 validation sums of
  1-4 digits; test: 100 sums of 10,000-digit numbers, whole sums right, as benchmarks/addition_10k.sh).

Each run: one core of its own (taskset), two at a time, ``--max-time`` as a guard (a run that reaches it
is marked).  Printed per run: the kept model's validation accuracy (whole sequences / tokens; what
decides), its epochs and seconds, and its test accuracy (whole sequences / tokens; reported).

    python benchmarks/tag_bidirectional.py --config bi=--bidirectional > benchmarks/results/tag-bidirectional.log
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import queue
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OWN = ["prefix-parity", "count-mod3", "delay2", "latch", "next-same", "next-token", "suffix-parity"]
NUMBERS = ["seen-high", "record", "rising", "next-up", "local-max"]
TASKS = OWN + NUMBERS + ["addition"]


def make_data(task: str, seed: int, root: str) -> str:
    """Writes TASK's train/valid/test files for SEED under ROOT; returns their folder."""
    where = os.path.join(root, f"s{seed}")
    os.makedirs(where, exist_ok=True)
    d = os.path.join(where, task)
    if task in OWN:
        subprocess.run([sys.executable, os.path.join(HERE, "own_tag_tasks.py"), task, str(seed)], cwd=where, check=True)
    elif task in NUMBERS:
        subprocess.run([sys.executable, os.path.join(HERE, "number_tasks.py"), task, str(seed)], cwd=where, check=True)
    else:  # addition: the data of benchmarks/addition_10k.sh, its seeds shifted by the run's
        os.makedirs(d, exist_ok=True)
        for split, lengths, n, s in (("train", "1-4", 4000, 1), ("valid", "1-4", 500, 2), ("test", "10000", 100, 5)):
            subprocess.run(["bptt", "data", "make", "addition", "--lengths", lengths, "--n", str(n), "--seed",
                            str(s + 10 * seed), "--out", os.path.join(d, f"{split}.tsv")], check=True,
                           stdout=subprocess.DEVNULL)
    return d


def parse_eval(text: str) -> tuple[float, float]:
    """(whole sequences, tokens) from bptt evaluate's line or an epoch line (``acc``, ``token acc``)."""
    acc = re.search(r"(?<!token )\bacc(?:uracy)? ([\d.]+)%", text)
    tok = re.search(r"token acc(?:uracy)? ([\d.]+)%", text)
    return (float(acc.group(1)) if acc else float("nan"), float(tok.group(1)) if tok else float("nan"))


def run(job, cores: "queue.Queue[int]", max_time: int) -> dict:
    name, args, task, seed, d = job
    core = cores.get()
    try:
        model = os.path.join(d, f"{name}.bptt")
        extra = ["--inputs", "numbers"] if task in NUMBERS else []
        cmd = ["bptt", "train", "--data", f"{d}/train.tsv", "--valid", f"{d}/valid.tsv", "--task", "tag", "--out",
               model, "--seed", str(seed), "--quiet", "--max-time", str(max_time)] + extra + shlex.split(args)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", BPTT_CPU_THREADS="1")
        t0 = time.time()
        tr = subprocess.run(["taskset", "-c", str(core)] + cmd, env=env, capture_output=True, text=True)
        secs = time.time() - t0
        log = tr.stdout + tr.stderr
        epochs = [ln for ln in log.splitlines() if ln.startswith("epoch ")]
        kept = [ln for ln in epochs if ln.rstrip().endswith("*")]
        valid = parse_eval(kept[-1]) if kept else (float("nan"), float("nan"))
        ev = subprocess.run(["taskset", "-c", str(core), "bptt", "evaluate", "--model", model, "--data",
                             f"{d}/test.tsv"], env=env, capture_output=True, text=True)
        return {"name": name, "task": task, "seed": seed, "valid": valid, "test": parse_eval(ev.stdout),
                "epochs": len(epochs), "secs": secs, "rc": tr.returncode,
                "guard": re.search(r"^stopped: reached --max-time", log, re.M) is not None,
                "cmd": " ".join(cmd)}
    finally:
        cores.put(core)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", action="append", default=[], help="NAME=ARGS added to bptt train (repeatable)")
    p.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-time", type=int, default=120)
    p.add_argument("--work", default=None)
    a = p.parse_args()
    configs = [("defaults", "")] + [tuple(c.split("=", 1)) for c in a.config]
    root = a.work or tempfile.mkdtemp(prefix="tagbi-")
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"=== python benchmarks/tag_bidirectional.py {' '.join(shlex.quote(x) for x in sys.argv[1:])} "
          f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, commit {commit}, work {root})", flush=True)
    jobs = []
    for seed in a.seeds:
        for task in a.tasks:
            d = make_data(task, seed, root)
            jobs += [(name, args, task, seed, d) for name, args in configs]
    cores: queue.Queue[int] = queue.Queue()
    for c in (0, 1):
        cores.put(c)
    results = []
    with cf.ThreadPoolExecutor(2) as ex:
        for r in ex.map(lambda j: run(j, cores, a.max_time), jobs):
            results.append(r)
            print(f"{r['name']:10s} {r['task']:14s} seed {r['seed']}  valid {r['valid'][0]:6.2f} / "
                  f"{r['valid'][1]:6.2f}%  test {r['test'][0]:6.2f} / {r['test'][1]:6.2f}%  "
                  f"{r['epochs']:4d} epochs {r['secs']:6.1f} s{'  (stopped by --max-time)' if r['guard'] else ''}"
                  f"{'  rc ' + str(r['rc']) if r['rc'] else ''}", flush=True)
    print("\nsummary: mean over seeds of the test accuracy, whole sequences / tokens (validation tokens); seconds")
    for task in a.tasks:
        cells = []
        for name, _ in configs:
            rs = [r for r in results if r["task"] == task and r["name"] == name]
            m = lambda k, i: statistics.mean(r[k][i] for r in rs)
            cells.append(f"{name} {m('test', 0):6.2f} / {m('test', 1):6.2f} ({m('valid', 1):6.2f}) "
                         f"{statistics.mean(r['secs'] for r in rs):5.0f} s")
        print(f"  {task:14s} " + "   ".join(cells))
    for name, _ in configs:
        rs = [r for r in results if r["name"] == name]
        worst = min(rs, key=lambda r: r["test"][0])
        print(f"  {name}: worst test run {worst['task']} seed {worst['seed']} {worst['test'][0]:.2f}% of "
              f"sequences; {sum(r['test'][0] == 100.0 for r in rs)} of {len(rs)} runs at 100%; "
              f"{sum(r['secs'] for r in rs):.0f} s in all")


if __name__ == "__main__":
    main()
