"""The engine's one tokeniser (counting, encode_text, corpus_file training) against
str.split(), and the hardening of the engine's buffer sizes."""
import logging
import re
from collections import Counter

import numpy as np
import pytest

from cyw2v import Word2Vec, _core
from cyw2v._dispatch import core as engine_core   # the variant the workers run
from cyw2v.vocab import scan_corpus_file

WHITESPACE = b" \t\n\v\f\r\x1c\x1d\x1e\x1f"
MAX_TOKEN = 4096   # MAX_TOKEN_BYTES in _text.pxi


def random_ascii(rng, n, words=40):
    """ASCII text: tokens from a small vocabulary (so counts repeat) and random printable
    ones, separated by runs of every whitespace byte str.split() knows."""
    vocab = [bytes(rng.integers(33, 127, int(rng.integers(1, 9))).astype(np.uint8)) for _ in range(words)]
    out = bytearray()
    while len(out) < n:
        out += vocab[int(rng.integers(len(vocab)))] if rng.random() < 0.8 else \
            bytes(rng.integers(33, 127, int(rng.integers(1, 20))).astype(np.uint8))
        out += bytes(rng.choice(np.frombuffer(WHITESPACE, np.uint8), int(rng.integers(1, 4))))
    return bytes(out[:n])


def pieces(data, rng, most=7):
    """data cut into consecutive pieces of 1..most bytes."""
    cuts = np.cumsum(rng.integers(1, most + 1, len(data)))
    cuts = [0] + [int(c) for c in cuts if c < len(data)] + [len(data)]
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


@pytest.mark.parametrize("seed", range(6))
def test_tokeniser_is_str_split_on_ascii_across_tiny_buffers(seed):
    rng = np.random.default_rng(seed)
    data = random_ascii(rng, 3000)
    expected = data.decode("ascii").split()
    events = _core.debug_tokenize(pieces(data, rng))
    assert [e[1].decode() for e in events if e[0] == "word"] == expected
    assert [e[2] for e in events if e[0] == "newline"] == [i for i, c in enumerate(data) if c == 10]
    for kind, token, at in events:   # `at` is the byte that ended the token (or end of data)
        if kind == "word":
            assert data[at - len(token):at] == token and (at == len(data) or data[at] in WHITESPACE)


def test_every_byte_is_whitespace_exactly_when_str_split_says_so():
    """Each of the 256 byte values inside a token: only WHITESPACE (what str.split() splits
    ASCII text at) ends it; is_space is a bit test, so every value is checked."""
    data = b"".join(b"a" + bytes([c]) + b"b " for c in range(256))
    words = [e[1] for e in _core.debug_tokenize([data]) if e[0] == "word"]
    expected = []
    for c in range(256):
        expected += [b"a", b"b"] if bytes([c]) in WHITESPACE else [b"a" + bytes([c]) + b"b"]
    assert words == expected


@pytest.mark.parametrize("seed", range(4))
def test_counter_and_encode_text_agree_with_str_split(seed):
    rng = np.random.default_rng(100 + seed)
    data = random_ascii(rng, 5000)
    split = data.decode("ascii").split()
    counter = _core.TokenCounter()
    for piece in pieces(data, rng, most=11):
        counter.add(piece)
    counter.finish()
    assert [(k.decode(), c) for k, c in counter.items()] == list(Counter(split).items())
    assert len(counter) == len(set(split))
    assert counter.total_words == len(split) and counter.total_lines == data.count(b"\n")
    keys = list(dict.fromkeys(split))
    index = _core.TokenIndex(keys[::2])          # every other word known
    words, ends, raw = _core.encode_text(data, index, 10 ** 6, True)
    lines = [line.split() for line in data.decode("ascii").split("\n")]
    known = [[index.get(t) for t in line if index.get(t) >= 0] for line in lines]
    assert raw == len(split)
    np.testing.assert_array_equal(words, [i for line in known for i in line])
    np.testing.assert_array_equal(ends, np.cumsum([len(line) for line in known if line]))


