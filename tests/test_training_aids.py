"""The training aids: length curriculum, warm-up, restarts, stopping at a perfect validation
score, the chance-level flag, the gradient-norm probe, and reading characters by default."""

import os
import time

import numpy as np
import pytest

from bptt import Model, ModelConfig, checkpoint
from bptt.data import Example, Labels, Vocab, detect_tokenizer, encode
from bptt.restarts import parallel_runs, run_restarts, run_score
from bptt.tasks import make
from bptt.train import (SeqData, TrainConfig, at_chance, chance_accuracy, curriculum_caps, scheduled_lr, train)
from conftest import run


def _data(task, lengths, n, seed, vocab=None, labels=None, shuffle_labels=False):
    rows = make(task, lengths, n, seed)
    if shuffle_labels:
        targets = np.random.default_rng(seed).permutation([t for _, t in rows])
        rows = [(s, t) for (s, _), t in zip(rows, targets)]
    ex = [Example(list(s), t, i + 1) for i, (s, t) in enumerate(rows)]
    vocab = vocab or Vocab.build(e.tokens for e in ex)
    labels = labels or Labels.build(e.target for e in ex)
    return SeqData(*encode(ex, vocab, labels, "classify"), "classify"), vocab, labels


def _model(vocab, labels, seed=0, hidden=16):
    return Model(ModelConfig(vocab_size=len(vocab), embed_dim=8, hidden_size=hidden, output_size=len(labels)),
                 rng=np.random.default_rng(seed))


def test_curriculum_caps_grow_by_half_from_a_tenth():
    assert curriculum_caps(np.arange(1, 41)) == [4, 6, 9, 14, 21, 32, 40]
    assert curriculum_caps([5, 7, 12]) == [5, 8, 12]  # never below the shortest length
    assert curriculum_caps([3, 3]) == [3]


def test_curriculum_trains_on_short_sequences_first_and_admits_longer_ones():
    tr, V, Lb = _data("third-last", (1, 30), 600, 1)
    batches = tr.epoch_batches(TrainConfig(batch_size=16), 0, max_length=3)
    admitted = np.concatenate([idx for idx, _, _ in batches])
    assert sorted(admitted) == sorted(np.flatnonzero(tr.lengths <= 3))  # exactly the short ones, each once
    lines = []
    hist = train(_model(V, Lb), tr, None, TrainConfig(lr=0.01, clip=1, epochs=12, curriculum=True),
                 log=lines.append, progress=False)
    caps = [h["max_length"] for h in hist]
    assert caps[0] == 3 and caps == sorted(caps) and caps[-1] == 30  # from 3 up to all of them, never back
    assert any("curriculum: training accuracy" in ln for ln in lines)


def test_curriculum_is_refused_for_a_language_model():
    from bptt.lm import TextStream
    m = Model(ModelConfig(vocab_size=5, hidden_size=4, output_size=5, head="many_to_many"),
              rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="curriculum"):
        train(m, TextStream(np.arange(100) % 4 + 1, window=8), None, TrainConfig(curriculum=True), log=lambda s: None,
              progress=False)


def test_warmup_ramps_the_rate_linearly_then_holds():
    cfg = TrainConfig(lr=0.01, warmup=4)
    assert [scheduled_lr(cfg, 0.01, s, 10) for s in range(6)] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01])
    cos = TrainConfig(lr=0.01, warmup=2, lr_schedule="cosine", epochs=1)
    assert scheduled_lr(cos, 0.01, 0, 4) == pytest.approx(0.005)  # half of the cosine's start
    assert scheduled_lr(cos, 0.01, 2, 4) == pytest.approx(0.005)  # the cosine at half way, warm-up over
    with pytest.raises(ValueError, match="warmup"):
        TrainConfig(warmup=-1)


def test_stop_perfect_stops_after_n_perfect_epochs():
    tr, V, Lb = _data("third-last", (1, 12), 400, 1)
    va, *_ = _data("third-last", (1, 12), 200, 2, V, Lb)
    lines = []
    hist = train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, clip=1, epochs=60, stop_perfect=2, perfect_loss=1.0),
                 log=lines.append, progress=False)
    acc = [h["valid_accuracy"] for h in hist]
    assert acc[-2:] == [1.0, 1.0] and len(hist) < 60
    assert not (len(acc) > 2 and acc[-3] == 1.0)  # it stopped at the second perfect epoch, not later
    assert "100% validation accuracy with a loss at most 1 for 2 epoch(s) in a row" in lines[-1]
    # with the default margin it goes on until the validation loss is small as well
    hist = train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, clip=1, epochs=200, stop_perfect=2), log=lambda s: None,
                 progress=False)
    tail = hist[-2:]
    assert all(h["valid_accuracy"] == 1.0 and h["valid_loss"] <= 1e-4 for h in tail) and len(hist) < 200
    assert not (hist[-3]["valid_accuracy"] == 1.0 and hist[-3]["valid_loss"] <= 1e-4)
    assert any(h["valid_accuracy"] == 1.0 and h["valid_loss"] > 1e-4 for h in hist)  # perfect, but not yet counted
    with pytest.raises(ValueError, match="perfect_loss"):
        TrainConfig(perfect_loss=0.0)


def test_chance_flag_fires_on_shuffled_labels_and_not_on_a_learnable_task():
    tr, V, Lb = _data("third-last", (1, 12), 400, 1)
    va, *_ = _data("third-last", (1, 12), 300, 2, V, Lb)
    learn = []
    train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, clip=1, epochs=5), log=learn.append, progress=False)
    assert not any("at chance level" in ln for ln in learn)
    tr_s, *_ = _data("third-last", (1, 12), 400, 1, V, Lb, shuffle_labels=True)
    va_s, *_ = _data("third-last", (1, 12), 300, 2, V, Lb, shuffle_labels=True)
    shuffled = []
    train(_model(V, Lb), tr_s, va_s, TrainConfig(lr=0.01, clip=1, epochs=5), log=shuffled.append, progress=False)
    flagged = [ln for ln in shuffled if "at chance level" in ln]
    assert flagged and all(ln.startswith("epoch ") and float(ln.split()[1]) >= 3 for ln in flagged)
    assert sum("learned nothing yet" in ln for ln in shuffled) == 1  # the hint is given once
    # under a curriculum: not while the long sequences are still held back (at chance on them is expected)
    staged = []
    train(_model(V, Lb), tr_s, va_s, TrainConfig(lr=0.01, clip=1, epochs=40, curriculum=True), log=staged.append,
          progress=False)
    assert [ln for ln in shuffled if "learned nothing yet" in ln][0].startswith("  the model has learned nothing yet: "
                                                                                 "try --curriculum, --restarts")
    stages = [i for i, ln in enumerate(staged) if "now admitting lengths <= 12" in ln]
    flagged = [i for i, ln in enumerate(staged) if "at chance level" in ln]
    assert stages and flagged and min(flagged) > stages[0], staged
    hint = [ln for ln in staged if "learned nothing yet" in ln]  # the curriculum is on: not suggested again
    assert len(hint) == 1 and "try --restarts, a smaller --lr" in hint[0] and "--curriculum" not in hint[0]


def test_chance_accuracy_and_the_flag_threshold():
    d = SeqData([np.array([1])] * 10, [0] * 7 + [1] * 3, "classify")
    assert chance_accuracy(d) == pytest.approx(0.7)
    assert at_chance({"accuracy": 0.71, "n": 10000}, 0.7)
    assert not at_chance({"accuracy": 0.75, "n": 10000}, 0.7)
    assert at_chance({"accuracy": 0.75, "n": 50}, 0.7)  # within two standard errors of a small set


def test_grad_norm_probe_matches_the_api_and_is_plotted(tmp_path):
    tr, V, Lb = _data("parity", (1, 20), 200, 1)
    model = _model(V, Lb)
    idx = np.argsort(-tr.lengths, kind="stable")[:32]
    _, _, norms = model.loss_and_grads(tr.batch(idx), step_norms=True)
    assert tr.step_norms(model) == pytest.approx(np.asarray(norms).tolist())
    assert len(tr.step_norms(model)) == 20
    hist = train(model, tr, None, TrainConfig(epochs=3), log=lambda s: None, progress=False, grad_norms=True)
    assert len(hist[0]["initial_grad_norms"]) == 20 and all(len(h["grad_norms"]) == 20 for h in hist)
    pytest.importorskip("matplotlib")
    from bptt.plots import gradient_norms
    path = gradient_norms(tmp_path / "g.png", hist)
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_restarts_keep_the_run_with_the_best_validation_score(tmp_path, monkeypatch):
    import bptt.restarts as R

    scores = {0: 0.6, 1: 0.9, 2: 0.7}

    def fake_run(k, seed, model, job, tcfg, path, quiet, resume=False):
        for suf in R.SUFFIXES:
            open(path + suf, "w").write(f"run {k}")
        return [{"epoch": 1, "train_loss": 1.0, "valid_loss": 1.0, "valid_accuracy": scores[k] - 0.1,
                 "score": [scores[k] - 0.1, -1.0]},
                {"epoch": 2, "train_loss": 1.0, "valid_loss": 0.5, "valid_accuracy": scores[k], "score": [scores[k], -0.5]}]

    monkeypatch.setattr(R, "_one_run", fake_run)
    out = str(tmp_path / "m.bptt")
    m = Model(ModelConfig(vocab_size=4, hidden_size=4), rng=np.random.default_rng(0))
    job = {"valid": object()}
    hist = run_restarts(m, None, TrainConfig(seed=5), out, 3, job, log=lambda s: None, cores=2)
    assert run_score(hist) == (0.9, -0.5)
    assert all(open(out + suf).read() == "run 1" for suf in R.SUFFIXES)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.bptt", "m.bptt.last", "m.bptt.metrics.csv"])
    scores[0] = 1.0  # a perfect first run: no more restarts
    calls = []
    monkeypatch.setattr(R, "_one_run", lambda k, *a: calls.append(k) or fake_run(k, *a))
    run_restarts(m, None, TrainConfig(seed=5), out, 3, job, log=lambda s: None, cores=2)
    assert calls == [0]


@pytest.mark.parametrize("stop_in_run", [1, 2])
def test_an_interrupt_during_restarts_keeps_what_the_finished_runs_give(tmp_path, capsys, monkeypatch, stop_in_run):
    """SIGTERM (or Ctrl-C) during run 2 of 3: the best finished run is kept as OUT, nothing else is left;
    during run 1: its own files become OUT's, and --resume --seed continues it to the end."""
    import signal

    import bptt.restarts as R
    from bptt.optim import Adam

    monkeypatch.setattr(R, "parallel_runs", lambda n, cores=None: 1)  # one after another, on any machine
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "120", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "60", "--seed", "2", "--out", str(va))
    out = tmp_path / "m.bptt"
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--out", str(out), "--epochs", "2",
              "--hidden", "4", "--quiet", "--stop-perfect", "0", "--no-curriculum", "--cell", "rnn",
              "--batch-size", "32"]
    steps_per_run = 2 * 4  # 2 epochs of 120 rows in batches of 32 (given: 120 strings default to batches of 4)
    real_step, calls = Adam.step, []

    def step_then_sigterm(self, params, grads):
        calls.append(1)
        if len(calls) == steps_per_run * (stop_in_run - 1) + 6:  # in the run's second epoch
            os.kill(os.getpid(), signal.SIGTERM)
        return real_step(self, params, grads)

    monkeypatch.setattr(Adam, "step", step_then_sigterm)
    rc, o, e = run(capsys, *common, "--restarts", "3")
    monkeypatch.setattr(Adam, "step", real_step)
    assert rc == 143 and e.strip() == "terminated"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bptt", "m.bptt.last", "m.bptt.metrics.csv",
                                                          "tr.tsv", "va.tsv"]
    ck = checkpoint.load(str(out) + ".last")
    if stop_in_run == 2:
        assert "keeping the best of the 1 finished run(s)" in o and "kept run 1 (seed 0) of 1" in o
        assert ck.meta["train_state"]["epoch"] == 2 and ck.meta["seed"] == 0  # run 1, whole
    else:
        assert "continue it with --resume --seed 0 (without --restarts)" in o
        assert ck.meta["train_state"]["step"] == 6
        assert run(capsys, *common, "--resume", "--seed", "0")[0] == 0
        assert checkpoint.load(str(out) + ".last").meta["train_state"]["epoch"] == 2


