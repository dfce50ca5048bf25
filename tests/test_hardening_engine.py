"""Issue 17, items 1 and 2: memory-safety bugs inside the engine (cyw2v/_core.pyx). Each case
runs in a subprocess, so a crash fails the test, not pytest."""
import subprocess
import sys


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_engine_refuses_a_window_beyond_its_buffers():
    """The engine itself must check (2 window + combine) against its C sizes, whatever the
    Python layer lets through (the table caps window at 100000)."""
    r = run("import numpy as np\n"
            "from cyw2v import Word2Vec\n"
            "m = Word2Vec([['a','b','c','d']*30]*20, sg=1, min_count=1, workers=1, epochs=1)\n"
            "object.__setattr__(m, '_params', {**m._params, 'window': 2**31 - 1})\n"
            "try:\n    m.train([['a','b']]*5, total_examples=5, epochs=1)\n"
            "except (ValueError, MemoryError, OverflowError) as e:\n    print('refused', e)\n")
    assert r.returncode == 0 and "refused" in r.stdout, r.stderr[-2000:]


def test_a_sentence_whose_len_lies_is_not_trusted():
    """The engine's encoder itself (the Python layer copies such sentences first)."""
    r = run("from cyw2v._dispatch import core\n"
            "class Liar(list):\n"
            "    def __len__(self):\n        return 1\n"
            "words, ends, raw = core.encode_sentences([Liar(['a', 'b', 'c'] * 1000)] * 10, {'a': 0, 'b': 1, 'c': 2})\n"
            "assert len(words) <= 30000\n"
            "print('ok')\n")
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]
