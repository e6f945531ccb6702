"""What each --patience would have cost and saved on bptt train's defaults for classifying text.

Reads the runs of ``bash benchmarks/text_patience.sh`` with ``--patience 0`` (all 200 epochs, the
validation accuracy and loss after every epoch) from benchmarks/results/text-patience.log and replays
early stopping on them as ``bptt train`` does it: an epoch is better when its validation accuracy is
higher, or equal with a lower loss (``bptt.train._score``); a run stops after k epochs in a row that
are not better, keeping its best.  For each run and k: the epoch where it would stop, the validation
accuracy of the model it would keep, how far below the run's best over all 200 epochs that is, and the
epochs it would save.

    python benchmarks/text_patience.py [LOG]
"""
from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

LOG = Path(__file__).parent / "results" / "text-patience.log"
PATIENCES = (3, 5, 10, 15, 20, 30)


def runs(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Each --patience 0 run's (validation accuracy, validation loss) after each epoch."""
    out: dict[str, list[tuple[float, float]]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("== "):
            name = line[3:].split(":")[0]
            name = name if "-p0-" in name else None
            if name:
                out[name] = []
        m = re.match(r"epoch (\d+)\s+step .*valid loss ([\d.e+-]+)\s+acc ([\d.]+)%", line)
        if m and name:
            out[name].append((float(m.group(3)), -float(m.group(2))))
    return out


def replay(scores: list[tuple[float, float]], k: int | None) -> tuple[int, int]:
    """(epochs run, epoch kept) with early stopping after k epochs that are not better (None: never)."""
    best, at, bad = None, 0, 0
    for e, s in enumerate(scores, 1):
        if best is None or s > best:
            best, at, bad = s, e, 0
        else:
            bad += 1
            if k is not None and bad >= k:
                return e, at
    return len(scores), at


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else LOG
    data = runs(path)
    print(f"# replay of {path.name}: {len(data)} runs of 200 epochs; accuracy = validation accuracy of the "
          f"model kept, %; lost = points below the run's best over all its epochs; ran = epochs run")
    print(f"{'run':28s} {'best':>6s} {'at':>4s}  " + "  ".join(f"{'k=' + str(k) + ' acc lost ran':>19s}"
                                                            for k in PATIENCES))
    lost = {k: [] for k in PATIENCES}
    ran = {k: [] for k in PATIENCES}
    for name, scores in data.items():
        if not scores:
            continue
        n, at = replay(scores, None)
        best = scores[at - 1][0]
        cells = []
        for k in PATIENCES:
            e, kept = replay(scores, k)
            acc = scores[kept - 1][0]
            lost[k].append(best - acc)
            ran[k].append(e)
            cells.append(f"{acc:7.2f} {best - acc:5.2f} {e:4d}")
        print(f"{name:28s} {best:6.2f} {at:4d}  " + "  ".join(f"{c:>19s}" for c in cells))
    print("# over all runs, validation points lost: mean / worst; epochs run: mean (of 200)")
    for k in PATIENCES:
        print(f"k={k:<3d} lost {statistics.mean(lost[k]):.2f} / {max(lost[k]):.2f}   epochs {statistics.mean(ran[k]):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