def _reference_sentences(data, index, max_sentence):
    """What Worker.train_file_range trains on, from its definition: per sentence (known
    words, raw words since the previous sentence, the byte that ended it, tail)."""
    out, pending, raw, raw_recorded = [], [], 0, 0
    for m in re.finditer(rb"\n|[^\t\n\x0b\x0c\r\x1c-\x1f ]+", data):
        if m.group() == b"\n":
            if pending:
                out.append((pending, raw - raw_recorded, m.start(), False))
                pending, raw_recorded = [], raw
            continue
        raw += 1
        word = index.get(m.group()) if len(m.group()) <= MAX_TOKEN else -1
        if word >= 0:
            pending.append(word)
            if len(pending) == max_sentence and m.end() < len(data):   # not the unterminated last
                out.append((pending, raw - raw_recorded, m.end(), False))
                pending, raw_recorded = [], raw
    if pending:
        out.append((pending, raw - raw_recorded, len(data), True))
    return out


@pytest.mark.parametrize("ending", [b"\n", b" zzz", b"short"])
def test_corpus_file_training_reads_every_sentence_as_defined(tmp_path, ending):
    """The words a corpus_file worker trains on (its piece record) against the reference
    above, over 2.3 MB: read buffers of 1 MiB with a known token and an overlong one across
    their boundaries, lines longer than max_sentence, unknown words, blank lines, and the
    lookahead's batches of looked-up tokens cut by every kind of event. "short" ends the
    file 30 bytes into its second buffer, on an unterminated known word: the batch of the
    word carried into that buffer then also holds the buffer's end, which carries the last
    word over that one's bytes."""
    rng = np.random.default_rng(7)
    vocab = [b"w%d" % i for i in range(300)]

    def text(n):
        out = bytearray()
        while len(out) < n:
            r = rng.random()
            if r < 0.02:
                out += b"\n" * int(rng.integers(1, 3))
            elif r < 0.025:
                out += b"u" * int(rng.integers(1, 40)) + b" "          # unknown
            else:
                out += vocab[min(int(rng.zipf(1.3)), 299)] + bytes([int(rng.choice(list(WHITESPACE)))])
        return bytes(out[:n])

    data = bytearray(text((1 << 20) - 5)) + b" w2 w1 w2 "                   # w1 straddles 1 MiB
    data += b"x" * 3000 + b"\n"
    data += text((2 << 20) - 100 - len(data)) + b" " + b"o" * (MAX_TOKEN + 300) + b" w3"   # and 2 MiB
    data += b" ".join(vocab[i % 7] for i in range(500)) + b"\n\n"               # one long line
    data += text(200_000) + ending
    if ending == b"short":
        data = data[:(1 << 20) + 30] + b" w2 w3"
    path = tmp_path / "c.txt"
    path.write_bytes(bytes(data))
    m = Word2Vec(vector_size=4, min_count=3, workers=1).build_vocab(corpus_file=str(path))
    trainer = m._trainer(False)
    index = m.vocab.token_index()
    for max_sentence in (1000, 37):
        worker = trainer.engine.worker(max_sentence)
        record = engine_core.PieceRecord()
        raw, kept, _, _ = worker.train_file_range(index, str(path).encode(), 0, len(data), 0.02, 0.02, 1,
                                                  np.zeros(2, np.int64), record)
        got = record.sentences()
        expected = _reference_sentences(bytes(data), index, max_sentence)
        assert [s[0] for s in got] == [s[0] for s in expected]
        assert got == expected and raw == len(data.decode("ascii").split())


def test_range_limit_and_a_token_straddling_the_start():
    data = b"ab cd\nef gh"
    assert _core.debug_tokenize([b"cd\nef gh"], start=3, limit=7, mid_token=True) == [
        ("newline", None, 5), ("word", b"ef", 8), ("limit", None, -1)]
    # a token belongs to the range its first byte is in; whitespace at the limit ends it
    assert _core.debug_tokenize([data[:4], data[4:]], limit=4)[-3:] == [
        ("word", b"cd", 5), ("newline", None, 5), ("limit", None, -1)]
    assert _core.debug_tokenize([data], limit=3)[-2:] == [("word", b"ab", 2), ("limit", None, -1)]
    assert _core.debug_tokenize([data], limit=5) == [("word", b"ab", 2), ("word", b"cd", 5),
                                                     ("newline", None, 5), ("limit", None, -1)]


