"""Issue 17, files: mmap loads verified, declared sizes checked before allocating, every
loader failure a FormatError, and temporary files of killed saves cleaned up."""
import bz2
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from cyw2v import KeyedVectors, Word2Vec
from cyw2v._files import atomic_write, remove_stale_temps
from cyw2v.io import FormatError

KEYS = [f"w{i}" for i in range(40)]


@pytest.fixture
def kv_file(tmp_path):
    path = tmp_path / "v.kv"
    KeyedVectors(KEYS, np.random.default_rng(1).random((40, 8), dtype=np.float32)).save(str(path))
    return path


def member_data_offset(path, name):
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset + 26)
        n, e = struct.unpack("<HH", fh.read(4))
    return info.header_offset + 30 + n + e


def rewrite(src, dst, change):
    """Copy a zip, passing each member's (name, bytes) through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)


# ------------------------------------------------------------------ item 3: mmap verifies
def test_mmap_load_detects_a_flipped_data_byte(kv_file, tmp_path):
    raw = bytearray(kv_file.read_bytes())
    raw[member_data_offset(kv_file, "vectors.npy") + 300] ^= 0x40
    bad = tmp_path / "bad.kv"
    bad.write_bytes(raw)
    for mmap in (None, "r", "c"):
        with pytest.raises(FormatError, match="CRC"):
            KeyedVectors.load(str(bad), mmap=mmap)
    unchecked = KeyedVectors.load(str(bad), mmap="r", verify=False)  # documented opt-out
    assert unchecked.vectors.shape == (40, 8)


def test_verified_mmap_stays_mapped(kv_file):
    kv = KeyedVectors.load(str(kv_file), mmap="r")
    assert not kv.vectors.flags.writeable and not kv.vectors.flags.owndata


def test_mmap_load_checks_the_local_header_name(kv_file, tmp_path):
    raw = bytearray(kv_file.read_bytes())
    with zipfile.ZipFile(kv_file) as zf:
        off = zf.getinfo("vectors.npy").header_offset + 30
    raw[off] = ord("x")
    bad = tmp_path / "bad.kv"
    bad.write_bytes(raw)
    with pytest.raises(FormatError):
        KeyedVectors.load(str(bad), mmap="r", verify=False)


# ------------------------------------------------------------------ item 4: sizes before allocation
def test_binary_header_lying_about_its_size_allocates_nothing(tmp_path):
    path = tmp_path / "lie.bin"
    path.write_bytes(b"100000 100000\n")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
            "from cyw2v import KeyedVectors\nfrom cyw2v.io import FormatError\n"
            f"try:\n    KeyedVectors.load_word2vec_format({str(path)!r}, binary=True)\n"
            "except FormatError as e:\n    print('FormatError', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("FormatError"), out.stdout + out.stderr


def test_compressed_binary_with_a_lying_header_fails_cleanly(tmp_path):
    path = tmp_path / "lie.bin.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"50000000 300\nab " + b"\0" * 1200)
    with pytest.raises(FormatError, match="ends inside vector 1"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)


def test_npy_header_lying_about_its_shape(kv_file, tmp_path):
    def change(name, data):
        if name == "vectors.npy":
            return data.replace(b"(40, 8)", b"(4000000000, 8)")
        if name == "meta.json":
            return data.replace(b"[40, 8]", b"[4000000000, 8]")
        return data
    bad = tmp_path / "bad.kv"
    rewrite(kv_file, bad, change)
    for mmap in (None, "r"):
        with pytest.raises(FormatError, match="header says"):
            KeyedVectors.load(str(bad), mmap=mmap)


def test_zip_bomb_is_refused(kv_file, tmp_path):
    bomb = tmp_path / "bomb.kv"
    with zipfile.ZipFile(kv_file) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("meta.json", zin.read("meta.json"))
        zout.writestr("vectors.npy", b"\0" * (50 << 20))  # 50 MB of zeros: ~50 kB deflated
    with pytest.raises(FormatError, match="zip bomb"):
        KeyedVectors.load(str(bomb))


def test_member_sizes_past_the_end_of_the_file(kv_file, tmp_path):
    raw = kv_file.read_bytes()
    bad = tmp_path / "trunc.kv"
    bad.write_bytes(raw[:len(raw) // 2] + raw[-200:])
    with pytest.raises(FormatError):
        KeyedVectors.load(str(bad), mmap="r")


def test_one_long_line_in_a_gz_text_file_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "long.txt.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(b"1 3\nword")
        for _ in range(64):
            fh.write(b" 1" * (1 << 20))  # a 128 MB line
    with pytest.raises(FormatError, match="longer than"):
        KeyedVectors.load_word2vec_format(str(path))


def test_dimension_cap(tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(b"1 100000000000\n")
    with pytest.raises(FormatError, match="dimension"):
        KeyedVectors.load_word2vec_format(str(path))


# ------------------------------------------------------------------ item 5: FormatError only
@pytest.mark.parametrize("meta_change", [
    lambda d: d.__setitem__("meta", {"index_to_key": 5}),
    lambda d: d["meta"].__setitem__("index_to_key", [1, 2, 3]),
    lambda d: d.__setitem__("arrays", {"vectors": [1, 2]}),
    lambda d: d["arrays"].__setitem__("vectors", {"dtype": "<f4", "shape": "x"}),
])
def test_inconsistent_meta_is_a_format_error(kv_file, tmp_path, meta_change):
    def change(name, data):
        if name == "meta.json":
            doc = json.loads(data)
            meta_change(doc)
            return json.dumps(doc).encode()
        return data
    bad = tmp_path / "bad.kv"
    rewrite(kv_file, bad, change)
    with pytest.raises(FormatError):
        KeyedVectors.load(str(bad))


def test_deeply_nested_meta_is_a_format_error(kv_file, tmp_path):
    bad = tmp_path / "deep.kv"
    rewrite(kv_file, bad, lambda name, data: (b'{"format": "cyw2v", "x": ' + b"[" * 100000 + b"]" * 100000 + b"}")
            if name == "meta.json" else data)
    with pytest.raises(FormatError):
        KeyedVectors.load(str(bad))


def test_unsupported_compression_is_a_format_error(kv_file, tmp_path):
    bad = tmp_path / "lzma.kv"
    with zipfile.ZipFile(kv_file) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_LZMA) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    raw = bytearray(bad.read_bytes())
    # method 14 (LZMA) -> 99 (AES, unsupported) in every header
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := raw.find(sig, start)) >= 0:
            raw[start + off:start + off + 2] = struct.pack("<H", 99)
            start += 4
    bad.write_bytes(raw)
    with pytest.raises(FormatError):
        KeyedVectors.load(str(bad))


def test_non_numeric_npy_dtype_is_refused(kv_file, tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.full((40, 8), "a", dtype="<U4"))
    bad = tmp_path / "u.kv"
    rewrite(kv_file, bad, lambda name, data: buf.getvalue() if name == "vectors.npy" else
            (data.replace(b'"<f4"', b'"<U4"') if name == "meta.json" else data))
    for mmap in (None, "r"):
        with pytest.raises(FormatError, match="numeric"):
            KeyedVectors.load(str(bad), mmap=mmap)


def test_integer_vectors_in_a_native_file_are_refused(kv_file, tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.zeros((40, 8), np.int32))
    bad = tmp_path / "i.kv"
    rewrite(kv_file, bad, lambda name, data: buf.getvalue() if name == "vectors.npy" else
            (data.replace(b'"<f4"', b'"<i4"') if name == "meta.json" else data))
    with pytest.raises(FormatError, match="float"):
        KeyedVectors.load(str(bad))


@pytest.mark.parametrize("suffix,opener", [(".txt.gz", gzip.open), (".txt.bz2", bz2.open)])
def test_truncated_compressed_word2vec_file(tmp_path, suffix, opener):
    path = tmp_path / ("v" + suffix)
    with opener(path, "wb") as fh:
        fh.write(b"3 2\na 1 2\nb 3 4\nc 5 6\n" * 50)
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(FormatError):
        KeyedVectors.load_word2vec_format(str(path))


def test_word2vec_loader_arguments_are_checked_before_reading(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("1 2\na 1 2\n")
    with pytest.raises(TypeError):
        KeyedVectors.load_word2vec_format(str(path), datatype=np.int32)
    with pytest.raises(LookupError):
        KeyedVectors.load_word2vec_format(str(path), unicode_errors="nonsense")


# ------------------------------------------------------------------ item 10: stale temporary files
KILLED_SAVE = """
import os, sys
from cyw2v._files import atomic_write
with atomic_write(sys.argv[1]) as fh:
    fh.write(b"partial")
    fh.flush()
    os._exit(9)   # as a kill -9 would: no cleanup runs
