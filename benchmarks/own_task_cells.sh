# A task bptt does not ship, tried with each cell and the defaults: strings over p q r labelled yes when a
# "pq" is followed, later, by an "r"; 4,000 training and 500 validation strings of lengths 1-30, tested on
# 500 strings of lengths 31-150.  Seeds 0-2 per cell.  Run in a scratch folder:
#   bash benchmarks/own_task_cells.sh > own-task-cells.log
set -e
echo "=== own task with each cell ($(date -u +%FT%TZ), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD))"
python - <<'PY'
import random
random.seed(5)
def make(n, lo, hi, path):
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(n):
            s = "".join(random.choice("pqr") for _ in range(random.randint(lo, hi)))
            i = s.find("pq")
            f.write(f"{s}\t{'yes' if i >= 0 and 'r' in s[i + 2:] else 'no'}\n")
make(4000, 1, 30, "train.tsv"); make(500, 1, 30, "valid.tsv"); make(500, 31, 150, "test.tsv")
PY
for cell in rnn gru lstm; do
  for seed in 0 1 2; do
    echo "+ bptt train --data train.tsv --valid valid.tsv --task classify --cell $cell --seed $seed --out m.bptt --quiet"
    bptt train --data train.tsv --valid valid.tsv --task classify --cell $cell --seed $seed --out m.bptt --quiet | tail -1
    echo "  test 31-150: $(bptt evaluate --model m.bptt --data test.tsv | head -1)"
  done
done