def test_overlong_tokens_are_raw_words_but_never_keys():
    rng = np.random.default_rng(1)
    exact, long = b"x" * MAX_TOKEN, b"y" * (MAX_TOKEN + 1)
    data = b"a " + exact + b" " + long + b"\nb " + long
    for chunks in ([data], pieces(data, rng, most=1000)):
        counter = _core.TokenCounter()
        for piece in chunks:
            counter.add(piece)
        counter.finish()
        assert counter.items() == [(b"a", 1), (exact, 1), (b"b", 1)]
        assert counter.total_words == 5
        kinds = [e[0] for e in _core.debug_tokenize(chunks)]
        assert kinds == ["word", "word", "overlong", "newline", "word", "overlong"]


def test_counter_prune_keeps_first_seen_order():
    counter = _core.TokenCounter()
    counter.add(b"a b a c b a d")           # "d" may continue in the next piece
    assert counter.prune(1) == 1 and counter.items() == [(b"a", 3), (b"b", 2)]
    counter.add(b" c e a")
    counter.finish()
    assert counter.items() == [(b"a", 4), (b"b", 2), (b"d", 1), (b"c", 1), (b"e", 1)]
    many = _core.TokenCounter()
    many.add(b" ".join(b"w%d" % i for i in range(50_000)) + b" w7")
    many.finish()
    assert len(many) == 50_000 and many.items()[7] == (b"w7", 2) and many.total_words == 50_001


def _old_scan_corpus_file(path, max_vocab_size=None, chunk_bytes=1 << 22):
    """scan_corpus_file before the C counter (bytes.split), the reference for identity."""
    table = bytes.maketrans(b"\x1c\x1d\x1e\x1f", b"    ")
    counts, total_words, total_lines, min_reduce, pruned, tail = Counter(), 0, 0, 1, False, b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(chunk_bytes)
            if not chunk:
                break
            data = tail + chunk
            cut = max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b"\t"), data.rfind(b"\r"))
            if cut < 0:
                tail = data
                continue
            tail, body = data[cut + 1:], data[:cut + 1]
            tokens = body.translate(table).split()
            counts.update(tokens)
            total_words += len(tokens)
            total_lines += body.count(b"\n")
            if max_vocab_size is not None and len(counts) > max_vocab_size:
                for word in [w for w, c in counts.items() if c <= min_reduce]:
                    del counts[word]
                pruned = True
                min_reduce += 1
    if tail:
        tokens = tail.translate(table).split()
        counts.update(tokens)
        total_words += len(tokens)
        total_lines += 1
    decoded = {k.decode("utf-8", "surrogateescape"): v for k, v in counts.items()}
    return decoded, total_words, max(total_lines, 1 if total_words else 0), pruned, min_reduce


@pytest.mark.parametrize("seed", range(5))
def test_scan_corpus_file_is_unchanged(tmp_path, seed):
    rng = np.random.default_rng(seed)
    data = random_ascii(rng, 20_000, words=400) + [b"", b"\n", b" tail", b"\x0b", "é\n".encode()][seed]
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    for max_vocab, chunk in [(None, 1 << 22), (None, 37), (50, 64), (120, 1000), (10, 5)]:
        scan = scan_corpus_file(str(path), max_vocab, chunk_bytes=chunk)
        counts, words, lines, pruned, min_reduce = _old_scan_corpus_file(path, max_vocab, chunk)
        assert list(scan.counts.items()) == list(counts.items()), (max_vocab, chunk)
        assert (scan.total_words, scan.total_sentences, scan.pruned, scan.min_reduce) == \
            (words, lines, pruned, min_reduce)