def test_an_interrupted_run_says_the_line_that_goes_on_and_a_resume_without_its_files_is_given_it(
        tmp_path, capsys, monkeypatch):
    """Ctrl-C ends `bptt train` with the line that continues it (its own, with --resume), and that line
    resumes it; a resume given without --data (`--resume m.bptt`, `--resume --out m.bptt`) is told the
    interrupted run's line, saved in OUT.last, instead of the data file being taken for the model."""
    import shlex
    import signal

    from bptt.optim import Adam

    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-10", "--n", "200", "--seed", "1", "--out", str(tr))
    out = tmp_path / "m b.bptt"  # a space in the name: the line quotes it
    line = ["train", "--data", str(tr), "--out", str(out), "--epochs", "2", "--hidden", "4", "--quiet",
            "--no-curriculum", "--seed", "3"]
    real_step, calls = Adam.step, []

    def step_then_sigint(self, params, grads):
        calls.append(1)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return real_step(self, params, grads)

    monkeypatch.setattr(Adam, "step", step_then_sigint)
    rc, o, e = run(capsys, *line)
    monkeypatch.setattr(Adam, "step", real_step)
    said = f"interrupted; to go on: bptt {shlex.join(line + ['--resume'])}"
    assert rc == 130 and e.strip().splitlines()[-1] == said, e
    for wrong in (["train", "--resume", str(out)], ["train", "--resume", str(out) + ".last"],
                  ["train", "--resume", "--out", str(out)], ["train", f"--out={out}", "--resume"]):
        rc, o, e = run(capsys, *wrong)
        assert rc == 2 and e.strip().endswith(
            f"error: --resume goes on with the files and options of the run it continues: "
            f"bptt {shlex.join(line + ['--resume'])}"), (wrong, e)
    rc, o, e = run(capsys, *shlex.split(said.split("to go on: bptt ", 1)[1]))
    assert rc == 0 and "resuming at epoch 1, batch 5, step 5" in o + e, e
    assert checkpoint.load(str(out) + ".last").meta["train_state"]["epoch"] == 2
    rc, o, e = run(capsys, "train", "--resume", "--out", str(tmp_path / "none.bptt"))
    assert rc == 2 and f"--resume has no interrupted run to continue: {tmp_path / 'none.bptt'}.last does not " \
        "exist" in e, e
    rc, o, e = run(capsys, "train", "--resume")
    assert rc == 2 and "bptt train --resume --out OUT, with the --data (and --valid) of that run" in e, e
    ck = checkpoint.load(str(out) + ".last")  # a state file from before the line was saved in it
    del ck.meta["command"]
    checkpoint.save(str(out) + ".last", ck.model, meta=ck.meta, opt_state=ck.opt_state)
    rc, o, e = run(capsys, "train", "--resume", str(out))
    assert rc == 2 and f"bptt train --data DATA --out {shlex.quote(str(out))} --resume, with that run's --data" in e, e
    with pytest.raises(SystemExit):  # a model file is not taken for data: argparse's own error
        run(capsys, "train", str(out))
    e = capsys.readouterr().err
    assert "the data file goes after --data" not in e and "required: --data, --out" in e, e


def test_an_interrupt_during_restarts_side_by_side_stops_them_and_keeps_a_resumable_run(tmp_path, capsys, monkeypatch):
    """Runs side by side in their own processes: a SIGTERM to bptt stops them between batches (each
    saves its state), and with no run finished the first run's files become OUT's, resumable alone."""
    import signal
    import threading

    import bptt.restarts as R

    monkeypatch.setattr(R, "parallel_runs", lambda n, cores=None: 2)  # two processes, on any machine
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "120", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "60", "--seed", "2", "--out", str(va))
    out = tmp_path / "m.bptt"
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--out", str(out),
              "--epochs", "500", "--hidden", "4", "--quiet", "--stop-perfect", "0", "--no-curriculum", "--cell", "rnn"]

    def sigterm_once_both_saved():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
                os.path.exists(f"{out}.run{k}.last") for k in (1, 2)):
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=sigterm_once_both_saved, daemon=True).start()
    rc, o, e = run(capsys, *common, "--restarts", "3")
    assert rc == 143 and e.strip().endswith("terminated"), (rc, e)
    assert "continue it with --resume --seed 0 (without --restarts)" in o
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bptt", "m.bptt.last", "m.bptt.metrics.csv",
                                                          "tr.tsv", "va.tsv"]
    state = checkpoint.load(str(out) + ".last").meta["train_state"]
    assert checkpoint.load(str(out) + ".last").meta["seed"] == 0 and 1 <= state["epoch"] < 500
    rc, _, e = run(capsys, *common, "--resume", "--seed", "0", "--max-steps", str(state["step"] + 5))
    assert rc == 0, e  # the run continues alone
    assert checkpoint.load(str(out) + ".last").meta["train_state"]["step"] == state["step"] + 5


def test_a_restarts_set_killed_outright_resumes_and_ends_as_one_never_stopped(tmp_path, capsys):
    """SIGKILL (nothing is cleaned up) in the second of three runs leaves each begun run's files;
    --resume --restarts 3 reads run 1 back, continues run 2 from its state and trains run 3, and the
    model kept equals that of the same command never stopped, bit for bit.  Without such files, or
    with fewer --restarts than the killed set had, --resume --restarts is refused by name."""
    import signal
    import subprocess
    import sys

    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-12", "--n", "300", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "parity", "--lengths", "1-12", "--n", "60", "--seed", "2", "--out", str(va))
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "6", "--hidden", "4",
              "--stop-perfect", "0", "--no-curriculum", "--cell", "rnn", "--seed", "4", "--quiet", "--restarts"]
    common, fewer = common + ["3"], common + ["2"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, o, e = run(capsys, *common, "--out", str(a))
    assert rc == 0 and "run 3 of 3" in o, o + e  # (parity at H=4 in 6 epochs: no run reaches 100%, all 3 run)
    env = dict(os.environ, BPTT_CPU_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "bptt", *common, "--out", str(b)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path / "b.bptt.run2.metrics.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:  # run 2 has finished 2 epochs
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the set ended before run 2's second epoch was seen"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.bptt"))
    assert left == ["b.bptt.run1", "b.bptt.run1.last", "b.bptt.run1.metrics.csv", "b.bptt.run2",
                    "b.bptt.run2.last", "b.bptt.run2.metrics.csv"], left
    assert 2 <= checkpoint.load(str(b) + ".run2.last").meta["train_state"]["epoch"] < 6
    rc, o, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0, e
    assert f"run 1 of 3: seed 4 (going on from {b}.run1.last)" in o and f"(going on from {b}.run2.last)" in o
    assert "run 3 of 3: seed 6\n" in o
    pa, pb = checkpoint.load(str(a)), checkpoint.load(str(b))
    assert pa.meta["seed"] == pb.meta["seed"]
    for k in pa.model.params:
        np.testing.assert_array_equal(pa.model.params[k], pb.model.params[k])
    assert (tmp_path / "a.bptt.metrics.csv").read_text() != "" and sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith("b.bptt")) == ["b.bptt", "b.bptt.last",
                                                                               "b.bptt.metrics.csv"]
    rc, o, e = run(capsys, *common, "--out", str(tmp_path / "c.bptt"), "--resume")
    assert rc == 2 and "continues a set of runs that was killed outright" in e
    (tmp_path / "d.bptt.run3.last").write_bytes(b"")
    rc, o, e = run(capsys, *fewer, "--out", str(tmp_path / "d.bptt"), "--resume")
    assert rc == 2 and "d.bptt.run3.last is there: the set that was killed had more runs" in e, e


def test_parallel_runs_use_two_cores_each():
    assert parallel_runs(5, cores=2) == 1 and parallel_runs(5, cores=3) == 1
    assert parallel_runs(5, cores=8) == 4 and parallel_runs(2, cores=16) == 2


def test_restarts_end_to_end_on_the_command_line(tmp_path, capsys):
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "300", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "third-last", "--lengths", "1-10", "--n", "100", "--seed", "2", "--out", str(va))
    out = tmp_path / "m.bptt"
    rc, o, e = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--out", str(out),
                   "--epochs", "2", "--hidden", "8", "--restarts", "2", "--quiet")
    assert rc == 0, e
    assert "kept run" in o and checkpoint.load(str(out)).meta["seed"] in (0, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bptt", "m.bptt.last", "m.bptt.metrics.csv",
                                                          "tr.tsv", "va.tsv"]
    rc, _, e = run(capsys, "train", "--data", str(tr), "--task", "classify", "--out", str(out), "--restarts", "2",
                   "--resume")
    assert rc == 2 and "--restarts" in e


def test_characters_are_tokens_when_no_sequence_has_a_space(tmp_path, capsys):
    f = tmp_path / "a.tsv"
    f.write_text("text\tlabel\n0110\t0\n111\t1\n")
    assert detect_tokenizer(f) == "chars"
    g = tmp_path / "b.tsv"
    g.write_text("text\tlabel\n0 1 1 0\t0\n111\t1\n")
    assert detect_tokenizer(g) == "space"
    rc, o, _ = run(capsys, "train", "--data", str(f), "--task", "classify", "--out", str(tmp_path / "m.bptt"),
                   "--epochs", "1", "--quiet")
    assert rc == 0 and "every character as a token" in o
    ck = checkpoint.load(str(tmp_path / "m.bptt"))
    assert ck.meta["tokenizer"] == "chars" and set(ck.meta["vocab"][2:]) == {"0", "1"}


def test_classify_text_is_read_as_words_by_default(tmp_path, capsys):
    """--tokenize auto: classify data whose space-separated tokens number more than 1000 are text and are
    read as words (lower-cased, punctuation split off; benchmarks/results/text-defaults.log); the
    defaults that the data decide still see text, though the words number fewer.  Fewer kinds, tags of
    text and --tokenize space keep tokens separated by spaces."""
    import random
    r = random.Random(0)
    words = [f"w{i}" for i in range(600)]  # as "W1", "w1", "w1," and "w1.": 2,220 space-separated kinds, 600 words
    f = tmp_path / "t.tsv"
    f.write_text("".join(" ".join(r.choice(words).capitalize() if r.random() < 0.4 else r.choice(words) +
                                  r.choice(["", ",", "."]) for _ in range(r.randint(2, 8))) + f"\t{r.choice('ab')}\n"
                         for _ in range(1500)))
    m = tmp_path / "m.bptt"
    common = ["train", "--data", str(f), "--valid", str(f), "--task", "classify", "--epochs", "11", "--hidden", "4",
              "--max-steps", "2"]
    rc, o, e = run(capsys, *common, "--out", str(m))
    assert rc == 0, e
    kinds = len({t for line in f.read_text().splitlines() for t in line.split("\t")[0].split()})
    assert kinds == 2220 and f"reading words, lower-cased, with punctuation split off ({kinds:,} distinct space-" \
                             f"separated tokens" in o, o
    assert "length curriculum on" not in o and "stops after 10 epochs" in o, o  # still text for the defaults
    ck = checkpoint.load(str(m))
    assert ck.meta["tokenizer"] == "words" and set(ck.meta["vocab"][2:]) == set(words) | {",", "."}, ck.meta["vocab"]
    rc, o, e = run(capsys, "predict", "--model", str(m), "W1, w2.")
    assert rc == 0 and "<unk>" not in o + e, o + e
    rc, o, e = run(capsys, *common, "--tokenize", "space", "--out", str(tmp_path / "s.bptt"))
    assert rc == 0 and checkpoint.load(str(tmp_path / "s.bptt")).meta["tokenizer"] == "space", e
    g = tmp_path / "few.tsv"  # 3 kinds: symbols, separated by spaces
    g.write_text("".join(f"{' '.join(r.choice(['a', 'b,', 'B']) for _ in range(3))}\t{r.choice('xy')}\n"
                         for _ in range(50)))
    rc, o, e = run(capsys, "train", "--data", str(g), "--task", "classify", "--epochs", "1", "--out",
                   str(tmp_path / "g.bptt"))
    assert rc == 0 and "tokens separated by spaces" in o, e
    assert checkpoint.load(str(tmp_path / "g.bptt")).meta["tokenizer"] == "space"
    t = tmp_path / "tag.tsv"  # tags of text: one per space-separated token, so they stay that way
    t.write_text(f.read_text().split("\n")[0].split("\t")[0] + "\t" + "x " * 20 + "\n")
    lines = []
    for line in f.read_text().splitlines():
        toks = line.split("\t")[0].split()
        lines.append(" ".join(toks) + "\t" + " ".join(r.choice("xy") for _ in toks))
    t.write_text("\n".join(lines) + "\n")
    rc, o, e = run(capsys, "train", "--data", str(t), "--task", "tag", "--epochs", "1", "--hidden", "4", "--out",
                   str(tmp_path / "t.bptt"))
    assert rc == 0 and "tokens separated by spaces" in o, e


@pytest.mark.parametrize("task", ["classify", "regress"])
def test_a_text_run_interrupted_under_the_old_defaults_resumes_exactly_under_the_new(tmp_path, capsys, task):
    """A classifier of text interrupted under the defaults of before 2026-12-02 (tokens separated by spaces,
    the tutorial's cell, no dropout, no patience; for a regression of text, before 2026-12-02's afternoon)
    and resumed without those options continues as it began: the resume reads the data as the interrupted
    run did and keeps its settings, and ends where a run that never stopped ends."""
    import random
    r = random.Random(2)
    f = tmp_path / "t.tsv"
    f.write_text("".join(" ".join(f"W{r.randrange(900)}" + r.choice(["", ","]) for _ in range(r.randint(2, 6)))
                         + f"\t{r.choice('ab') if task == 'classify' else r.uniform(-4, 4):.3}\n" for _ in range(600)))
    old = ["--tokenize", "space", "--cell", "rnn", "--dropout", "0", "--patience", "0"]
    common = ["train", "--data", str(f), "--valid", str(f), "--task", task, "--epochs", "3", "--hidden", "4",
              "--quiet"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, *old, "--out", str(a))[0] == 0
    assert run(capsys, *common, *old, "--out", str(b), "--max-steps", "25")[0] == 0
    rc, _, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0, e
    ca, cb = checkpoint.load(str(a)), checkpoint.load(str(b))
    assert cb.meta["tokenizer"] == "space" and cb.model.config.cell == "rnn"
    for k in ca.model.params:
        np.testing.assert_array_equal(ca.model.params[k], cb.model.params[k])


