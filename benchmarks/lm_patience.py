"""What each --patience would have cost and saved on the language-model runs behind LM_HIDDEN.

Reads the epoch lines of benchmarks/results/lm-defaults.log (bash benchmarks/lm_defaults.sh: 300 s a
run on one core, the validation loss after every epoch) and replays early stopping on them: for each
run and each patience k, the epoch where the run would have stopped, the best validation loss it would
have kept, how much worse that is than the run's best, and how many of its epochs it would have saved.
A run cut by --max-time before it stopped improving saves nothing and loses nothing here.

    python benchmarks/lm_patience.py > benchmarks/results/lm-patience.log
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

LOG = Path(__file__).parent / "results" / "lm-defaults.log"
PATIENCES = (3, 5, 10, 15, 20)


def runs(path: Path) -> dict[str, list[float]]:
    """Each run's validation loss after each finished epoch (mid-epoch stops left out)."""
    out: dict[str, list[float]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("== "):
            name = line[3:].split(":")[0]
            out[name] = []
        m = re.match(r"epoch (\d+)\s+step .*valid loss ([\d.]+)", line)
        if m and name and "mid-epoch" not in line:
            out[name].append(float(m.group(2)))
    return out


def replay(losses: list[float], k: int) -> tuple[int, float]:
    """(epochs run, best loss kept) with early stopping after k epochs without a better loss."""
    best, bad = float("inf"), 0
    for e, x in enumerate(losses, 1):
        if x < best:
            best, bad = x, 0
        else:
            bad += 1
            if bad >= k:
                return e, best
    return len(losses), best


def main() -> int:
    data = runs(LOG)
    print(f"# {LOG.name}: {len(data)} runs; loss = best validation loss, nats per token")
    print(f"{'run':16s} {'epochs':>6s} {'best':>7s} {'at':>3s} {'longest wait':>12s}  "
          + "  ".join(f"{'k=' + str(k) + ' stop lost saved':>21s}" for k in PATIENCES))
    worst = {k: 0.0 for k in PATIENCES}
    for name, losses in data.items():
        if not losses:
            continue
        best = min(losses)
        at = losses.index(best) + 1
        # the longest run of epochs without a better loss that a better one still ended
        wait, run_best, since = 0, float("inf"), 0
        for x in losses:
            if x < run_best:
                wait, run_best, since = max(wait, since), x, 0
            else:
                since += 1
        cells = []
        for k in PATIENCES:
            e, kept = replay(losses, k)
            worst[k] = max(worst[k], kept - best)
            cells.append(f"{e:>3d} {kept - best:+.4f} {len(losses) - e:>3d}")
        print(f"{name:16s} {len(losses):>6d} {best:>7.4f} {at:>3d} {wait:>12d}  " + "  ".join(f"{c:>21s}" for c in cells))
    print("stop: epochs run; lost: how much worse the loss kept is than the run's best; saved: epochs not run")
    print("most lost by stopping early, over all runs: " + ", ".join(f"k={k}: {v:.4f}" for k, v in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