"""


def test_a_killed_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    subprocess.run([sys.executable, "-c", KILLED_SAVE, str(target)], timeout=60)
    left = [n for n in os.listdir(tmp_path) if n != "out.bin"]
    assert len(left) == 1 and ".cyw2v-tmp-" in left[0], left
    assert target.read_bytes() == b"old"                    # nothing lost
    with atomic_write(str(tmp_path / "other.bin")) as fh:  # any save into the folder cleans up
        fh.write(b"new")
    assert sorted(os.listdir(tmp_path)) == ["other.bin", "out.bin"]


def test_cleanup_keeps_live_and_foreign_files(tmp_path):
    mine_live = tmp_path / f".a.cyw2v-tmp-{__import__('cyw2v._files')._files._HOST}-{os.getpid()}-xyz.tmp"
    other_host = tmp_path / ".a.cyw2v-tmp-otherhost-1-xyz.tmp"
    unrelated = tmp_path / ".a.tmp-1-xyz"
    for p in (mine_live, other_host, unrelated):
        p.write_bytes(b"x")
    (tmp_path / f".d.cyw2v-tmp-otherhost-2-dir").mkdir()
    assert remove_stale_temps(str(tmp_path)) == 0
    assert mine_live.exists() and other_host.exists() and unrelated.exists()
    old = 3 * 24 * 3600
    os.utime(other_host, (os.path.getmtime(other_host) - old,) * 2)
    assert remove_stale_temps(str(tmp_path)) == 1 and not other_host.exists()


def test_model_save_after_a_killed_save(tmp_path):
    model = Word2Vec([["a", "b", "c"]] * 10, vector_size=4, min_count=1, workers=1, epochs=1)
    target = tmp_path / "m.cyw2v"
    model.save(str(target))
    subprocess.run([sys.executable, "-c", KILLED_SAVE, str(target)], timeout=60)
    assert len(os.listdir(tmp_path)) == 2
    Word2Vec.load(str(target))
    model.save(str(target))
    assert os.listdir(tmp_path) == ["m.cyw2v"]