def test_a_regression_of_text_takes_the_defaults_for_text(tmp_path, capsys, monkeypatch):
    """--task regress on text (more than 1000 distinct space-separated tokens) reads words and trains the
    LSTM with dropout 0.5 at 0.003, stopping 10 epochs after its best validation loss
    (benchmarks/results/text-regress-defaults.log), each said on a line with the option that sets it;
    sequences of symbols keep the regression's defaults (the LSTM, no dropout, all the epochs), and
    --patience 0 brings back the note that a regression runs all its epochs."""
    import random
    r = random.Random(3)
    f = tmp_path / "t.tsv"
    rows = []
    for _ in range(400):
        toks = [f"W{r.randrange(700)}" + r.choice(["", ",", "."]) for _ in range(r.randint(2, 7))]
        rows.append(" ".join(toks) + f"\t{sum(int(t.strip(',.')[1:]) % 3 for t in toks) / 4:.4}\n")
    f.write_text("".join(rows))
    m = tmp_path / "m.bptt"
    common = ["train", "--data", str(f), "--valid", str(f), "--task", "regress", "--hidden", "4", "--quiet"]
    rc, o, e = run(capsys, *common, "--max-steps", "2", "--out", str(m))
    assert rc == 0, e
    assert "reading words, lower-cased" in o and "cell lstm (regress data of text" in o, o
    assert "learning rate 0.003 (the LSTM on text)" in o and "dropout 0.5 (regress data of text" in o, o
    assert "stops after 10 epochs without a better validation loss" in o and "no accuracy to stop at" not in o, o
    ck = checkpoint.load(str(m))
    assert ck.meta["tokenizer"] == "words" and ck.model.config.cell == "lstm" and ck.model.config.hidden_size == 4
    saved = checkpoint.load(str(m) + ".last").meta["train_config"]
    assert saved["dropout"] == 0.5 and saved["patience"] == 10 and saved["lr"] == 0.003, saved
    rc, o, e = run(capsys, *common, "--max-steps", "2", "--patience", "0", "--out", str(tmp_path / "p.bptt"))
    assert rc == 0 and "no accuracy to stop at" in o and "stops after" not in o, e
    g = tmp_path / "sym.tsv"  # symbols: the regression's own defaults
    g.write_text("".join(f"{''.join(r.choice('ab') for _ in range(r.randint(1, 8)))}\t{r.random():.3}\n"
                         for _ in range(60)))
    rc, o, e = run(capsys, "train", "--data", str(g), "--valid", str(g), "--task", "regress", "--hidden", "4",
                   "--max-steps", "2", "--out", str(tmp_path / "g.bptt"))
    assert rc == 0 and "every character as a token" in o and "no accuracy to stop at" in o, e
    assert "dropout" not in o and "stops after" not in o, o
    assert checkpoint.load(str(tmp_path / "g.bptt.last")).meta["train_config"]["dropout"] == 0
    import bptt.cli as cli_mod  # no --valid and no end: the note for text, not the regression's (stopped at once)

    def no_training(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_mod, "train", no_training)
    rc, o, e = run(capsys, "train", "--data", str(f), "--task", "regress", "--out", str(tmp_path / "n.bptt"))
    assert "no --valid data: trains all 200 epochs (--epochs), and text overfits" in o, o
    assert "no accuracy to stop at" not in o, o


def test_resume_with_curriculum_and_warmup_is_exact(tmp_path, capsys):
    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-20", "--n", "300", "--seed", "1", "--out", str(tr))
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "6", "--hidden", "8", "--batch-size", "16",
              "--quiet", "--curriculum", "--warmup", "20"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    hist_a = checkpoint.load(str(a) + ".last").meta["train_state"]["history"]
    assert len({h["max_length"] for h in hist_a}) > 1  # the curriculum moved on during the run
    for steps in ("7", "31"):  # stop twice, inside different stages
        run(capsys, *common, "--out", str(b), "--max-steps", steps, *(["--resume"] if steps != "7" else []))
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    pa, pb = (checkpoint.load(str(p) + ".last").model.params for p in (a, b))
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    rc, _, err = run(capsys, *common[:-2], "--out", str(b), "--resume")  # without --warmup 20
    assert rc == 2 and "warmup was 20" in err


def _last_files(path):
    ck = checkpoint.load(str(path) + ".last")
    rows = [line.split(",") for line in open(str(path) + ".metrics.csv").read().splitlines()]
    no_time = [[c for i, c in enumerate(r) if rows[0][i] != "time"] for r in rows]  # wall time differs
    return checkpoint.load(str(path)).model.params, ck.model.params, no_time


def _assert_same_files(a, b):
    """OUT, OUT.last's weights and OUT.metrics.csv (but its wall times) of two runs are equal."""
    for x, y in zip(_last_files(a), _last_files(b)):
        if isinstance(x, dict):
            for name in x:
                np.testing.assert_array_equal(x[name], y[name])
        else:
            assert x == y


@pytest.mark.parametrize("stops", [["--max-steps", "7"], ["--max-steps", "45"], ["--max-steps", "19", "ctrl-c"],
                                   ["--max-steps", "11", "curriculum"], ["--max-steps", "30", "curriculum"],
                                   ["--max-steps", "8", "ctrl-c", "curriculum"], ["--max-steps", "23", "sigterm"]])
def test_stops_anywhere_then_resume_give_the_same_files(tmp_path, capsys, monkeypatch, stops):
    """OUT, OUT.last and OUT.metrics.csv after stops mid-epoch (by --max-steps, or a Ctrl-C or a SIGTERM
    landing inside the optimiser's step) and --resume equal those of a run that never stopped, with --patience,
    --lr-decay and the cosine schedule on."""
    import signal
    from bptt.optim import Adam

    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-12", "--n", "200", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "parity", "--lengths", "1-12", "--n", "100", "--seed", "2", "--out", str(va))
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "5", "--hidden", "8",
              "--batch-size", "16", "--quiet", "--patience", "3", "--lr-decay", "0.5", "--lr-schedule", "cosine",
              "--lr", "0.01", "--stop-perfect", "0", "--no-curriculum" if "curriculum" not in stops else "--curriculum"]
    stops = [s for s in stops if s != "curriculum"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    if stops[-1] in ("ctrl-c", "sigterm"):
        real_step, calls = Adam.step, []
        sig = signal.SIGINT if stops[-1] == "ctrl-c" else signal.SIGTERM

        def step_then_signal(self, params, grads):
            calls.append(1)
            if len(calls) == int(stops[1]):
                os.kill(os.getpid(), sig)  # lands inside the step: half the parameters updated
            return real_step(self, params, grads)

        monkeypatch.setattr(Adam, "step", step_then_signal)
        rc, out, err = run(capsys, *common, "--out", str(b))
        monkeypatch.setattr(Adam, "step", real_step)
        assert "interrupted; state saved" in out
        word = "interrupted" if sig == signal.SIGINT else "terminated"
        assert rc == (130 if sig == signal.SIGINT else 143) and err.strip().startswith(f"{word}; to go on: bptt ") \
            and err.strip().endswith(" --resume"), err
        assert checkpoint.load(str(b) + ".last").meta["train_state"]["step"] == int(stops[1])
    else:
        assert run(capsys, *common, "--out", str(b), *stops)[0] == 0
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    _assert_same_files(a, b)


@pytest.mark.parametrize("change,words", [
    (lambda ts: ts.clear(), ["no 'epoch'"]),
    (lambda ts: ts.update({"batch": -1}), ["batch = -1"]),
    (lambda ts: ts.update({"batch": 10_000}), ["batch 10000", "other data"]),
    (lambda ts: ts.update({"history": "x"}), ["history"]),
    (lambda ts: ts.update({"lr": 0}), ["lr = 0"]),
    (lambda ts: ts.update({"best": ["a", 1]}), ["best"]),
    (lambda ts: ts.update({"stage": 4}), ["stage"]),
])
def test_a_damaged_resume_state_is_refused_by_name(tmp_path, capsys, change, words):
    import json
    import zipfile

    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "100", "--seed", "1", "--out", str(tr))
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "3", "--hidden", "4", "--quiet",
              "--no-curriculum"]
    out = tmp_path / "m.bptt"
    assert run(capsys, *common, "--out", str(out), "--max-steps", "3")[0] == 0
    last = str(out) + ".last"
    with zipfile.ZipFile(last) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    import io
    head = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    change(head["meta"]["train_state"])
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(head).encode(), np.uint8))
    members["__meta__.npy"] = buf.getvalue()
    with zipfile.ZipFile(last, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    rc, _, err = run(capsys, *common, "--out", str(out), "--resume")
    assert rc == 2 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


@pytest.mark.parametrize("flag", [["--epochs", "4"], ["--lr-decay", "0.5"], ["--patience", "2"],
                                  ["--freeze-embeddings"], ["--stop-perfect", "5"]])
def test_changed_settings_on_resume_are_refused(tmp_path, capsys, flag):
    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "100", "--seed", "1", "--out", str(tr))
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "3", "--hidden", "4", "--quiet",
              "--out", str(tmp_path / "m.bptt")]
    assert run(capsys, *common, "--max-steps", "3")[0] == 0
    argv = list(common)
    if flag[0] == "--epochs":
        argv[argv.index("--epochs") + 1] = flag[1]
    else:
        argv += flag
    rc, _, err = run(capsys, *argv, "--resume")
    assert rc == 2 and "in the interrupted run" in err, err


def test_temp_files_of_a_killed_save_are_removed(tmp_path, capsys):
    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "50", "--seed", "1", "--out", str(tr))
    left = [tmp_path / ".m.bptt.k3j9x2_a.tmp", tmp_path / ".m.bptt.last.q0w9e8r7.tmp"]
    for p in left:
        p.write_bytes(b"half a model")
    keep = tmp_path / ".other.bptt.k3j9x2_a.tmp"
    keep.write_bytes(b"not ours")
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--hidden", "4",
                     "--quiet", "--out", str(tmp_path / "m.bptt"))
    assert rc == 0 and out.count("left by a run killed while saving") == 2
    assert not any(p.exists() for p in left) and keep.exists()


def test_a_run_that_falls_short_suggests_the_aids(tmp_path, capsys):
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "modular-arithmetic", "--lengths", "1-20", "--n", "200", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "modular-arithmetic", "--lengths", "1-20", "--n", "200", "--seed", "2", "--out", str(va))
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "1",
                     "--hidden", "4", "--quiet", "--out", str(tmp_path / "m.bptt"), "--no-curriculum", "--cell", "rnn")
    assert rc == 0 and "best validation accuracy" in out and "try a gated cell (--cell gru or --cell lstm), --curriculum --epochs 1000" in out
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "1",
                     "--hidden", "4", "--quiet", "--out", str(tmp_path / "m.bptt"))  # the curriculum is on
    assert rc == 0 and "length curriculum on" in out and "best validation accuracy" in out
    assert "more training data" in out and "try --curriculum" not in out and "--curriculum --epochs" not in out
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "1",
                     "--hidden", "4", "--quiet", "--out", str(tmp_path / "g.bptt"), "--cell", "gru")
    assert rc == 0 and "best validation accuracy" in out and "gated cell" not in out  # it has one
    assert "try the tutorial's cell (--cell rnn), more training data" in out
    # text with a vocabulary of words: falling short of 99% is the usual case, not a hint for length aids
    words = tmp_path / "words.tsv"
    rng = np.random.default_rng(0)
    words.write_text("".join(" ".join(f"w{i}" for i in rng.integers(0, 300, 6)) + f"\t{i % 2}\n" for i in range(400)))
    rc, out, _ = run(capsys, "train", "--data", str(words), "--valid", str(words), "--task", "classify", "--epochs",
                     "1", "--hidden", "4", "--quiet", "--out", str(tmp_path / "w.bptt"))
    assert rc == 0 and "best model saved" in out and "--curriculum" not in out


def test_a_run_cut_short_by_its_limit_says_so_before_other_aids(tmp_path, capsys):
    """A new-user try stopped by --max-steps 50 in the curriculum's first stage (lengths up to 4 of 40)
    was told to change the cell, the data and the size: the limit, which the user set, ended it."""
    rng = np.random.default_rng(0)  # random labels: no run reaches the 99% that silences the hint
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    for path, n in ((tr, 300), (va, 100)):
        path.write_text("".join("".join(rng.choice(list("01"), k)) + f"\t{rng.integers(2)}\n"
                                for k in [40] + list(rng.integers(1, 41, n - 1))))
    common = ["train", "--data", str(tr), "--valid", str(va), "--hidden", "4", "--quiet", "--out", str(tmp_path / "m.bptt")]
    rc, out, _ = run(capsys, *common, "--max-steps", "25")
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1, out
    assert ("try training for longer first: the run stopped at --max-steps 25, when the length curriculum admitted "
            "lengths up to 4 of 40 (--resume with a larger --max-steps goes on from there); then ") in hint[0]
    rc, out, _ = run(capsys, *common, "--max-steps", "25", "--restarts", "2")  # whose runs resume one by one
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "the run stopped at --max-steps 25" in hint[0] and "--resume" not in hint[0]
    assert "(a larger --max-steps); then" in hint[0]
    rc, out, _ = run(capsys, *common, "--max-time", "1", "--no-curriculum")  # epochs of 0.1-0.2 s: several finish
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1, out
    assert "try training for longer first: the run stopped at --max-time 1 (--resume with a larger --max-time" \
        in hint[0] and "curriculum admitted" not in hint[0]
    rc, out, _ = run(capsys, *common, "--epochs", "2")  # its epochs ran out: no limit of --max-steps or --max-time
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "training for longer" not in hint[0] and "more --epochs" in hint[0]


