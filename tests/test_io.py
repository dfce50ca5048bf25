"""Persistence: the native pickle-free format and word2vec.c's text/binary formats."""
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cyw2v
from cyw2v import KeyedVectors, Word2Vec
from cyw2v import io as cio
from cyw2v._formats import write_container
from cyw2v.io import FormatError

CORPUS = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "ate", "the", "bone"],
          ["a", "cat", "and", "a", "dog"], ["köln", "straße", "café", "the", "cat"]] * 40


def small_kv(n=6, d=4, seed=0) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    words = ["the", "köln", "naïve", "日本", "x_y", "Z"][:n] + [f"w{i}" for i in range(max(0, n - 6))]
    return KeyedVectors(words, rng.standard_normal((n, d)).astype(np.float32),
                        np.arange(n, 0, -1, dtype=np.int64) * 10)


def binary_bytes(words, vectors, newline=True, header=None):
    """word2vec.c's binary layout, built byte by byte."""
    n, d = len(words), len(vectors[0])
    out = (header if header is not None else f"{n} {d}\n").encode()
    for w, v in zip(words, vectors):
        out += w.encode("utf-8") + b" " + struct.pack(f"<{d}f", *v) + (b"\n" if newline else b"")
    return out


@pytest.fixture
def model():
    return Word2Vec(CORPUS, vector_size=12, min_count=1, workers=1, epochs=2, seed=7, hs=1, negative=3)


# --- word2vec.c format: fixtures built by hand ----------------------------------------------
@pytest.mark.parametrize("newline", [True, False])
def test_read_handmade_binary(tmp_path, newline):
    vecs = [[1.0, 2.0, -3.5], [0.25, np.inf, -0.0], [np.nan, 1e-30, 7.0]]
    path = tmp_path / "v.bin"
    path.write_bytes(binary_bytes(["alpha", "béta", "γ"], vecs, newline=newline))
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert kv.index_to_key == ["alpha", "béta", "γ"]
    np.testing.assert_array_equal(kv.vectors, np.array(vecs, dtype=np.float32))
    assert kv.vectors.dtype == np.float32 and kv.counts is None


def test_write_binary_is_byte_identical_to_word2vec_c(tmp_path):
    kv = small_kv()
    path = tmp_path / "out.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert path.read_bytes() == binary_bytes(kv.index_to_key, kv.vectors.tolist())


def test_read_handmade_text(tmp_path):
    # word2vec.c prints "%lf " per value (trailing space); CRLF and NaN/inf must also be read
    text = b"3 2\nhello 0.500000 -1.250000 \r\nw\xc3\xb6rld 1e-3 2\nnan_row nan -inf\n"
    path = tmp_path / "v.txt"
    path.write_bytes(text)
    kv = KeyedVectors.load_word2vec_format(str(path))
    assert kv.index_to_key == ["hello", "wörld", "nan_row"]
    np.testing.assert_array_equal(kv.vectors[:2], np.array([[0.5, -1.25], [1e-3, 2.0]], dtype=np.float32))
    assert np.isnan(kv.vectors[2, 0]) and kv.vectors[2, 1] == -np.inf


def test_write_text_format(tmp_path):
    kv = KeyedVectors(["a", "b"], np.array([[0.1, -2.0], [3e-5, 1.0]], dtype=np.float32))
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(str(path))
    lines = path.read_bytes().split(b"\n")
    assert lines[0] == b"2 2" and lines[1].startswith(b"a ") and lines[-1] == b""
    kv.save_word2vec_format(str(path), write_header=False)
    assert path.read_bytes().startswith(b"a 0.100000001 -2\n")
    back = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
@pytest.mark.parametrize("binary", [True, False])
def test_round_trip_ours(tmp_path, suffix, binary):
    kv = small_kv(40, 7)
    path = str(tmp_path / f"v{suffix}")
    kv.save_word2vec_format(path, binary=binary)
    if suffix == ".gz":
        assert Path(path).read_bytes()[:2] == b"\x1f\x8b"
    if suffix == ".bz2":
        assert Path(path).read_bytes()[:3] == b"BZh"
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)  # text is lossless too (9 digits)
    part = KeyedVectors.load_word2vec_format(path, binary=binary, limit=5, datatype=np.float64)
    assert part.index_to_key == kv.index_to_key[:5] and part.vectors.dtype == np.float64
    np.testing.assert_array_equal(part.vectors, kv.vectors[:5])


