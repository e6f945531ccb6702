"""Odd values for the options of every command (seeded, through bptt.cli.main): each run ends with an
exit status and at most a one-line error, never a traceback, a hang or a file left behind."""

import contextlib
import io
import os
import random
import signal

import pytest

from bptt.cli import build_parser, main

ODD = ["0", "-1", "1e309", "nan", "inf", "-inf", "", " ", "1.5", "99999999999999999999", "abc", "\u00e9\u2028", "-0",
       "1e-320", "2", "3", "--", os.devnull, "tr.tsv", "m.bptt", "0x10", "1_000", "None", "[]", "{}", "@", "a@b:c"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_odd_option_values_never_give_a_traceback(tmp_path, monkeypatch, seed):
    monkeypatch.chdir(tmp_path)
    real_replace = os.replace

    def guarded_replace(src, dst):  # were a check to fail, the test fails without replacing /dev/null
        assert os.path.realpath(dst) != os.devnull, "a rename over /dev/null"
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", guarded_replace)
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        assert main(["data", "make", "parity", "--lengths", "1-6", "--n", "60", "--out", "tr.tsv"]) == 0
        assert main(["train", "--data", "tr.tsv", "--task", "classify", "--out", "m.bptt", "--epochs", "1", "--quiet",
                     "--hidden", "4"]) == 0
        (tmp_path / "t.txt").write_text("to be or not to be " * 50)
        assert main(["train", "--data", "t.txt", "--task", "lm", "--out", "lm.bptt", "--epochs", "1", "--quiet",
                     "--hidden", "4", "--window", "8"]) == 0
    before = sorted(os.listdir(tmp_path))
    commands = [a for a in build_parser()._actions if a.dest == "command"][0].choices
    base = {"train": ["--data", "tr.tsv", "--task", "classify", "--out", "o.bptt", "--max-steps", "2", "--quiet",
                      "--hidden", "4"],
            "evaluate": ["--model", "m.bptt", "--data", "tr.tsv"], "predict": ["--model", "m.bptt", "0110"],
            "generate": ["--model", "lm.bptt", "--length", "5"], "embeddings": ["--model", "m.bptt", "--near", "1"],
            "export": ["--model", "m.bptt", "--out", "e.safetensors"]}
    rng = random.Random(seed)  # three draws of 300 cases (one found --restarts 1e20 filling the memory)

    def hang(*_):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, hang)
    codes = {}
    try:
        for _ in range(300):
            cmd = rng.choice(sorted(base))
            opts = [a for a in commands[cmd]._actions if a.option_strings and a.option_strings[0] != "-h"]
            args = [cmd] + base[cmd]
            for a in rng.sample(opts, k=min(len(opts), rng.randint(1, 3))):
                args += [a.option_strings[-1]] + ([] if a.nargs == 0 else [rng.choice(ODD)])
            out = io.StringIO()
            signal.alarm(60)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    rc = main(args)
            except SystemExit as e:  # argparse's own one-line error
                rc = e.code
            finally:
                signal.alarm(0)
            text = out.getvalue()
            assert rc in (0, 1, 2) and "Traceback" not in text, (args, text[-500:])
            if rc:
                assert text.strip().splitlines()[-1].startswith(("bptt ", "usage:")) or ": error:" in text, (args, text)
            codes[rc] = codes.get(rc, 0) + 1
            left = [f for f in os.listdir(tmp_path) if f.endswith((".tmp", ".lock"))]
            assert not left, (args, left)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert codes.get(0, 0) >= 10 and codes.get(2, 0) >= 100, codes  # both outcomes are exercised
    assert set(before) <= set(os.listdir(tmp_path))  # no input was replaced or removed