def test_a_run_that_memorised_its_training_set_suggests_weight_decay_first(tmp_path, capsys):
    """A new-user try (a 6-state automaton over 4 letters, 2,000 strings: no default weight decay) ended at
    93.5% on validation with a training loss near 0, and was told to change the cell; --weight-decay 0.1
    learned it (100% at lengths 41-200).  Random labels: a model can only memorise them."""
    rng = np.random.default_rng(1)
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    for path, n in ((tr, 60), (va, 60)):
        path.write_text("".join("".join(rng.choice(list("abcd"), k)) + f"\t{rng.integers(2)}\n"
                                for k in rng.integers(6, 13, n)))
    common = ["train", "--data", str(tr), "--valid", str(va), "--hidden", "16", "--no-curriculum", "--lr", "0.01",
              "--out", str(tmp_path / "m.bptt")]
    rc, out, _ = run(capsys, *common, "--epochs", "60", "--weight-decay", "0")
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1, out
    assert "try --weight-decay 0.1 first, in a new run (the model fits its training sequences, loss " in hint[0], hint
    assert "it has memorised some of them), then the tutorial's cell (--cell rnn)" in hint[0], hint
    rc, out, _ = run(capsys, *common, "--max-steps", "420", "--weight-decay", "0")  # its limit ended it, memorised
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "--weight-decay 0.1 first" in hint[0] and "--resume" not in hint[0], hint
    rc, out, _ = run(capsys, *common, "--epochs", "60")  # 60 sequences: the default is already weight decay 0.1
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and "weight decay 0.1 (60 training sequences" in out and len(hint) == 1, out
    assert "--weight-decay" not in hint[0], hint
    rc, out, _ = run(capsys, *common, "--epochs", "1", "--weight-decay", "0")  # one epoch: not fitted yet
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "--weight-decay" not in hint[0], hint
    # sequences of numbers: weight decay lost on the UCR series, so it is not named there
    for path in (tr, va):
        path.write_text("".join(" ".join(f"{v:.3f}" for v in rng.uniform(-1, 1, k)) + f"\t{rng.integers(2)}\n"
                                for k in rng.integers(6, 13, 60)))
    rc, out, _ = run(capsys, *common, "--epochs", "60", "--inputs", "numbers")
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "--weight-decay" not in hint[0], hint


def test_a_left_to_right_tagger_that_falls_short_suggests_both_directions(tmp_path, capsys):
    """A new-user try tagged each token by whether the next one is the same: left to right the model
    cannot see it, and the run's last line named cells and data but not the option that reads it."""
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(300):
        s = "".join(rng.choice(list("abc"), rng.integers(2, 12)))
        lines.append(s + "\t" + " ".join("y" if i + 1 < len(s) and s[i + 1] == s[i] else "n" for i in range(len(s))))
    data = tmp_path / "next.tsv"
    data.write_text("\n".join(lines) + "\n")
    common = ["--data", str(data), "--valid", str(data), "--task", "tag", "--epochs", "1", "--hidden", "4", "--quiet"]
    rc, out, _ = run(capsys, "train", *common, "--no-bidirectional", "--out", str(tmp_path / "m.bptt"))
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "try --bidirectional (a tag that depends on the tokens after it)" in hint[0]
    rc, out, _ = run(capsys, "train", *common, "--bidirectional", "--out", str(tmp_path / "b.bptt"))
    hint = [ln for ln in out.splitlines() if ln.startswith("best validation accuracy")]
    assert rc == 0 and len(hint) == 1 and "--bidirectional" not in hint[0]  # it reads both ways already