@pytest.mark.parametrize("seed", range(5))
def test_scan_corpus_file_in_ranges_equals_one_thread(tmp_path, monkeypatch, seed):
    """Threads counting ranges cut after whitespace give one thread's scan: the same keys in
    the same first-seen order, the same counts, words and sentences; a token longer than a
    range, a file shorter than the threads and every file ending of the identity test
    included. The cuts land just after a whitespace byte (or at the end), never in a token."""
    from cyw2v import _files, vocab
    rng = np.random.default_rng(seed)
    data = random_ascii(rng, 20_000, words=400) + [b"", b"\n", b" tail", b"\x0b", "é\n".encode()][seed]
    if seed == 1:   # one token across the middle of the file
        data = data[:9000] + b"x" * 30_000 + data[9000:]
    if seed == 2:
        data = b"a b\nc"
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    one = scan_corpus_file(str(path))
    monkeypatch.setattr(vocab, "PARALLEL_SCAN_BYTES", 0)
    for workers in (2, 3, 7):
        cuts = _files.whitespace_cuts(str(path), workers)
        assert cuts[0] == 0 and cuts[-1] == len(data) and cuts == sorted(cuts) and len(cuts) == workers + 1
        assert all(c == len(data) or data[c - 1:c] in (b" ", b"\t", b"\r", b"\n") for c in cuts[1:-1])
        for chunk in (1 << 22, 37):
            scan = scan_corpus_file(str(path), chunk_bytes=chunk, workers=workers)
            assert list(scan.counts.items()) == list(one.counts.items()), (workers, chunk)
            assert (scan.total_words, scan.total_sentences, scan.pruned, scan.min_reduce) == \
                (one.total_words, one.total_sentences, one.pruned, one.min_reduce)
    # pruning follows the stream's order: with max_vocab_size the scan stays on one thread
    assert scan_corpus_file(str(path), 50, chunk_bytes=64, workers=3) == scan_corpus_file(str(path), 50, chunk_bytes=64)


def test_scan_corpus_file_warns_once_when_pruning(tmp_path, caplog):
    path = tmp_path / "c.txt"
    path.write_bytes(b" ".join(b"w%d" % i for i in range(300)) + b"\n")
    with caplog.at_level(logging.INFO, logger="cyw2v.vocab"):
        scan = scan_corpus_file(str(path), max_vocab_size=10, chunk_bytes=64)
    assert scan.pruned and sum("exceeded max_vocab_size" in r.message for r in caplog.records) == 1


# ------------------------------------------------------------------ hardening
def test_huge_window_raises_instead_of_overflowing():
    with pytest.raises(ValueError, match="window"):
        Word2Vec([["a", "b", "c", "d"] * 30] * 20, sg=1, window=2 ** 31 - 1, min_count=1, workers=1)
    # a window far beyond the sentences only costs buffers of the sentence's size
    m = Word2Vec([["a", "b", "c", "d"] * 30] * 20, sg=1, window=100_000, min_count=1, workers=1,
                 vector_size=8, epochs=1)
    assert np.isfinite(m.wv.vectors).all()


def test_encode_sentences_does_not_trust_len():
    class Lying(list):
        def __len__(self):
            return 1

    words, ends, raw = _core.encode_sentences([Lying(["a"] * 5000), ["a", "b"], Lying([])],
                                              {"a": 0, "b": 1})
    assert words.tolist() == [0] * 5001 + [1] and ends.tolist() == [5000, 5002, 5002]
    assert raw == 5002


def test_worker_rejects_long_sentences_and_closed_use():
    m = Word2Vec([["a", "b", "c"]] * 10, min_count=1, vector_size=4, epochs=1)
    worker = m._trainer(False).engine.worker(5)
    assert worker.max_sentence == 5
    with pytest.raises(ValueError, match="max_sentence"):
        worker.train_job(np.zeros(6, np.int32), np.array([6], np.int64), 0.01, 0.01, 1)
    kept, _, _ = worker.train_job(np.zeros(5, np.int32), np.array([5], np.int64), 0.01, 0.01, 1)
    worker.close()
    worker.close()
    with pytest.raises(ValueError, match="closed"):
        worker.train_job(np.zeros(5, np.int32), np.array([5], np.int64), 0.01, 0.01, 1)