def test_surrogate_escaped_keys_round_trip_bytes(tmp_path):
    raw = b"caf\xe9"  # Latin-1 bytes, as a corpus read with surrogateescape yields them
    kv = KeyedVectors([raw.decode("utf-8", "surrogateescape"), "ok"], np.eye(2, dtype=np.float32))
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert raw + b" " in path.read_bytes()
    with pytest.raises(FormatError, match="UTF-8"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    back = KeyedVectors.load_word2vec_format(str(path), binary=True, unicode_errors="surrogateescape")
    assert back.index_to_key == kv.index_to_key
    replaced = KeyedVectors.load_word2vec_format(str(path), binary=True, unicode_errors="replace")
    assert replaced.index_to_key[0] == "caf\ufffd"


def test_unstorable_keys_are_refused(tmp_path):
    kv = KeyedVectors(["two words"], np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="two words"):
        kv.save_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_repeated_words_keep_first(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(binary_bytes(["a", "b", "a"], [[1.0], [2.0], [3.0]]))
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert kv.index_to_key == ["a", "b"] and kv.vectors[:, 0].tolist() == [1.0, 2.0]


# --- interop with gensim ----------------------------------------------------------------
@pytest.mark.parametrize("binary", [True, False])
def test_ours_to_gensim_and_back(tmp_path, binary):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    kv = small_kv(30, 5)
    ours = str(tmp_path / "ours.w2v")
    kv.save_word2vec_format(ours, binary=binary)
    g = gensim_kv.KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)
    theirs = str(tmp_path / "theirs.w2v")
    g.save_word2vec_format(theirs, binary=binary)
    back = KeyedVectors.load_word2vec_format(theirs, binary=binary)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)


def test_gensim_no_header_text(tmp_path):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    g = gensim_kv.KeyedVectors(3)
    g.add_vectors(["x", "y"], np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    path = str(tmp_path / "glove.txt.gz")
    g.save_word2vec_format(path, write_header=False)
    kv = KeyedVectors.load_word2vec_format(path, no_header=True)
    assert kv.index_to_key == ["x", "y"] and kv.vectors.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert KeyedVectors.load_word2vec_format(path, no_header=True, limit=1).index_to_key == ["x"]


# --- word2vec.c format: damaged files ------------------------------------------------------
GOOD = binary_bytes(["aa", "bb", "cc"], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


@pytest.mark.parametrize("data, pattern", [
    (GOOD[:-5], r"ends inside vector 2 of the 3 .*byte offset 28"),       # cut inside the last vector
    (GOOD[:-13], r"ends inside vector 2"),                                 # cut inside the last word
    (b"", r"empty or truncated"),
    (b"3 2", r"truncated before the end of the header"),
    (binary_bytes(["aa", "bb"], [[1.0, 2.0], [3.0, 4.0]], header="3 2\n"), r"ends inside vector 2"),  # too few
    (GOOD + b"dd " + struct.pack("<2f", 7, 8), r"data after the 3 vectors .*byte offset 40"),  # too many
    (binary_bytes(["aa", "bb", "cc"], [[1.0, 2.0, 0.5]] * 3, header="3 2\n"), r"(UTF-8|NUL|data after|ends)"),
    (b"3 x\n", r"line 1: expected a header"),
    (b"\x00\x01\x02\n", r"line 1: expected a header"),
    (b"1 1\na\xffb " + struct.pack("<f", 1.0) + b"\n", r"invalid UTF-8 in word 0 at byte offset 5"),
])
def test_corrupt_binary(tmp_path, data, pattern):
    path = tmp_path / "bad.bin"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=pattern) as err:
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert str(path) in str(err.value)


def test_binary_limit_allows_partial_read(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(GOOD[:-5])  # truncated, but the first two vectors are intact
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True, limit=2)
    assert kv.index_to_key == ["aa", "bb"]


@pytest.mark.parametrize("data, pattern", [
    (b"3 2\na 1 2\nb 3 4\n", r"ends after 2 vectors .*declares 3"),         # too few rows
    (b"2 2\na 1 2\nb 3 4\nc 5 6\n", r"line 4: more vectors than the 2"),   # too many rows
    (b"2 2\na 1 2\nb 3 4 5\n", r"line 3: 3 values, expected 2"),           # wrong dimension
    (b"2 2\na 1 2\nb 3\n", r"line 3: 1 values, expected 2"),
    (b"2 2\na 1 2\nb 3 x4\n", r"line 3: value 2 is not a number: b'x4'"),  # non-numeric
    (b"2 2\na 1 2\n\nb 3 4\n", r"line 3: blank line"),
    (b"2 2\na 1 2\nb\n", r"line 3: 0 values"),
    (b"", r"empty file"),
    (b"hello 1 2\n", r"line 1: expected a header .*no_header=True"),
    (b"1 2\n\xff\xfe 1 2\n", r"line 2: invalid UTF-8"),
])
def test_corrupt_text(tmp_path, data, pattern):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=pattern) as err:
        KeyedVectors.load_word2vec_format(str(path))
    assert str(path) in str(err.value)