_KILLER = """
import os, signal, sys
from bptt import checkpoint
from bptt.optim import Adam
where, k = sys.argv[1], int(sys.argv[2])
count = [0]
if where == "write":  # killed inside the k-th save: the temp file written, not yet renamed
    real_write = checkpoint.atomic_write_bytes
    def write(path, fill):
        def fill_then_die(f):
            fill(f)
            count[0] += 1
            if count[0] == k:
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        return real_write(path, fill_then_die)
    checkpoint.atomic_write_bytes = write
else:  # killed inside the k-th optimiser step, half the parameters updated
    real_step = Adam.step
    def step(self, params, grads):
        count[0] += 1
        if count[0] == k:
            for name in list(params)[:2]:
                params[name] -= 1.0
            os.kill(os.getpid(), signal.SIGKILL)
        return real_step(self, params, grads)
    Adam.step = step
from bptt.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("where,k", [("write", 1), ("write", 2), ("write", 6), ("write", -2), ("write", -1),
                                     ("step", 23)])
def test_sigkill_anywhere_then_resume_give_the_same_files(tmp_path, capsys, monkeypatch, where, k):
    """A run killed (SIGKILL: no handler runs) inside a save or inside an optimiser step, then run again
    with --resume, ends with the same OUT, OUT.last and OUT.metrics.csv as a run that never stopped,
    and the temp file the kill left is removed."""
    import subprocess
    import sys

    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-10", "--n", "120", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "parity", "--lengths", "1-10", "--n", "60", "--seed", "2", "--out", str(va))
    # --patience stops this run after epoch 6 of 8; it saves .last and .metrics.csv at each epoch's end
    # and OUT at each better epoch: -1 is the last save of all, -2 the last .last
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--epochs", "8", "--hidden", "6",
              "--batch-size", "16", "--quiet", "--patience", "2", "--lr-decay", "0.5", "--lr-schedule", "cosine",
              "--lr", "0.02", "--stop-perfect", "0", "--no-curriculum", "--cell", "rnn",
              "--weight-decay", "0"]  # a run whose patience ends it
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    saves, real_write = [], checkpoint.atomic_write_bytes
    monkeypatch.setattr(checkpoint, "atomic_write_bytes", lambda path, fill: (saves.append(path), real_write(path, fill)))
    rc, out, _ = run(capsys, *common, "--out", str(a))
    monkeypatch.setattr(checkpoint, "atomic_write_bytes", real_write)
    assert rc == 0 and "stopped: no better validation score for 2" in out and len(saves) > 12
    if k < 0:
        k += len(saves) + 1
    proc = subprocess.run([sys.executable, "-c", _KILLER, where, str(k), *common, "--out", str(b)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, (proc.returncode, proc.stderr)
    temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert (len(temps) == 1) == (where == "write"), temps
    if not os.path.exists(str(b) + ".last"):  # killed before the first state was saved: start again
        rc, out, _ = run(capsys, *common, "--out", str(b))
    else:
        rc, out, _ = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    _assert_same_files(a, b)


def test_the_default_curriculum_is_for_sequences_of_symbols():
    from bptt.train import use_curriculum
    lengths = np.arange(1, 41)
    assert use_curriculum(5, False, lengths)  # a small alphabet, lengths 1-40
    assert use_curriculum(1000, False, lengths) and not use_curriculum(1001, False, lengths)  # a word vocabulary
    assert not use_curriculum(5, True, lengths)  # pretrained word vectors: text
    assert not use_curriculum(5, False, np.array([3, 3, 3]))  # one stage: nothing to order


def test_the_default_cell_is_decided_by_the_data():
    from bptt.train import default_cell
    assert default_cell("classify", 5, False) == "lstm" and default_cell("classify", 1000, False) == "lstm"
    assert default_cell("tag", 5, False) == "rnn"  # addition at 10,000 digits: the tutorial's cell
    assert default_cell("classify", 1001, False) == "lstm"  # text: text-defaults.log
    assert default_cell("tag", 1001, False) == "lstm"  # tags of text: text-tag-defaults.log
    assert default_cell("classify", 5, True) == "rnn"  # pretrained word vectors: the README's sentiment recipe
    assert default_cell("lm", 5, False) == default_cell("lm", 20_000, False) == "lstm"  # language models: lm-defaults.log
    assert default_cell("lm", 5, False, activation="relu") == "rnn"
    assert default_cell("classify", 5, False, activation="relu") == "rnn"  # only the tutorial's cell has f_s


def test_the_command_line_says_which_cell_the_data_chose(tmp_path, capsys):
    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-10", "--n", "60", "--seed", "1", "--out", str(tr))
    common = ("train", "--data", str(tr), "--epochs", "1", "--hidden", "4", "--quiet")
    rc, out, e = run(capsys, *common, "--out", str(tmp_path / "a.bptt"))
    assert rc == 0, e
    assert "cell lstm (classify data over 2 distinct tokens" in out and "--cell rnn trains the tutorial's cell" in out
    assert checkpoint.load(str(tmp_path / "a.bptt")).model.config.cell == "lstm"
    for extra, cell in ((("--cell", "rnn"), "rnn"), (("--cell", "gru"), "gru"), (("--activation", "relu"), "rnn")):
        rc, out, e = run(capsys, *common, *extra, "--out", str(tmp_path / "b.bptt"))
        assert rc == 0 and "cell lstm (" not in out, e
        assert checkpoint.load(str(tmp_path / "b.bptt")).model.config.cell == cell
    # tag data keeps the tutorial's cell (addition at 10,000 digits)
    add = tmp_path / "add.tsv"
    run(capsys, "data", "make", "addition", "--lengths", "1-3", "--n", "60", "--seed", "1", "--out", str(add))
    rc, out, e = run(capsys, "train", "--data", str(add), "--epochs", "1", "--hidden", "4", "--quiet",
                     "--out", str(tmp_path / "t.bptt"))
    assert rc == 0 and "task tag" in out and "cell lstm (" not in out, e
    assert checkpoint.load(str(tmp_path / "t.bptt")).model.config.cell == "rnn"
    # text with more than 1000 distinct words: the LSTM with dropout (text-defaults.log); with --pretrained
    # word vectors the tutorial's cell (the README's sentiment recipe), and no dropout
    words = tmp_path / "words.tsv"
    words.write_text("".join(f"w{i} w{i + 1} w{i + 2}\t{i % 2}\n" for i in range(0, 1200, 3)))
    rc, out, e = run(capsys, "train", "--data", str(words), "--epochs", "1", "--hidden", "4", "--quiet",
                     "--out", str(tmp_path / "w.bptt"))
    assert rc == 0 and "cell lstm (classify data of text" in out and "dropout 0.5 (classify data of text" in out, e
    ck = checkpoint.load(str(tmp_path / "w.bptt") + ".last")
    assert ck.model.config.cell == "lstm" and ck.meta["train_config"]["dropout"] == 0.5
    vec = tmp_path / "vec.txt"
    vec.write_text("".join(f"w{i} {i % 7 / 7:.3f} {i % 5 / 5:.3f}\n" for i in range(1200)))
    rc, out, e = run(capsys, "train", "--data", str(words), "--epochs", "1", "--hidden", "4", "--quiet",
                     "--pretrained", str(vec), "--out", str(tmp_path / "p.bptt"))
    assert rc == 0 and "cell lstm (" not in out and "dropout" not in out, e
    ck = checkpoint.load(str(tmp_path / "p.bptt") + ".last")
    assert ck.model.config.cell == "rnn" and ck.meta["train_config"]["dropout"] == 0.0
    # --resume without --cell continues the interrupted run's cell, whichever it was
    rc, _, e = run(capsys, *common, "--cell", "rnn", "--epochs", "3", "--max-steps", "2", "--out", str(tmp_path / "r.bptt"))
    assert rc == 0, e
    rc, out, e = run(capsys, *common, "--epochs", "3", "--out", str(tmp_path / "r.bptt"), "--resume")
    assert rc == 0, e
    assert checkpoint.load(str(tmp_path / "r.bptt")).model.config.cell == "rnn"


def test_the_default_learning_rate_is_decided_by_the_cell_and_the_data():
    from bptt.train import default_lr
    assert default_lr("lstm", "classify", 5, False) == 0.003  # the LSTM on symbols: measured better at 0.003
    assert default_lr("lstm", "lm", 5, False) == default_lr("lstm", "lm", 20_000, False) == 0.003  # lm-defaults.log
    assert default_lr("lstm", "classify", 1001, False) == 0.003  # text without pretrained vectors: text-defaults.log
    assert default_lr("lstm", "tag", 1001, False) == 0.003  # tags of text: text-tag-defaults.log
    for args in (("rnn", "classify", 5, False), ("gru", "classify", 5, False), ("lstm", "tag", 5, False),
                 ("rnn", "lm", 5, False), ("lstm", "classify", 1001, True), ("lstm", "classify", 5, True),
                 ("gru", "classify", 1001, False), ("lstm", "tag", 1001, True)):
        assert default_lr(*args) == TrainConfig.lr == 0.001, args  # not measured there: the general default


def test_a_language_model_defaults_to_the_lstm_of_256_at_0_003_and_a_resume_or_init_keeps_its_own(tmp_path, capsys):
    """The language model's defaults (benchmarks/results/lm-defaults.log), said on the run's first lines; a
    run resumed, or started from --init, keeps the size and cell of its model whatever the defaults say."""
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 20)
    common = ["train", "--task", "lm", "--data", str(text), "--window", "16", "--epochs", "1", "--quiet"]
    m = tmp_path / "m.bptt"
    rc, out, e = run(capsys, *common, "--out", str(m), "--max-steps", "2")
    assert rc == 0, e
    assert "cell lstm (a language model" in out and "state size 256 (a language model" in out, out
    assert "learning rate 0.003 (the LSTM on a language model)" in out, out
    ck = checkpoint.load(str(m))
    assert (ck.model.config.cell, ck.model.config.hidden_size) == ("lstm", 256)
    assert checkpoint.load(str(m) + ".last").meta["train_config"]["lr"] == 0.003
    rc, out, e = run(capsys, *common, "--out", str(m), "--resume")
    assert rc == 0 and "state size" not in out, e
    # a run started with other sizes resumes with its own, not the defaults'
    r = tmp_path / "r.bptt"
    assert run(capsys, *common, "--cell", "rnn", "--hidden", "8", "--out", str(r), "--max-steps", "1")[0] == 0
    rc, out, e = run(capsys, *common, "--out", str(r), "--resume")
    assert rc == 0, e
    assert (checkpoint.load(str(r)).model.config.cell, checkpoint.load(str(r)).model.config.hidden_size) == ("rnn", 8)
    rc, out, e = run(capsys, *common, "--init", str(r), "--out", str(tmp_path / "i.bptt"))
    assert rc == 0 and "state size" not in out, e
    assert checkpoint.load(str(tmp_path / "i.bptt")).model.config.hidden_size == 8
    rc, _, e = run(capsys, *common, "--init", str(r), "--hidden", "16", "--out", str(tmp_path / "j.bptt"))
    assert rc == 2 and "--hidden 16: the model of --init" in e, e
    # the tutorial's cell asked for by name keeps the general rate and the language model's size
    rc, out, e = run(capsys, *common, "--cell", "rnn", "--out", str(tmp_path / "t.bptt"), "--max-steps", "1")
    assert rc == 0 and "learning rate" not in out and "state size 256" in out, e


def test_a_language_model_with_valid_text_stops_10_epochs_after_its_best_by_default(tmp_path, capsys):
    """LM_PATIENCE (benchmarks/results/lm-patience.log): given --valid, a language model stops once 10 epochs
    in a row have not beaten its best validation loss, and says so on its first lines; --patience 0 and a
    run without --valid train every epoch; a resumed run keeps the patience it started with."""
    import random
    r = random.Random(0)  # random letters: nothing to learn, so the validation loss soon only worsens
    tr, va = tmp_path / "tr.txt", tmp_path / "va.txt"
    tr.write_text("".join(r.choice("abcd") for _ in range(600)))
    va.write_text("".join(r.choice("abcd") for _ in range(300)))
    common = ["train", "--task", "lm", "--data", str(tr), "--window", "16", "--hidden", "32", "--lr", "0.03",
              "--epochs", "60"]

    def epochs(out):
        lines = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
        best = max(int(ln.split()[1]) for ln in lines if ln.endswith("*"))
        return len(lines), best

    rc, out, e = run(capsys, *common, "--valid", str(va), "--out", str(tmp_path / "a.bptt"))
    assert rc == 0, e
    assert "stops after 10 epochs without a better validation loss" in out, out
    n, best = epochs(out)
    assert n == best + 10 < 60 and "stopped: no better validation score for 10 epoch(s)" in out, out
    rc, out, e = run(capsys, *common, "--valid", str(va), "--out", str(tmp_path / "b.bptt"), "--patience", "0")
    assert rc == 0 and epochs(out)[0] == 60 and "stops after" not in out, e
    rc, out, e = run(capsys, *common, "--out", str(tmp_path / "c.bptt"))  # no validation text: every epoch
    assert rc == 0 and epochs(out)[0] == 60 and "stops after" not in out and "no --valid text" not in out, e
    rc, out, e = run(capsys, *common[:-2], "--out", str(tmp_path / "d.bptt"), "--max-steps", "1")
    assert rc == 0 and "no --valid text" not in out, e  # --max-steps: the run knows its end
    tiny = tmp_path / "tiny.txt"  # no --valid and no end given: the run says it trains all 200 epochs
    tiny.write_text("abcd" * 10)
    rc, out, e = run(capsys, "train", "--task", "lm", "--data", str(tiny), "--window", "16", "--hidden", "4",
                     "--out", str(tmp_path / "t.bptt"), "--quiet")
    assert rc == 0 and "no --valid text: trains all 200 epochs" in out, e
    # a run stopped early and resumed keeps its patience: with a --patience of its own, and with the default
    m = tmp_path / "m.bptt"
    for extra in (["--patience", "3"], []):
        assert run(capsys, *common, "--valid", str(va), "--out", str(m), "--max-steps", "2", *extra)[0] == 0
        assert checkpoint.load(str(m) + ".last").meta["train_config"]["patience"] == (3 if extra else 10)
        rc, out, e = run(capsys, *common, "--valid", str(va), "--out", str(m), "--resume")
        assert rc == 0, e
        assert f"no better validation score for {3 if extra else 10} epoch(s)" in out, out
    rc, _, e = run(capsys, *common, "--valid", str(va), "--out", str(tmp_path / "x.bptt"), "--patience", "-1")
    assert rc == 2 and "--patience must be an integer >= 0 (0 = off), got -1" in e, e


def test_classifying_text_with_valid_stops_10_epochs_after_its_best_by_default(tmp_path, capsys, monkeypatch):
    """TEXT_PATIENCE (benchmarks/results/text-patience.log): a classifier of text (more than 1000 distinct
    words) or a tagger of text given --valid stops once 10 epochs in a row are not better, and says so;
    --patience 0, no --valid, --curriculum and sequences of symbols keep training every epoch."""
    import random
    r = random.Random(0)  # random words and labels: nothing to learn, so validation soon stops improving
    words = [f"w{i}" for i in range(3000)]

    def write(path, n, tag=False):
        with open(path, "w") as f:
            for _ in range(n):
                toks = r.choices(words, k=r.randint(2, 6))
                label = " ".join(r.choice("xy") for _ in toks) if tag else r.choice("xy")
                f.write(" ".join(toks) + "\t" + label + "\n")
    tr, va, ttr, tva = (tmp_path / n for n in ("tr.tsv", "va.tsv", "ttr.tsv", "tva.tsv"))
    write(tr, 800), write(va, 60), write(ttr, 800, tag=True), write(tva, 60, tag=True)
    common = ["train", "--task", "classify", "--data", str(tr), "--hidden", "8", "--embed", "8", "--epochs", "40"]

    def epochs(out):
        lines = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
        return len(lines), max(int(ln.split()[1]) for ln in lines if ln.endswith("*"))

    rc, out, e = run(capsys, *common, "--valid", str(va), "--out", str(tmp_path / "a.bptt"))
    assert rc == 0, e
    assert "stops after 10 epochs without a better validation accuracy" in out, out
    n, best = epochs(out)
    assert n == best + 10 < 40 and "stopped: no better validation score for 10 epoch(s)" in out, out
    for name, extra in (("p0", ["--valid", str(va), "--patience", "0"]), ("novalid", []),
                        ("curriculum", ["--valid", str(va), "--curriculum"])):
        rc, out, e = run(capsys, *common, *extra, "--out", str(tmp_path / f"{name}.bptt"))
        assert rc == 0 and epochs(out)[0] == 40 and "stops after" not in out, (name, e)
        assert "no --valid data" not in out, (name, out)  # --epochs given: the run knows its end
    rc, out, e = run(capsys, *common[:-2], "--out", str(tmp_path / "n.bptt"), "--max-steps", "3")
    assert rc == 0 and "no --valid data" not in out, e
    rc, out, e = run(capsys, *common[:-2], "--out", str(tmp_path / "n.bptt"), "--quiet", "--max-time", "0.5")
    assert rc == 0 and "no --valid data" not in out, e
    rc, out, e = run(capsys, "train", "--task", "tag", "--data", str(ttr), "--valid", str(tva), "--hidden", "8",
                     "--embed", "8", "--epochs", "40", "--out", str(tmp_path / "tag.bptt"))
    assert rc == 0 and "stops after 10 epochs" in out, e  # tags of text too: text-tag-defaults.log
    n, best = epochs(out)
    assert n == best + 10 < 40, out
    sym = tmp_path / "sym.tsv"  # sequences of symbols stop on accuracy (--stop-perfect, --plateau), not patience
    sym.write_text("".join(f"{''.join(r.choice('ab') for _ in range(r.randint(1, 4)))}\t{r.choice('xy')}\n"
                           for _ in range(200)))
    rc, out, e = run(capsys, "train", "--task", "classify", "--data", str(sym), "--valid", str(sym), "--hidden",
                     "4", "--no-curriculum", "--epochs", "25", "--out", str(tmp_path / "sym.bptt"))
    assert rc == 0 and epochs(out)[0] == 25 and "stops after" not in out, e
    import bptt.cli as cli_mod  # no --valid and no end: the run says it trains all 200 epochs (stopped at once here)

    def no_training(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_mod, "train", no_training)
    rc, out, e = run(capsys, *common[:-2], "--out", str(tmp_path / "n2.bptt"))
    assert "no --valid data: trains all 200 epochs (--epochs), and text overfits within a few" in out, out


def test_the_command_line_says_which_learning_rate_the_data_chose(tmp_path, capsys):
    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-10", "--n", "60", "--seed", "1", "--out", str(tr))
    common = ("train", "--data", str(tr), "--epochs", "1", "--hidden", "4", "--quiet")

    def lr(name):
        return checkpoint.load(str(tmp_path / (name + ".last"))).meta["train_config"]["lr"]  # the run's state file

    rc, out, e = run(capsys, *common, "--out", str(tmp_path / "a.bptt"))
    assert rc == 0 and "learning rate 0.003 (the LSTM on classify data" in out, e
    assert lr("a.bptt") == 0.003
    for extra, want in ((("--cell", "rnn"), 0.001), (("--cell", "gru"), 0.001), (("--lr", "0.02"), 0.02)):
        rc, out, e = run(capsys, *common, *extra, "--out", str(tmp_path / "b.bptt"))
        assert rc == 0 and "learning rate 0.003" not in out, e
        assert lr("b.bptt") == want, extra
    # --resume without --lr keeps the interrupted run's rate (a run started under another default resumes)
    rc, _, e = run(capsys, *common, "--lr", "0.001", "--epochs", "3", "--max-steps", "2", "--out", str(tmp_path / "r.bptt"))
    assert rc == 0, e
    rc, out, e = run(capsys, *common, "--epochs", "3", "--out", str(tmp_path / "r.bptt"), "--resume")
    assert rc == 0, e
    assert lr("r.bptt") == 0.001


def test_without_validation_data_a_perfect_training_loss_stops_the_run():
    """No --valid: the stop at a perfect score reads the epoch's training loss (else a run that has
    learned its task would go on for all its epochs)."""
    tr, V, Lb = _data("third-last", (3, 8), 300, 1)
    log = []
    hist = train(_model(V, Lb), tr, None, TrainConfig(lr=0.02, clip=1, epochs=300, perfect_loss=1e-3),
                 log=log.append, progress=False)
    assert len(hist) < 300 and any("a training loss at most 0.001 for 3 epoch(s) in a row (no --valid)" in ln
                                   for ln in log), log[-3:]
    assert all(h["train_loss"] <= 1e-3 for h in hist[-3:]) and hist[-4]["train_loss"] > 1e-3


def test_a_run_whose_validation_accuracy_stalls_says_it_may_be_stopped(monkeypatch):
    """A new-user try reached its best validation accuracy at epoch 38 and ran on for 1000 epochs
    (17 minutes), every epoch 'better' by a validation loss creeping down: after PLATEAU_HINT_EPOCHS
    epochs without a better accuracy the run says so, once, and how to stop."""
    import bptt.train as T
    from bptt.train import _since_best_accuracy as since
    h = [{"epoch": i + 1, "valid_accuracy": a} for i, a in enumerate([0.5, 0.9, 0.95, 0.95, 0.94, 0.95])]
    monkeypatch.setattr(T, "PLATEAU_HINT_EPOCHS", 3)
    assert since(h, h[-1]) == (3, 0.95, 3)  # best first reached at epoch 3; epoch 6 is 3 later
    assert since(h[:5], h[4]) == (2, 0.95, 3) and since([{"epoch": 1, "valid_loss": 0.3}], {"epoch": 1}) is None
    stages = [{"epoch": 1, "valid_accuracy": 0.99, "max_length": 4}] + [
        {"epoch": e, "valid_accuracy": 0.6, "max_length": 8} for e in (2, 3, 4, 5)]
    assert since(stages, stages[-1]) == (3, 0.6, 2)  # the last stage's own best, not an earlier stage's
    # end to end: validation labels shuffled, so its accuracy stalls while training goes on
    tr, V, Lb = _data("parity", (1, 6), 200, 1)
    va, _, _ = _data("parity", (1, 6), 60, 2, vocab=V, labels=Lb, shuffle_labels=True)
    log = []
    train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, epochs=14, stop_perfect=0), log=log.append, progress=False)
    hints = [line for line in log if "validation accuracy has not passed" in line]
    assert len(hints) >= 1 and "Ctrl-C stops the run there, --plateau N stops such runs by itself" in hints[0], log
    assert "memorised" not in hints[0]  # epoch 5: the training sequences are not fitted yet
    # a model that fits its training set and not the shuffled validation labels has memorised them: the
    # hint names weight decay, which learned such rules (new-user-4-letter-automaton.log), unless it is on
    short, _, _ = _data("parity", (1, 4), 100, 1, vocab=V, labels=Lb)
    for wd in (0.0, 0.1):
        log = []
        train(_model(V, Lb), short, va, TrainConfig(lr=0.05, epochs=30, stop_perfect=0, weight_decay=wd),
              log=log.append, progress=False)
        hints = [line for line in log if "validation accuracy has not passed" in line]
        said = [line for line in hints if "; the model fits its training sequences (loss " in line and "it has "
                "memorised some of them, and --weight-decay 0.1 in a new run learned such rules" in line]
        assert hints and (len(said) >= 1 if wd == 0 else not any("memorised" in line for line in hints)), (wd, log)
    log = []
    train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, epochs=14, stop_perfect=0, patience=3), log=log.append,
          progress=False)
    assert not any("validation accuracy has not passed" in line for line in log)  # a patience within the hint's wait
    log = []
    train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, epochs=14, stop_perfect=0, patience=50), log=log.append,
          progress=False)  # a longer patience (as the default 200 for symbols): the hint still comes
    assert any("validation accuracy has not passed" in line for line in log), log
    # at 100% (a run that waits for its validation loss to reach --perfect-loss) the hint says that
    tr, V, Lb = _data("parity", (1, 2), 100, 1)
    log = []
    train(_model(V, Lb), tr, tr, TrainConfig(lr=0.05, epochs=40, perfect_loss=1e-30), log=log.append, progress=False)
    hints = [line for line in log if "validation accuracy " in line and "Ctrl-C" in line]
    assert len(hints) == 1 and "validation accuracy first reached 100% at epoch" in hints[0], log
    assert "and the stop at 100% waits for a validation loss of at most 1e-30 (--perfect-loss) for 3 epoch(s) " \
        "in a row (now " in hints[0], log
    # an epoch at 100% within --perfect-loss counts towards that stop: no hint on it (one said "a loss of
    # 9.1e-05, above the 0.0001" two epochs before the run stopped there)
    log = []
    hist = train(_model(V, Lb), tr, tr, TrainConfig(lr=0.05, epochs=40, perfect_loss=1.0, stop_perfect=100),
                 log=log.append, progress=False)
    assert all(h["valid_accuracy"] == 1.0 and h["valid_loss"] <= 1.0 for h in hist[-30:]), hist
    assert not any("Ctrl-C stops the run there" in line for line in log), log


def test_plateau_stops_a_run_whose_validation_accuracy_stalls_while_its_loss_creeps_down():
    """--plateau N: N epochs without a better validation accuracy (in the last curriculum stage) stop
    the run, where --patience would go on while the validation loss still falls; the best model is kept."""
    from bptt.train import _finished
    cfg = TrainConfig(plateau=3, stop_perfect=0)
    h = [{"epoch": i + 1, "valid_accuracy": a, "valid_loss": 1.0 - i / 10}
         for i, a in enumerate([0.5, 0.9, 0.95, 0.95, 0.94])]
    state = {"history": h, "bad_epochs": 0, "perfect": 0}
    assert _finished(cfg, state) is None  # 2 epochs since the best accuracy (epoch 3)
    h.append({"epoch": 6, "valid_accuracy": 0.95, "valid_loss": 0.4})
    assert "validation accuracy not above 95.00% (epoch 3) for 3 epochs (--plateau 3)" == _finished(cfg, state)
    assert _finished(TrainConfig(stop_perfect=0), state) is None  # off by default
    staged = [dict(r, max_length=8) for r in h]
    assert _finished(cfg, {"history": staged, "bad_epochs": 0, "perfect": 0}, 16) is None  # not the last stage
    assert _finished(cfg, {"history": staged, "bad_epochs": 0, "perfect": 0}, 8) is not None
    with pytest.raises(ValueError, match="plateau must be an integer >= 0"):
        TrainConfig(plateau=-1)
    # end to end: shuffled validation labels stall its accuracy; the run stops N epochs after its best
    tr, V, Lb = _data("parity", (1, 6), 200, 1)
    va, _, _ = _data("parity", (1, 6), 60, 2, vocab=V, labels=Lb, shuffle_labels=True)
    log = []
    hist = train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, epochs=200, stop_perfect=0, plateau=5),
                 log=log.append, progress=False)
    accs = [r["valid_accuracy"] for r in hist]
    best_at = accs.index(max(accs))
    assert len(hist) == best_at + 1 + 5 < 200, (len(hist), best_at)
    assert "(--plateau 5)" in log[-1], log[-1]


def test_resume_on_other_data_is_refused(tmp_path, capsys):
    """A resumed run must train on the data it was interrupted on: another --data (even one with as many
    symbols, so every shape fits) or another --valid is refused by name, and the saved state is kept."""
    files = {}
    for name, task, seed in (("tr", "parity", "1"), ("other", "ab-parity", "1"), ("va", "parity", "2"),
                             ("va2", "parity", "3")):
        files[name] = str(tmp_path / f"{name}.tsv")
        run(capsys, "data", "make", task, "--lengths", "1-8", "--n", "80", "--seed", seed, "--out", files[name])
    common = ["train", "--task", "classify", "--epochs", "3", "--hidden", "4", "--quiet", "--no-curriculum",
              "--cell", "rnn"]
    out = str(tmp_path / "m.bptt")
    assert run(capsys, *common, "--data", files["tr"], "--valid", files["va"], "--out", out, "--max-steps", "3")[0] == 0
    before = open(out + ".last", "rb").read()
    for data, valid, word in ((files["other"], files["va"], "--data"), (files["tr"], files["va2"], "--valid")):
        rc, _, err = run(capsys, *common, "--data", data, "--valid", valid, "--out", out, "--resume")
        assert rc == 2 and f"interrupted on other data than this {word}" in err
    assert open(out + ".last", "rb").read() == before
    assert run(capsys, *common, "--data", files["tr"], "--valid", files["va"], "--out", out, "--resume")[0] == 0


def test_a_second_run_on_the_same_out_is_refused(tmp_path, capsys):
    from bptt.train import _sole_writer

    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "80", "--seed", "1", "--out", str(tr))
    out = str(tmp_path / "m.bptt")
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--hidden", "4", "--quiet",
              "--no-curriculum", "--out", out]
    with _sole_writer(out):  # another run holds OUT (the lock is per open file, so this process counts as one)
        rc, _, err = run(capsys, *common)
        assert rc == 2 and "is being written by another bptt train" in err and f"pid {os.getpid()}" in err
        assert not os.path.exists(out)
    assert run(capsys, *common)[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["m.bptt", "m.bptt.last", "m.bptt.metrics.csv", "tr.tsv"]  # no lock left


def test_a_max_time_stop_keeps_its_model_when_it_validates_better_and_a_resumed_run_only_a_better_one(
        tmp_path, capsys, monkeypatch):
    """--max-time ends a run mid-epoch: that model, validated better than every finished epoch, is the one
    saved in OUT (marked *), while OUT.last still holds a state that --resume continues exactly; the
    resumed run replaces OUT only with a model that validates better still.  A --max-steps stop keeps the
    best finished epoch (test_stops_anywhere_then_resume_give_the_same_files)."""
    import random
    import types

    import bptt.train as train_mod

    clock = {"t": 0.0}

    def perf_counter():  # one second a call: --max-time N stops after a fixed number of batches
        clock["t"] += 1.0
        return clock["t"]

    monkeypatch.setattr(train_mod, "time", types.SimpleNamespace(perf_counter=perf_counter))
    r = random.Random(0)
    words = ["the cat", "a dog", "sat on", "the mat", "ran to", "a log", "and then", "slept"]
    tr, va = tmp_path / "tr.txt", tmp_path / "va.txt"
    for path, n in ((tr, 600), (va, 150)):
        path.write_text("\n".join(" ".join(r.choice(words) for _ in range(6)) for _ in range(n)) + "\n")
    common = ["train", "--task", "lm", "--level", "char", "--data", str(tr), "--valid", str(va), "--epochs", "5",
              "--hidden", "16", "--batch-size", "8", "--window", "32", "--lr", "0.003"]
    m = tmp_path / "m.bptt"
    rc, out, _ = run(capsys, *common, "--out", str(m), "--max-time", "200")
    assert rc == 0
    lines = [ln for ln in out.split("\n") if ln.startswith("epoch ")]
    mid = lines[-1]
    assert "stopped mid-epoch by --max-time" in mid and mid.endswith("*"), out
    ck, last = checkpoint.load(str(m)), checkpoint.load(str(m) + ".last")
    for k, v in last.model.params.items():  # OUT holds the model at the stop, not the best finished epoch's
        np.testing.assert_array_equal(ck.model.params[k], v)
    ts = last.meta["train_state"]
    assert ts["out_score"] is not None and tuple(ts["out_score"]) > tuple(ts["best"])
    rc, ev, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--streams", "8")
    assert rc == 0 and f"loss {-ts['out_score'][1]:.4f}" in ev, ev  # the score saved is that model's own
    # resumed for longer: OUT is replaced only by a finished epoch that scores better than the stop's model
    rc, out2, _ = run(capsys, *common, "--out", str(m), "--max-time", "100000", "--resume")  # to epoch 5
    assert rc == 0
    hist = checkpoint.load(str(m) + ".last").meta["train_state"]["history"]
    new = hist[len(lines) - 1:]
    bar, kept = tuple(ts["out_score"]), []
    for h in new:
        if tuple(h["score"]) > bar:
            bar = tuple(h["score"])
            kept.append(h["epoch"])
    stars = [float(ln.split()[1]) for ln in out2.split("\n") if ln.startswith("epoch ") and ln.endswith("*")]
    assert stars == kept and kept, out2  # the lr keeps the loss falling: later epochs beat the stop's model
    assert checkpoint.load(str(m) + ".last").meta["train_state"]["out_score"] is None
    assert not np.array_equal(checkpoint.load(str(m)).model.params["W_s"], ck.model.params["W_s"])


def test_an_epoch_line_shows_whole_epochs_whole_and_a_stop_mid_epoch_to_two_decimals():
    """The curriculum runs up to 1000 epochs, which a three-digit format showed as '1e+03', and a stop 4% into
    epoch 11 showed as 'epoch 10', the number of the epoch before it."""
    from bptt.train import _epoch_line

    rec = {"step": 5, "time": 1.0, "train_loss": 0.5}
    assert _epoch_line(dict(rec, epoch=1000), None, None).startswith("epoch 1000  step 5")
    assert _epoch_line(dict(rec, epoch=10 + 87 / 2252), None, None).startswith("epoch 10.04  step 5")
    assert _epoch_line(dict(rec, epoch=7), None, None).startswith("epoch 7  step 5")


def test_tags_of_text_keep_the_epoch_of_the_best_token_accuracy_by_default(tmp_path, capsys):
    """--monitor: tags of text (more than 1000 distinct tokens) rank their epochs on --valid by the
    accuracy of tokens, then the loss (benchmarks/results/text-tag-monitor.log); --monitor accuracy (whole
    sequences, the default elsewhere) and loss rank by those.  The epoch kept is checked against the
    run's own per-epoch figures in OUT.metrics.csv, and OUT scored afresh by bptt evaluate."""
    import csv
    import json
    import random
    r = random.Random(3)
    words = [f"w{i}" for i in range(1500)]
    tagged = {w: r.choice("xyz") for w in words}  # a tag a word mostly keeps: epochs differ, and not in one order

    def write(path, n):
        with open(path, "w") as f:
            for _ in range(n):
                toks = r.choices(words[:300], k=r.randint(3, 9)) + r.choices(words, k=1)
                f.write(" ".join(toks) + "\t" + " ".join(tagged[t] if r.random() < 0.8 else "x" for t in toks) + "\n")
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    write(tr, 1500), write(va, 80)
    common = ["train", "--data", str(tr), "--valid", str(va), "--hidden", "8", "--embed", "8", "--epochs", "6",
              "--patience", "0"]
    for monitor in (None, "accuracy", "loss"):
        m = tmp_path / f"{monitor}.bptt"
        rc, out, e = run(capsys, *common, *(["--monitor", monitor] if monitor else []), "--out", str(m))
        assert rc == 0, e
        assert ("keeps the epoch of the best validation token accuracy" in out) == (monitor is None), out
        saved = checkpoint.load(str(m) + ".last").meta["train_config"]["monitor"]
        assert saved == {None: "token_accuracy", "accuracy": "accuracy", "loss": "loss"}[monitor]
        rows = list(csv.DictReader(open(str(m) + ".metrics.csv")))
        key = {None: lambda h: (float(h["valid_token_accuracy"]), -float(h["valid_loss"])),
               "accuracy": lambda h: (float(h["valid_accuracy"]), -float(h["valid_loss"])),
               "loss": lambda h: -float(h["valid_loss"])}[monitor]
        best = max(rows, key=key)
        starred = [ln for ln in out.splitlines() if ln.startswith("epoch ") and ln.endswith("*")]
        assert starred[-1].split()[1] == best["epoch"], (monitor, out)
        rc, o, e = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--json")
        got = json.loads(o)
        assert abs(got["token_accuracy"] - float(best["valid_token_accuracy"])) < 1e-6, (monitor, got, best)
        assert abs(got["loss"] - float(best["valid_loss"])) < 1e-5, (monitor, got, best)
    # a resumed run keeps the interrupted run's ranking, and refuses another
    m = tmp_path / "r.bptt"
    assert run(capsys, *common, "--monitor", "accuracy", "--out", str(m), "--max-steps", "3")[0] == 0
    rc, out, e = run(capsys, *common, "--out", str(m), "--resume")
    assert rc == 0 and checkpoint.load(str(m) + ".last").meta["train_config"]["monitor"] == "accuracy", e
    rc, _, e = run(capsys, *common, "--monitor", "loss", "--out", str(m), "--resume")
    assert rc == 2 and "monitor was 'accuracy' in the interrupted run, now 'loss'" in e, e
    sym = tmp_path / "sym.tsv"  # tags of symbols keep ranking by whole sequences
    sym.write_text("".join(" ".join(r.choice("ab") for _ in range(4)) + "\tx y x y\n" for _ in range(50)))
    rc, out, e = run(capsys, "train", "--data", str(sym), "--valid", str(sym), "--epochs", "1", "--hidden", "4",
                     "--out", str(tmp_path / "sym.bptt"))
    assert rc == 0 and checkpoint.load(str(tmp_path / "sym.bptt.last")).meta["train_config"]["monitor"] == "accuracy"
    cls = tmp_path / "cls.tsv"
    cls.write_text("a b\tx\nb a\ty\n")
    rc, _, e = run(capsys, "train", "--data", str(cls), "--task", "classify", "--monitor", "token-accuracy", "--out",
                   str(tmp_path / "c.bptt"))
    assert rc == 2 and "--monitor token-accuracy ranks the epochs of tag models; this is classify data" in e, e


