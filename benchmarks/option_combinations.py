"""Random combinations of valid training options, each trained model then put through the other
commands: no run may end with a traceback, or with an exit status other than 0 (done) or 2 (refused,
in one line).  A search for crashes that no test of one option at a time reaches, run by hand (not
in the suite: 40 combinations take about two minutes on 2 cores).  Writes its files in the current
folder.

    mkdir /tmp/combos && cd /tmp/combos && python /path/to/benchmarks/option_combinations.py 1 40

Arguments: the seed of the draws and the number of combinations.  Prints one line per refusal and
the whole error of each failure, then ``done N bad K``; the exit status is 1 when K > 0.
"""

from __future__ import annotations

import random
import subprocess
import sys

# (option, values, the tasks it is drawn for, how often)
OPTIONS = [
    ("--cell", ["rnn", "gru", "lstm"], None, 0.5),
    ("--layers", ["1", "2", "3"], None, 0.4),
    ("--bidirectional", None, ("classify", "tag", "regress", "numbers"), 0.4),
    ("--learn-s0", None, None, 0.3),
    ("--dtype", ["float64"], None, 0.2),
    ("--dropout", ["0.3"], None, 0.3),
    ("--word-dropout", ["0.2"], ("classify", "tag", "regress", "lm"), 0.2),
    ("--optimizer", ["sgd"], None, 0.2),
    ("--lr-schedule", ["cosine", "cosine-time", "constant"], None, 0.2),
    ("--add-layer", ["layer_norm@states", "layer_norm@head", "layer_norm@input"], None, 0.2),
    ("--bucket", None, ("classify", "tag", "regress", "numbers"), 0.1),
    ("--no-bucket", None, ("classify", "tag", "regress", "numbers"), 0.1),
    ("--class-weights", ["balanced", "sqrt"], ("classify",), 0.2),
    ("--valid-split", ["0.2"], ("classify", "tag", "regress", "numbers"), 0.2),
    ("--window", ["2", "7", "20"], ("lm",), 0.2),
    ("--no-stateful", None, ("lm",), 0.2),
    ("--batch-size", ["1", "3", "9"], None, 0.15),
    ("--hidden", ["1", "3", "5"], None, 0.1),
]


def bptt(args, stdin=None):
    p = subprocess.run([sys.executable, "-m", "bptt", *args], capture_output=True, text=True, input=stdin,
                       timeout=300)
    return p.returncode, p.stderr


def make_data(r: random.Random) -> dict:
    """A small file of each kind: classify, tag, regress (symbols), a language model's text, numbers."""
    bptt(["data", "make", "parity", "--lengths", "1-12", "--n", "120", "--seed", "1", "--out", "cls.tsv"])
    bptt(["data", "make", "addition", "--lengths", "1-3", "--n", "80", "--seed", "1", "--out", "tag.tsv"])
    strings = ["".join(r.choice("ab") for _ in range(r.randint(1, 10))) for _ in range(100)]
    with open("reg.tsv", "w") as f:
        f.write("text\tlabel\n" + "".join(f"{s}\t{s.count('a') / len(s):.3f}\n" for s in strings))
    with open("lm.txt", "w") as f:
        f.write(" ".join(r.choice("the cat sat on a mat dog ran".split()) for _ in range(3000)))
    with open("num.tsv", "w") as f:
        f.write("text\tlabel\n" + "".join(" ".join(f"{r.uniform(-1, 1):.3f}" for _ in range(r.randint(2, 9)))
                                           + f"\t{r.choice('xy')}\n" for _ in range(80)))
    return {"classify": "cls.tsv", "tag": "tag.tsv", "regress": "reg.tsv", "lm": "lm.txt", "numbers": "num.tsv"}


def main(seed: int, n: int) -> int:
    r = random.Random(seed)
    data = make_data(r)
    bad = 0
    for i in range(n):
        task = r.choice(list(data))
        model = f"m{i}.bptt"
        args = ["train", "--data", data[task], "--out", model, "--max-steps", str(r.randint(1, 6)), "--quiet"]
        if task != "numbers":
            args += ["--task", task]
        for opt, values, tasks, p in OPTIONS:
            if (tasks is None or task in tasks) and r.random() < p:
                args += [opt] + ([r.choice(values)] if values else [])
        runs = [("train", *bptt(args))]
        if runs[0][1] == 0:
            if task == "lm":
                runs.append(("evaluate", *bptt(["evaluate", "--model", model, "--data", data[task]])))
                runs.append(("generate", *bptt(["generate", "--model", model, "--length", "5"])))
            else:
                extra = "--by-length" if task == "regress" else "--per-class"
                runs.append(("evaluate", *bptt(["evaluate", "--model", model, "--data", data[task], extra])))
                lines = "".join(line.split("\t")[0] + "\n" for line in open(data[task]).read().splitlines()[1:6])
                runs.append(("predict", *bptt(["predict", "--model", model], stdin=lines)))
            runs.append(("export", *bptt(["export", "--model", model, "--out", f"m{i}.safetensors"])))
            if task != "numbers":
                runs.append(("embeddings", *bptt(["embeddings", "--model", model, "--out", f"m{i}.vec"])))
        for name, rc, err in runs:
            if "Traceback" in err or rc not in (0, 2):
                bad += 1
                print(f"FAIL {name} (status {rc}): bptt {' '.join(args)}\n{err[-1500:]}", flush=True)
            elif rc == 2:
                print(f"refused {name}: {' '.join(args[5:])} | {err.strip().splitlines()[-1][:200]}", flush=True)
    print(f"done {n} bad {bad}")
    return bad


if __name__ == "__main__":
    sys.exit(1 if main(int(sys.argv[1]) if len(sys.argv) > 1 else 0, int(sys.argv[2]) if len(sys.argv) > 2 else 40)
             else 0)
