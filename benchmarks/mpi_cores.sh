# One process against two MPI processes that share the cores, and two that each take both cores' threads
# (bptt.distributed.Comm.share_cores); run in a scratch folder: bash benchmarks/mpi_cores.sh > cores.log
set -e
run() { echo "+ $*"; "$@"; }
echo "=== MPI ranks and cores ($(date -u +%FT%TZ), commit $(git -C /work/main rev-parse --short HEAD)), 2-core machine, alone"
run bptt data make ab-parity --lengths 1-30 --n 4000 --seed 1 --out tr.tsv
run bptt data make ab-parity --lengths 1-30 --n 500 --seed 2 --out va.tsv
T="bptt train --data tr.tsv --valid va.tsv --task classify --cell lstm --quiet"
t() { local s=$(date +%s.%N); "$@" > /dev/null; echo "  took $(python -c "print(f'{$(date +%s.%N) - $s:.1f}')") s"; }
echo "+ $T --out one.bptt"; t $T --out one.bptt
echo "+ mpiexec -n 2 $T --out two.bptt   (each rank its share of the cores)"; t mpiexec -n 2 $T --out two.bptt
echo "+ OPENBLAS_NUM_THREADS=2 BPTT_CPU_THREADS=2 mpiexec -n 2 $T --out over.bptt   (each rank both cores' worth of threads)"
OPENBLAS_NUM_THREADS=2 BPTT_CPU_THREADS=2 t mpiexec -n 2 $T --out over.bptt