@pytest.mark.parametrize("monitor,kept", [("token_accuracy", 2), ("accuracy", 3), ("loss", 1), ("macro_f1", 4)])
def test_monitor_ranks_the_epochs_by_what_it_names(tmp_path, monitor, kept):
    """Validation figures scripted per epoch, so that each ranking keeps another epoch: token accuracy
    0.5, 0.7, 0.6, 0.55 (best: 2); whole sequences 0.2, 0.1, 0.3, 0.25 (best: 3); loss 0.4, 0.9, 0.5, 0.6
    (best: 1); the confusion of two labels [[10, 0], [10, 0]] three times (macro F1 (2/3 + 0) / 2), then
    [[5, 5], [5, 5]] (1/2; best: 4)."""
    ex = [Example(list("abab"[: 2 + i % 3]), ["xy"[j % 2] for j in range(2 + i % 3)], i + 1) for i in range(40)]
    vocab, labels = Vocab.build(e.tokens for e in ex), Labels.build(t for e in ex for t in e.target)
    data = SeqData(*encode(ex, vocab, labels, "tag"), "tag")
    lopsided, even = np.array([[10, 0], [10, 0]]), np.array([[5, 5], [5, 5]])
    script = iter([(0.5, 0.2, 0.4, lopsided), (0.7, 0.1, 0.9, lopsided), (0.6, 0.3, 0.5, lopsided),
                   (0.55, 0.25, 0.6, even)])

    class Scripted:
        def evaluate(self, model):
            m = data.evaluate(model)
            m["token_accuracy"], m["accuracy"], m["loss"], m["confusion"] = next(script)
            return m
    model = Model(ModelConfig(vocab_size=len(vocab), embed_dim=4, hidden_size=4, output_size=len(labels),
                              head="many_to_many"), rng=np.random.default_rng(0))
    lines = []
    history = train(model, data, Scripted(), TrainConfig(epochs=4, monitor=monitor, stop_perfect=0),
                    out=str(tmp_path / "m.bptt"), log=lines.append, progress=False)
    starred = [int(ln.split()[1]) for ln in lines if ln.startswith("epoch ") and ln.endswith("*")]
    assert starred[-1] == kept and len(history) == 4, lines
    assert max(range(4), key=lambda k: tuple(history[k]["score"])) == kept - 1
    assert ("macro F1 50.00%" in lines[3]) == (monitor == "macro_f1"), lines  # what decides is shown


