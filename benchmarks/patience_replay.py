"""Replay --patience P on finished runs from their metrics files (OUT.metrics.csv), exactly: an epoch is
better when its (validation accuracy, -validation loss) is higher than the best so far, as bptt.train ranks
epochs; the run would stop at the first epoch that ends P epochs in a row without a better one, keeping the
last better epoch's model.  When that model is the one the whole run kept (its best epoch comes before the
stop), stopping there changes nothing but the time; otherwise the shorter run keeps an earlier, worse model.

    python benchmarks/patience_replay.py [--patience 50 100 200] METRICS.csv ...
"""
import argparse
import csv


def replay(rows, patience):
    best, best_epoch, bad = None, None, 0
    for r in rows:
        score = (float(r["valid_accuracy"]), -float(r["valid_loss"]))
        if best is None or score > best:
            best, best_epoch, bad = score, int(r["epoch"]), 0
        else:
            bad += 1
        if patience and bad >= patience:
            return int(r["epoch"]), best_epoch, float(r["time"])
    return int(rows[-1]["epoch"]), best_epoch, float(rows[-1]["time"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patience", nargs="+", type=int, default=[50, 100, 200])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    print("run: epochs run, kept epoch (accuracy), seconds | for each P: stop epoch, kept epoch, same model?, seconds")
    totals = {p: [0, 0, 0.0] for p in a.patience}
    whole = 0.0
    for f in a.files:
        rows = [r for r in csv.DictReader(open(f)) if r.get("valid_accuracy")]
        end, kept, secs = replay(rows, 0)
        whole += secs
        acc = float(next(r for r in rows if int(r["epoch"]) == kept)["valid_accuracy"])
        parts = []
        for p in a.patience:
            stop, k, s = replay(rows, p)
            same = k == kept
            totals[p][0] += same
            totals[p][1] += 1
            totals[p][2] += s
            parts.append(f"P={p}: {stop}, {k}, {'same' if same else 'EARLIER'}, {s:.0f}s")
        print(f"{f.rsplit('/', 1)[-1]}: {end}, {kept} ({acc:.1%}), {secs:.0f}s | " + " | ".join(parts))
    for p, (same, n, s) in totals.items():
        print(f"P={p}: the same model in {same} of {n} runs, {s:.0f}s of {whole:.0f}s ({s / whole:.0%})")


if __name__ == "__main__":
    main()