def test_text_trailing_blank_lines_and_limit(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 1 2\nb 3 4\n\n\n")
    assert len(KeyedVectors.load_word2vec_format(str(path))) == 2
    path.write_bytes(b"3 2\na 1 2\nb 3 4\nc oops\n")
    assert KeyedVectors.load_word2vec_format(str(path), limit=2).index_to_key == ["a", "b"]


def test_corrupt_compressed_stream(tmp_path):
    kv = small_kv()
    path = tmp_path / "v.txt.gz"
    kv.save_word2vec_format(str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="v.txt.gz"):
        KeyedVectors.load_word2vec_format(str(path))
    path = tmp_path / "v.bin.bz2"
    path.write_bytes(b"BZh9 definitely not bzip2")
    with pytest.raises(FormatError):
        KeyedVectors.load_word2vec_format(str(path), binary=True)


def test_bad_arguments(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(GOOD)
    with pytest.raises(ValueError, match="no_header"):
        KeyedVectors.load_word2vec_format(str(path), binary=True, no_header=True)
    with pytest.raises(ValueError, match="limit"):
        KeyedVectors.load_word2vec_format(str(path), binary=True, limit=-1)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(str(tmp_path / "missing.bin"), binary=True)


def test_binary_load_is_vectorised(tmp_path):
    """200k x 50 binary in well under the time a per-float Python parser would need."""
    import time
    n, d = 200_000, 50
    kv = KeyedVectors([f"w{i}" for i in range(n)], np.random.default_rng(0).random((n, d), dtype=np.float32))
    path = str(tmp_path / "big.bin")
    kv.save_word2vec_format(path, binary=True)
    t0 = time.perf_counter()
    back = KeyedVectors.load_word2vec_format(path, binary=True)
    assert time.perf_counter() - t0 < 5
    np.testing.assert_array_equal(back.vectors, kv.vectors)


# --- native format --------------------------------------------------------------------------
def assert_same_model(a, b):
    assert a.get_params() == b.get_params()
    assert a.wv.index_to_key == b.wv.index_to_key
    for name in ("syn1neg", "syn1", "syn1softmax"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.wv.counts, b.wv.counts)
    assert (a.epochs_trained, a.corpus_count, a.corpus_total_words) == \
        (b.epochs_trained, b.corpus_count, b.corpus_total_words)


def test_model_round_trip(tmp_path, model):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    loaded = Word2Vec.load(path)
    assert_same_model(model, loaded)
    assert loaded.wv.vectors.flags.writeable
    assert cio.load_model(path).wv.most_similar("cat", topn=3) == model.wv.most_similar("cat", topn=3)
    assert sorted(os.listdir(tmp_path)) == ["m.cyw2v"]


def test_model_mmap_and_resume(tmp_path, model):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    mapped = Word2Vec.load(path, mmap="r")
    assert isinstance(mapped.wv.vectors.base, np.memmap) or isinstance(mapped.wv.vectors, np.memmap)
    assert not mapped.wv.vectors.flags.writeable
    assert mapped.wv.vectors.ctypes.data % 64 == 0  # data aligned inside the file
    assert_same_model(model, mapped)
    for m in (mapped, Word2Vec.load(path)):
        before = np.array(m.wv.vectors)
        m.train(CORPUS, total_examples=len(CORPUS), epochs=1)
        assert m.epochs_trained == model.epochs_trained + 1
        assert not np.array_equal(before, m.wv.vectors)
    assert_same_model(model, Word2Vec.load(path))  # training the mapped model left the file alone
    with pytest.raises(ValueError, match="mmap"):
        Word2Vec.load(path, mmap="r+")


def test_keyedvectors_round_trip(tmp_path):
    kv = small_kv(20, 3)
    path = str(tmp_path / "kv.cyw2v")
    kv.save(path)
    back = KeyedVectors.load(path)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    np.testing.assert_array_equal(back.counts, kv.counts)
    mapped = KeyedVectors.load(path, mmap="r")
    np.testing.assert_array_equal(mapped.vectors, kv.vectors)
    assert mapped.most_similar("the", topn=2) == kv.most_similar("the", topn=2)
    no_counts = KeyedVectors(["a", "b"], np.eye(2, dtype=np.float64))
    no_counts.save(path)
    back = KeyedVectors.load(path)
    assert back.counts is None and back.vectors.dtype == np.float64


def test_native_file_is_plain_npz(tmp_path, model):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["vectors"], model.wv.vectors)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    assert meta["format"] == "cyw2v" and meta["format_version"] == 1 and meta["kind"] == "model"


def test_kind_is_checked(tmp_path, model):
    mpath, kpath = str(tmp_path / "m.cyw2v"), str(tmp_path / "k.cyw2v")
    model.save(mpath)
    model.wv.save(kpath)
    with pytest.raises(FormatError, match="Word2Vec.load"):
        KeyedVectors.load(mpath)
    with pytest.raises(FormatError, match="KeyedVectors.load"):
        Word2Vec.load(kpath)


def rewrite_meta(path, change):
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    meta = json.loads(members["meta.json"])
    change(meta)
    members["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_newer_format_is_refused(tmp_path, model):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    rewrite_meta(path, lambda m: m.update(format_version=2))
    with pytest.raises(FormatError, match=r"written by a newer cyw2v \(format 2\); upgrade"):
        Word2Vec.load(path)


@pytest.mark.parametrize("change, pattern", [
    (lambda m: m.update(format="other"), "not a cyw2v file"),
    (lambda m: m.update(format_version="1"), "invalid format_version"),
    (lambda m: m["arrays"]["vectors"].update(shape=[1, 1]), "meta.json says"),
    (lambda m: m["meta"].update(index_to_key=["just-one"]), "inconsistent contents"),
    (lambda m: m["arrays"].update(ghost={"dtype": "<f4", "shape": [1]}), "ghost.npy .* missing"),
])
def test_inconsistent_native_files(tmp_path, model, change, pattern):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    rewrite_meta(path, change)
    with pytest.raises(FormatError, match=pattern):
        Word2Vec.load(path)


def test_truncated_and_corrupt_native_files(tmp_path, model):
    path = tmp_path / "m.cyw2v"
    model.save(str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="truncated/corrupt"):
        Word2Vec.load(str(path))
    path.write_bytes(b"")
    with pytest.raises(FormatError):
        Word2Vec.load(str(path))
    path.write_bytes(b"\x80\x04\x95 a pickle, say")
    with pytest.raises(FormatError, match="pickle"):
        Word2Vec.load(str(path))
    # flip one byte inside the vectors' data: the CRC check catches it on a normal load
    flipped = bytearray(data)
    flipped[data.index(model.wv.vectors.tobytes()) + 5] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(FormatError, match="vectors.npy"):
        Word2Vec.load(str(path))


def io_bytes(data):
    import io
    return io.BytesIO(data)


def test_object_arrays_are_refused(tmp_path, model):
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    buf = io_bytes(b"")
    np.lib.format.write_array(buf, np.array([None, "x"], dtype=object), allow_pickle=True)
    members["counts.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    for mmap in (None, "r"):
        with pytest.raises(FormatError, match="counts.npy"):
            Word2Vec.load(path, mmap=mmap)
    with pytest.raises(TypeError, match="object"):
        write_container(str(tmp_path / "x"), "model", "X", {}, {"bad": np.array([None], dtype=object)})


def test_atomic_save_keeps_old_file(tmp_path, model, monkeypatch):
    path = tmp_path / "m.cyw2v"
    model.save(str(path))
    old = path.read_bytes()
    real_write = np.lib.format.write_array
    calls = []

    def failing_write(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # fail after two arrays are already in the new file
            fp.write(b"partial")
            raise OSError("disk full")
        return real_write(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    model.train(CORPUS, total_examples=len(CORPUS), epochs=1)
    with pytest.raises(OSError, match="disk full"):
        model.save(str(path))
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["m.cyw2v"]  # the temporary file is gone
    monkeypatch.setattr(np.lib.format, "write_array", real_write)
    model.save(str(path))
    assert path.read_bytes() != old


def test_atomic_word2vec_save_keeps_old_file(tmp_path, monkeypatch):
    kv = small_kv()
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    old = path.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error")))
    with pytest.raises(OSError):
        small_kv(seed=1).save_word2vec_format(str(path), binary=True)
    assert path.read_bytes() == old and sorted(os.listdir(tmp_path)) == ["v.bin"]


def test_saved_file_mode_follows_umask(tmp_path):
    path = tmp_path / "kv.cyw2v"
    small_kv().save(str(path))
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_no_pickle_anywhere_in_package():
    root = Path(cyw2v.__file__).parent
    sources = list(root.glob("*.py")) + list(root.glob("*.pyx"))
    assert sources
    for src in sources:
        text = src.read_text(encoding="utf-8")
        if src.name != "_gensim_pickle.py":  # gensim's restricted reader (issue 18; tests/test_gensim_pickle.py)
            assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve)\b", text, re.M), src
        assert "allow_pickle=True" not in text, src
        for call in re.findall(r"np\.load\([^)]*\)", text):
            assert "allow_pickle=False" in call, (src, call)
        for call in re.findall(r"read_array\([^)]*\)", text):
            assert "allow_pickle=False" in call, (src, call)