def test_train_config_monitor_is_checked():
    with pytest.raises(ValueError, match="monitor='tokens' is not known; choose one of"):
        TrainConfig(monitor="tokens")
    data, vocab, labels = _data("parity", (1, 4), 20, 0)
    with pytest.raises(ValueError, match="monitor='token_accuracy' ranks the epochs of a tag model"):
        train(_model(vocab, labels), data, data, TrainConfig(monitor="token_accuracy", epochs=1), log=lambda *a: None)
    sig = Model(ModelConfig(vocab_size=len(vocab), embed_dim=4, hidden_size=4, output_size=1, loss="sigmoid"),
                rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="monitor='macro_f1' ranks by the F1 of the classes of a softmax output"):
        train(sig, data, data, TrainConfig(monitor="macro_f1", epochs=1), log=lambda *a: None)


def test_tags_of_text_read_both_directions_by_default(tmp_path, capsys):
    """Tags of text (more than 1000 distinct tokens) train a bidirectional model by default
    (benchmarks/results/text-tag-bidirectional.log), and say so; --no-bidirectional turns it off, a resumed
    run keeps the interrupted run's, --init the model's; tags of symbols read both ways too (since
    2026-12-03) and of numbers (since its afternoon), classifiers of text left to right unless told
    otherwise."""
    import random
    r = random.Random(4)
    words = [f"w{i}" for i in range(1200)]
    tr = tmp_path / "tr.tsv"
    tr.write_text("".join(" ".join(toks) + "\t" + " ".join(r.choice("xy") for _ in toks) + "\n"
                          for toks in (r.choices(words, k=r.randint(2, 6)) for _ in range(1300))))
    common = ["train", "--data", str(tr), "--hidden", "4", "--embed", "4", "--epochs", "2", "--quiet"]

    def bidirectional(name):
        return checkpoint.load(str(tmp_path / name)).model.config.bidirectional

    rc, out, e = run(capsys, *common, "--out", str(tmp_path / "a.bptt"))
    assert rc == 0 and "bidirectional (tags of text: a word's tag depends on the words after it too" in out, e
    assert bidirectional("a.bptt") is True
    rc, out, e = run(capsys, *common, "--no-bidirectional", "--out", str(tmp_path / "b.bptt"))
    assert rc == 0 and "bidirectional (tags" not in out and bidirectional("b.bptt") is False, e
    rc, out, e = run(capsys, *common, "--no-bidirectional", "--max-steps", "3", "--out", str(tmp_path / "c.bptt"))
    assert rc == 0, e
    rc, out, e = run(capsys, *common, "--resume", "--out", str(tmp_path / "c.bptt"))  # resumed as it began
    assert rc == 0 and bidirectional("c.bptt") is False, e
    rc, out, e = run(capsys, *common, "--init", str(tmp_path / "b.bptt"), "--out", str(tmp_path / "d.bptt"))
    assert rc == 0 and bidirectional("d.bptt") is False, e
    rc, _, e = run(capsys, *common, "--init", str(tmp_path / "a.bptt"), "--no-bidirectional", "--out",
                   str(tmp_path / "x.bptt"))
    assert rc == 2 and "--no-bidirectional: the model of --init" in e and "was trained with --bidirectional" in e, e
    sym = tmp_path / "sym.tsv"
    sym.write_text("".join(" ".join(r.choice("ab") for _ in range(4)) + "\tx y x y\n" for _ in range(50)))
    rc, out, e = run(capsys, "train", "--data", str(sym), "--epochs", "1", "--hidden", "4", "--out",
                     str(tmp_path / "s.bptt"))  # tags of symbols too (benchmarks/results/tag-bidirectional.log)
    assert rc == 0 and "bidirectional (tags of symbols: a tag may depend on the tokens after it" in out, e
    assert bidirectional("s.bptt") is True
    rc, out, e = run(capsys, "train", "--data", str(sym), "--epochs", "1", "--hidden", "4", "--no-bidirectional",
                     "--out", str(tmp_path / "s1.bptt"))
    assert rc == 0 and "bidirectional (tags" not in out and bidirectional("s1.bptt") is False, e
    num = tmp_path / "num.tsv"  # tags of numbers both ways (benchmarks/results/tag-bidirectional-numbers.log)
    num.write_text("".join(" ".join(f"{r.uniform(-1, 1):.2f}" for _ in range(4)) + "\tx y x y\n" for _ in range(50)))
    rc, out, e = run(capsys, "train", "--data", str(num), "--epochs", "1", "--hidden", "4",
                     "--out", str(tmp_path / "n.bptt"))
    assert rc == 0 and "bidirectional (tags of numbers: a tag may depend on the values after it" in out, e
    assert bidirectional("n.bptt") is True
    rc, out, e = run(capsys, "train", "--data", str(num), "--epochs", "1", "--hidden", "4", "--no-bidirectional",
                     "--out", str(tmp_path / "n1.bptt"))
    assert rc == 0 and "bidirectional (tags" not in out and bidirectional("n1.bptt") is False, e
    cls = tmp_path / "cls.tsv"
    cls.write_text("".join(" ".join(r.choices(words, k=4)) + f"\t{r.choice('xy')}\n" for _ in range(1300)))
    rc, out, e = run(capsys, "train", "--data", str(cls), "--task", "classify", "--epochs", "1", "--hidden", "4",
                     "--out", str(tmp_path / "k.bptt"))
    assert rc == 0 and bidirectional("k.bptt") is False, e


def test_a_tagger_of_text_stopped_and_resumed_writes_the_files_of_one_that_never_stopped(tmp_path, capsys):
    """Under the defaults for tags of text (both directions, dropout, patience, epochs ranked by token
    accuracy), a run stopped by --max-steps and resumed without any option writes OUT, OUT.last and
    OUT.metrics.csv as one that never stopped."""
    import random
    r = random.Random(5)
    words = [f"w{i}" for i in range(1100)]
    tagged = {w: r.choice("xyz") for w in words}
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    for path, n in ((tr, 1200), (va, 60)):
        path.write_text("".join(" ".join(toks) + "\t" + " ".join(tagged[t] for t in toks) + "\n"
                                for toks in (r.choices(words, k=r.randint(2, 7)) for _ in range(n))))
    common = ["train", "--data", str(tr), "--valid", str(va), "--hidden", "6", "--embed", "6", "--epochs", "4",
              "--quiet"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, out, e = run(capsys, *common, "--out", str(a))
    assert rc == 0 and "bidirectional (tags of text" in out and "best validation token accuracy" in out, e
    for steps in ("30", "77"):
        assert run(capsys, *common, "--out", str(b), "--max-steps", steps, *(["--resume"] if steps != "30" else []))[0] == 0
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    _assert_same_files(a, b)


def test_monitor_macro_f1_keeps_the_epoch_of_the_best_mean_f1(tmp_path, capsys):
    """--monitor macro-f1: each epoch's line shows the validation macro F1, the epoch kept is the one of
    the best (then the lowest loss), and bptt evaluate finds that figure in the model kept."""
    import json
    import re
    r = np.random.default_rng(6)
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    for path, n in ((tr, 400), (va, 80)):  # a rare label: 'r' after 'b' (about 1 token in 8)
        lines = []
        for _ in range(n):
            toks = list(r.choice(["a", "b", "c"], size=int(r.integers(3, 9)), p=[0.6, 0.15, 0.25]))
            lines.append(" ".join(toks) + "\t" + " ".join("r" if k and toks[k - 1] == "b" else "o"
                                                          for k in range(len(toks))))
        path.write_text("\n".join(lines) + "\n")
    m = tmp_path / "m.bptt"
    rc, out, e = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--monitor", "macro-f1", "--epochs", "6",
                     "--hidden", "4", "--no-curriculum", "--stop-perfect", "0", "--out", str(m))
    assert rc == 0, e
    rows = [(int(ln.split()[1]), float(re.search(r"macro F1 ([0-9.]+)%", ln).group(1)),
             float(re.search(r"valid loss ([0-9.]+)", ln).group(1)), ln.endswith("*"))
            for ln in out.splitlines() if ln.startswith("epoch ")]
    assert len(rows) == 6, out
    best = max(rows, key=lambda row: (row[1], -row[2]))
    assert [row[0] for row in rows if row[3]][-1] == best[0], out
    rc, o, e = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--json")
    assert rc == 0 and abs(100 * json.loads(o)["macro_f1"] - best[1]) < 0.006, (o, best)
    reg = tmp_path / "reg.tsv"
    reg.write_text("a b\t1.5\nb a\t-0.5\na a\t2\n")
    rc, _, e = run(capsys, "train", "--data", str(reg), "--task", "regress", "--monitor", "macro-f1", "--out",
                   str(tmp_path / "r.bptt"))
    assert rc == 2 and "--monitor macro-f1 ranks the epochs of classify and tag models" in e, e


