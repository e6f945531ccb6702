# The runs of a user's own task, sourced by own_task_xor.sh and own_task_mod4.sh once they have written
# train.tsv, the validation file ($V, default valid.tsv) and test.tsv (lengths 41-200) in the current folder:
# the defaults with each cell of ${CELLS:-$DEFAULT_CELLS}, seeds 0-2, 150 s each, two runs at a time on one
# core each; one line per run: its last epoch, its best validation accuracy, and the test accuracy of the
# model it kept (its best on validation).
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
one() {  # cell seed
  bptt train --data train.tsv --valid "${V:-valid.tsv}" --out "$1-$2.bptt" --cell "$1" --seed "$2" --max-time 150 \
    --quiet > "$1-$2.log" 2>&1
  echo "cell $1 seed $2: $(grep -o 'epoch [0-9]* .*acc [0-9.]*%' "$1-$2.log" | tail -1 | cut -c1-12) best valid $(
    python -c "import csv; print(max(float(r['valid_accuracy']) for r in csv.DictReader(open('$1-$2.bptt.metrics.csv'))))"
  ); test (41-200) $(bptt evaluate --model "$1-$2.bptt" --data test.tsv | grep -o 'accuracy [0-9.]*%')"
}
for cell in ${CELLS:-$DEFAULT_CELLS}; do  # CELLS=lstm: one cell alone
  one "$cell" 0 & one "$cell" 1 & wait
  one "$cell" 2
done