def test_a_small_training_set_of_symbols_trains_in_smaller_batches_and_a_resume_keeps_its_own(tmp_path, capsys):
    """Classify data of symbols with fewer than 2,048 training sequences train in batches of the largest
    power of two at most their number / 64, at least 4 (benchmarks/results/small-data-batch-*.log), said on
    a line with the option that sets it; --batch-size, 2,048 sequences or more, tags, regressions and text
    keep 32, and a run interrupted under another batch size resumes with its own, ending where a run
    that never stopped ends."""
    import random
    r = random.Random(4)

    def write(name, n, label=lambda s: str(s.count("a") % 3), alpha="ab"):
        f = tmp_path / name
        rows = ["".join(r.choice(alpha) for _ in range(r.randint(1, 12))) for _ in range(n)]
        f.write_text("".join(f"{s}\t{label(s)}\n" for s in rows))
        return f

    def batch(path, *extra):
        m = tmp_path / "m.bptt"
        rc, o, e = run(capsys, "train", "--data", str(path), "--out", str(m), "--max-steps", "1", "--hidden", "4",
                       *extra)
        assert rc == 0, e
        return checkpoint.load(str(m) + ".last").meta["train_config"]["batch_size"], o

    def decay():
        return checkpoint.load(str(tmp_path / "m.bptt") + ".last").meta["train_config"]["weight_decay"]

    for n, want in ((40, 4), (300, 4), (600, 8), (1000, 8), (1023, 8), (1024, 16), (1500, 16), (2047, 16), (2048, 32),
                    (3000, 32)):
        got, o = batch(write(f"c{n}.tsv", n))
        assert got == want, (n, got)
        line = f"batches of {want} ({n:,} training sequences of symbols"
        assert (line in o) == (want != 32) and ("batches of" in o) == (want != 32), o
        # and weight decay, on the same sets (benchmarks/results/small-data-weight-decay-*.log)
        assert decay() == (0.1 if n < 1024 else 0.0), (n, decay())  # batches of 8 and 4
        line = f"weight decay 0.1 ({n:,} training sequences of symbols: without it the models memorised"
        assert (line in o) == (n < 1024) and ("weight decay" in o) == (n < 1024), o
    small = write("small.tsv", 300)
    got, o = batch(small, "--batch-size", "32")
    assert got == 32 and "batches of" not in o, o
    assert batch(small, "--batch-size", "2")[0] == 2
    got, o = batch(small, "--weight-decay", "0")
    assert decay() == 0.0 and "weight decay" not in o and "batches of 4" in o
    assert batch(small, "--weight-decay", "0.05")[0] == 4 and decay() == 0.05
    tags = tmp_path / "tags.tsv"  # tags of symbols, a regression of symbols, words: 32, no weight decay
    tags.write_text("".join(f"{' '.join(s)}\t{' '.join('x' if c == 'a' else 'y' for c in s)}\n"
                            for s in ("".join(r.choice("ab") for _ in range(r.randint(1, 9))) for _ in range(300))))
    assert batch(tags)[0] == 32 and decay() == 0.0
    assert batch(write("reg.tsv", 300, label=lambda s: f"{s.count('a') / len(s):.3f}"), "--task", "regress")[0] == 32
    assert decay() == 0.0
    words = tmp_path / "words.tsv"
    words.write_text("".join(" ".join(f"w{r.randrange(20000)}" for _ in range(r.randint(3, 6)))
                             + f"\t{r.choice('xy')}\n" for _ in range(300)))
    assert batch(words)[0] == 32 and decay() == 0.0
    rc, _, e = run(capsys, "train", "--data", str(small), "--out", str(tmp_path / "z.bptt"), "--batch-size", "0")
    assert rc == 2 and "--batch-size must be a positive integer, got 0" in e, e
    # a run interrupted under batches of 32 (the default before 2026-12-03) resumes with them
    common = ["train", "--data", str(small), "--valid", str(small), "--epochs", "2", "--hidden", "4", "--quiet",
              "--seed", "3"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--batch-size", "32", "--out", str(a))[0] == 0
    assert run(capsys, *common, "--batch-size", "32", "--out", str(b), "--max-steps", "5")[0] == 0
    rc, o, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0 and "batches of" not in o, e
    assert checkpoint.load(str(b) + ".last").meta["train_config"]["batch_size"] == 32
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    # and one interrupted under the new default resumes with it
    c, d = tmp_path / "c.bptt", tmp_path / "d.bptt"
    assert run(capsys, *common, "--out", str(c))[0] == 0
    assert run(capsys, *common, "--out", str(d), "--max-steps", "30")[0] == 0
    rc, o, e = run(capsys, *common, "--out", str(d), "--resume")
    assert rc == 0, e
    assert checkpoint.load(str(d) + ".last").meta["train_config"]["batch_size"] == 4
    pc, pd = checkpoint.load(str(c) + ".last").model.params, checkpoint.load(str(d) + ".last").model.params
    for k in pc:
        np.testing.assert_array_equal(pc[k], pd[k])


def test_weight_decay_trains_resumes_with_its_own_and_is_refused_when_bad(tmp_path, capsys):
    """--weight-decay reaches the optimiser (the weights differ from a run without it, the biases'
    steps too, through the loss), is saved with the run, and a run interrupted under it resumes with it,
    ending where a run that never stopped ends; another value on --resume, or a bad one, is refused by name."""
    import random
    r = random.Random(6)
    data = tmp_path / "d.tsv"
    data.write_text("".join(f"{s}\t{s.count('a') % 2}\n" for s in (
        "".join(r.choice("ab") for _ in range(r.randint(1, 10))) for _ in range(200))))
    common = ["train", "--data", str(data), "--valid", str(data), "--epochs", "2", "--hidden", "4", "--quiet",
              "--seed", "1", "--batch-size", "16"]
    a, b, c = tmp_path / "a.bptt", tmp_path / "b.bptt", tmp_path / "c.bptt"
    assert run(capsys, *common, "--weight-decay", "0.5", "--out", str(a))[0] == 0
    assert run(capsys, *common, "--weight-decay", "0", "--out", str(c))[0] == 0
    pa, pc = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(c) + ".last").model.params
    assert checkpoint.load(str(a) + ".last").meta["train_config"]["weight_decay"] == 0.5
    assert np.abs(pa["W_s"]).sum() < np.abs(pc["W_s"]).sum()  # shrunk
    assert run(capsys, *common, "--weight-decay", "0.5", "--out", str(b), "--max-steps", "7")[0] == 0
    rc, o, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0, e
    pb = checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    assert run(capsys, *common, "--weight-decay", "0.5", "--out", str(b), "--max-steps", "7")[0] == 0
    rc, o, e = run(capsys, *common, "--weight-decay", "0.1", "--out", str(b), "--resume")
    assert rc == 2 and "--resume: --weight-decay was 0.5 in the interrupted run, now 0.1" in e, e
    k = common.index("--epochs")
    more = common[:k] + common[k + 2:] + ["--epochs", "7"]  # more epochs than the run had: --init says how
    rc, o, e = run(capsys, *more, "--weight-decay", "0.5", "--out", str(b), "--resume")
    assert rc == 2 and "--epochs was 2 in the interrupted run, now 7" in e and f"--init {b} instead of --resume" in e
    rc, o, e = run(capsys, *common, "--weight-decay", "-1", "--out", str(tmp_path / "z.bptt"))
    assert rc == 2 and "--weight-decay must be a number >= 0 (0 = off), got -1.0" in e, e
    # a run interrupted before weight decay existed (no weight_decay saved) resumes without it, although
    # the default for its 200 strings of symbols is now 0.1: it ends where a run without decay ends
    assert run(capsys, *common, "--weight-decay", "0", "--out", str(b), "--max-steps", "7")[0] == 0
    last = checkpoint.load(str(b) + ".last")
    meta = dict(last.meta, train_config={k: v for k, v in last.meta["train_config"].items() if k != "weight_decay"})
    checkpoint.save(str(b) + ".last", last.model, meta=meta, opt_state=last.opt_state)
    rc, o, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0 and "weight decay" not in o, e
    pb = checkpoint.load(str(b) + ".last").model.params
    for k in pc:
        np.testing.assert_array_equal(pb[k], pc[k])
    d = tmp_path / "d.bptt"
    rc, o, e = run(capsys, *common, "--out", str(d))
    assert rc == 0 and "weight decay 0.1 (200 training sequences" in o, e  # the default there, which it missed
    assert checkpoint.load(str(d) + ".last").meta["train_config"]["weight_decay"] == 0.1


def test_a_relapse_to_chance_after_better_epochs_is_not_called_a_model_that_learned_nothing():
    """A validation accuracy back at chance after epochs above it (a spike in the loss, as a new user's run
    at 100% showed for one epoch) is flagged on its line, with a note that the best model stays saved, not
    with the hint for a model that has learned nothing; a run at chance from the start still gets that."""
    tr, V, Lb = _data("third-last", (1, 12), 200, 1)
    va, *_ = _data("third-last", (1, 12), 300, 2, V, Lb)

    class Scripted(SeqData):  # the validation accuracy of each epoch, as given
        def __init__(self, base, accs):
            super().__init__(base.ids, base.targets, base.task)
            self.accs = iter(accs)

        def evaluate(self, model):
            return {"n": 300, "accuracy": next(self.accs), "loss": 0.5, "correct": None}

    for accs, relapse in (([0.5, 0.5, 0.95, 0.96, 0.5, 0.97], True), ([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], False)):
        lines = []
        train(_model(V, Lb), tr, Scripted(va, accs), TrainConfig(lr=0.01, epochs=6), log=lines.append,
              progress=False)
        flagged = [ln for ln in lines if "at chance level" in ln]
        assert flagged, lines
        fell = [ln for ln in lines if "fell back to chance" in ln]
        nothing = [ln for ln in lines if "learned nothing yet" in ln or "memorised" in ln]  # (a scripted loss)
        assert (len(fell), len(nothing)) == ((1, 0) if relapse else (0, 1)), lines
        if relapse:
            assert fell[0] == ("  validation accuracy fell back to chance after epochs above it (a spike in the "
                               "training loss); the best model stays saved, and training goes on")


def test_a_model_at_chance_that_fits_its_training_set_is_called_memorised_once():
    """A new user's decimal remainders mod 7 from 3,000 strings (stop 40): the training loss fell to 0.3 while
    validation stayed at chance with a loss of 6.5, and the run said 'the model has learned nothing yet: try
    --restarts, a smaller --lr ...'.  Labels shuffled, so that nothing but memorising can fit them: the run
    says, once, that it memorised its training sequences, when its training loss falls below half the
    validation loss and half the loss of answering with the labels' frequencies (a run at 1.8 against
    4.2 on validation, ln 7 = 1.95 for the frequencies, had fitted nothing); a model that learned
    something never hears it."""
    tr, V, Lb = _data("third-last", (1, 12), 60, 1, shuffle_labels=True)
    va, *_ = _data("third-last", (1, 12), 300, 2, V, Lb, shuffle_labels=True)
    lines = []
    train(_model(V, Lb, hidden=32), tr, va, TrainConfig(lr=0.02, clip=1, epochs=20), log=lines.append, progress=False)
    said = [i for i, ln in enumerate(lines) if "it has memorised them rather than learned a rule" in ln]
    assert len(said) == 1, lines
    before = lines[said[0] - 1].split()  # the epoch line it follows
    train_loss, valid_loss = float(before[before.index("train") + 2]), float(before[before.index("valid") + 2])
    assert train_loss < 0.5 * valid_loss and "at chance level" in lines[said[0] - 1]
    counts = np.bincount(np.asarray(tr.targets))
    p = counts[counts > 0] / counts.sum()
    assert train_loss < 0.5 * float(-(p * np.log(p)).sum())  # and below half the loss of the labels' frequencies
    earlier = [ln for ln in lines[:said[0] - 1] if ln.startswith("epoch ")]
    assert earlier and all(float(ln.split()[ln.split().index("train") + 2]) >= 0.5 * float(-(p * np.log(p)).sum())
                           or float(ln.split()[ln.split().index("train") + 2]) >= 0.5 * float(
                               ln.split()[ln.split().index("valid") + 2]) for ln in earlier)  # the first such epoch
    assert "more training data helps most" in lines[said[0]] and lines[said[0]].endswith("or --weight-decay 0.1")
    learn = []
    tr, V, Lb = _data("third-last", (1, 12), 400, 1)
    va, *_ = _data("third-last", (1, 12), 300, 2, V, Lb)
    train(_model(V, Lb), tr, va, TrainConfig(lr=0.01, clip=1, epochs=5), log=learn.append, progress=False)
    assert not any("memorised" in ln for ln in learn)


def test_symbols_stop_after_200_epochs_that_are_not_better_by_default(tmp_path, capsys):
    """A classifier or tagger of symbols (or numbers) given --valid stops once it has stopped learning:
    SYMBOL_PATIENCE epochs without a better validation score (replayed on 21 runs: the same models);
    a regression of symbols, text and language models keep their own defaults."""
    from bptt.train import SYMBOL_PATIENCE, TEXT_PATIENCE, default_patience
    from conftest import run

    assert SYMBOL_PATIENCE == 200
    assert default_patience("classify", True) == default_patience("tag", True) == SYMBOL_PATIENCE
    assert default_patience("regress", True) is None and default_patience("classify", False) is None
    assert default_patience("classify", True, text=True) == TEXT_PATIENCE
    tr = tmp_path / "tr.tsv"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-6", "--n", "100", "--seed", "1", "--out", str(tr))[0] == 0
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(tr), "--out", str(tmp_path / "m.bptt"),
                     "--max-steps", "1", "--quiet")
    assert rc == 0 and "stops after 200 epochs without a better validation accuracy, or loss at equal accuracy: a run " \
        "that has stopped learning" in out and "--patience 0 trains all 1000 epochs" in out, out


def test_a_run_of_symbols_without_valid_says_how_its_model_is_chosen(tmp_path, capsys):
    """Without --valid the model kept is the one of the lowest training loss: the run says so, once, and
    what a validation file would change; with --valid it does not."""
    from conftest import run

    tr = tmp_path / "tr.tsv"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-6", "--n", "100", "--seed", "1", "--out", str(tr))[0] == 0
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--out", str(tmp_path / "m.bptt"), "--max-steps", "1", "--quiet")
    assert rc == 0 and out.count("no --valid data: the model kept is the one with the lowest training loss, and the "
                                 "run stops at a training loss of at most 0.0001 (or after its 1000 epochs)") == 1, out
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(tr), "--out", str(tmp_path / "v.bptt"),
                     "--max-steps", "1", "--quiet")
    assert rc == 0 and "no --valid data" not in out
