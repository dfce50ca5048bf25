"""What DaskWord2Vec trains on: a bag of token lists, a dataframe text column or plain-text
files, as shards for the replicas; and the vocabulary as a tree reduction over partitions.

Per-partition counting goes through :func:`count_sentences` and :func:`count_file_range`
alone, so a C counter replaces them in one line each.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from ..training import check_corpus_file
from ..vocab import CorpusScan, _prune_rare, check_sentence, scan_corpus

#: Fan-in of the vocabulary's tree reduction.
SPLIT_EVERY = 8
#: File pieces of at most this many bytes are counted by one task.
COUNT_PIECE_BYTES = 1 << 25
_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_SPACE_RE = re.compile(b"[" + re.escape(_SPACE) + b"]")
_SEPARATORS_TO_SPACE = bytes.maketrans(b"\x1c\x1d\x1e\x1f", b"    ")

#: A byte range of a file: (path, start, end)
Segment = Tuple[str, int, int]


# ----------------------------------------------------------------------------- counting
def count_sentences(sentences: Sequence[Sequence[str]], max_vocab_size: Optional[int]) -> CorpusScan:
    """Counts of one bag partition."""
    return scan_corpus(sentences, max_vocab_size, progress_per=1 << 62)


def count_file_range(segment: Segment, max_vocab_size: Optional[int]) -> CorpusScan:
    """Counts of the tokens whose first byte lies in [start, end) of a plain-text file (the
    engine's reader's rule, so the ranges of a file count every token once)."""
    path, start, end = segment
    with open(path, "rb") as f:
        skip = False
        if start > 0:
            f.seek(start - 1)
            before = f.read(1)
            skip = bool(before) and before[0] not in _SPACE
        data = f.read(end - start)
        if skip:  # the token straddling `start` belongs to the previous range
            m = _SPACE_RE.search(data)
            data = data[m.start():] if m else b""
        lines = data.count(b"\n")
        while data and data[-1] not in _SPACE:  # finish the token straddling `end`
            more = f.read(1 << 16)
            m = _SPACE_RE.search(more)
            data += more[:m.start()] if m else more
            if m or not more:
                break
        at_end = not f.read(1) and not data.endswith(b"\n")
    tokens = data.translate(_SEPARATORS_TO_SPACE).split()
    counts = Counter(t.decode("utf-8", "surrogateescape") for t in tokens)
    scan = CorpusScan(dict(counts), len(tokens), lines + int(at_end and bool(tokens)))
    return merge_scans([scan], max_vocab_size)


def merge_scans(scans: Sequence[CorpusScan], max_vocab_size: Optional[int]) -> CorpusScan:
    """One scan of several (counts added); over ``max_vocab_size`` words, the rare ones are
    pruned as word2vec.c's ReduceVocab does while counting."""
    counts: Counter = Counter()
    for scan in scans:
        counts.update(scan.counts)
    min_reduce = max(scan.min_reduce for scan in scans)
    pruned = any(scan.pruned for scan in scans)
    while max_vocab_size is not None and len(counts) > max_vocab_size:
        _prune_rare(counts, min_reduce, max_vocab_size, pruned)
        pruned = True
        min_reduce += 1
    return CorpusScan(dict(counts), sum(s.total_words for s in scans), sum(s.total_sentences for s in scans),
                      pruned, min_reduce)


def _tree_reduce(bag: Any, leaf: Callable[..., CorpusScan], max_vocab_size: Optional[int]) -> Any:
    """A delayed CorpusScan of the bag: ``leaf`` per partition, merged SPLIT_EVERY at a time."""
    return bag.reduction(lambda part: leaf(part, max_vocab_size), lambda scans: merge_scans(list(scans),
                                                                                            max_vocab_size),
                         split_every=SPLIT_EVERY, name="cyw2v-vocab")


# ----------------------------------------------------------------------------- sources
@dataclass
class BagSource:
    """A dask.bag of token lists (a dataframe column arrives here tokenised)."""
    bag: Any
    kind: str = "bag"

    def count(self, client: Any, max_vocab_size: Optional[int]) -> CorpusScan:
        # persisted first: the counting and the replicas read the same partitions, made once
        self.bag = client.persist(self.bag)
        return client.compute(_tree_reduce(self.bag, _count_partition, max_vocab_size)).result()

    def shards(self, client: Any, replicas: int) -> List[List[Any]]:
        """Per replica: futures of its contiguous run of partitions."""
        from distributed import futures_of
        bag = self.bag if self.bag.npartitions >= replicas else self.bag.repartition(replicas)
        parts = futures_of(client.persist(bag))
        n = len(parts)
        return [parts[n * k // replicas:n * (k + 1) // replicas] for k in range(replicas)]


def _count_partition(part: Any, max_vocab_size: Optional[int]) -> CorpusScan:
    return count_sentences(list(part), max_vocab_size)


@dataclass
class FileSource:
    """Plain-text files every worker can read at the same paths (the fast path)."""
    paths: List[str]
    sizes: List[int]
    kind: str = "files"

    def pieces(self, size: int) -> List[Segment]:
        out: List[Segment] = []
        for path, n in zip(self.paths, self.sizes):
            k = max(1, -(-n // size))
            out += [(path, n * i // k, n * (i + 1) // k) for i in range(k)]
        return out

    def count(self, client: Any, max_vocab_size: Optional[int]) -> CorpusScan:
        import dask.bag as db
        pieces = self.pieces(COUNT_PIECE_BYTES)
        bag = db.from_sequence(pieces, npartitions=len(pieces))
        return client.compute(_tree_reduce(bag, _count_segments, max_vocab_size)).result()

    def shards(self, client: Any, replicas: int) -> List[List[Segment]]:
        """Per replica: an equal share of the files' bytes, in order."""
        total = sum(self.sizes)
        cuts = [total * k // replicas for k in range(replicas + 1)]
        return [_segments(self.paths, self.sizes, cuts[k], cuts[k + 1]) for k in range(replicas)]


def _count_segments(segments: Any, max_vocab_size: Optional[int]) -> CorpusScan:
    return merge_scans([count_file_range(s, max_vocab_size) for s in segments] or [CorpusScan({}, 0, 0)],
                       max_vocab_size)


def _segments(paths: Sequence[str], sizes: Sequence[int], a: int, b: int) -> List[Segment]:
    """Bytes [a, b) of the files' concatenation as per-file segments."""
    out: List[Segment] = []
    offset = 0
    for path, n in zip(paths, sizes):
        lo, hi = max(a, offset), min(b, offset + n)
        if lo < hi:
            out.append((path, lo - offset, hi - offset))
        offset += n
    return out


def source_of(corpus: Any, column: Optional[str], tokenizer: Optional[Callable[[str], List[str]]],
              client: Any) -> Any:
    """The source for a bag, a dataframe/series, or plain-text path(s); TypeError/ValueError
    naming the problem for anything else."""
    import dask.bag as db
    if isinstance(corpus, db.Bag):
        if column is not None or tokenizer is not None:
            raise TypeError("column and tokenizer apply to a dask dataframe, not to a bag of token lists")
        return BagSource(corpus.map_partitions(_checked_partition))
    if type(corpus).__module__.startswith("dask.dataframe") or type(corpus).__module__.startswith("dask_expr"):
        return BagSource(_dataframe_bag(corpus, column, tokenizer or str.split))
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(p, (str, os.PathLike)) for p in corpus):
        paths = [os.fspath(p) for p in corpus]
        sizes = _check_paths(client, paths)
        return FileSource(paths, sizes)
    raise TypeError("DaskWord2Vec.fit needs a dask.bag of token lists, a dask dataframe (or series) of text, "
                    f"or a list of plain-text file paths; got {type(corpus).__name__}")


def _checked_partition(part: Any) -> list:
    part = list(part)
    for sentence in part:
        check_sentence(sentence)
    return part


def _dataframe_bag(frame: Any, column: Optional[str], tokenizer: Callable[[str], List[str]]) -> Any:
    import dask.dataframe as dd
    if isinstance(frame, dd.DataFrame):   # one of its columns holds the text
        columns = list(frame.columns)
        if column is None:
            if len(columns) != 1:
                raise ValueError(f"the dataframe has columns {columns}: say which holds the text with column=")
            column = columns[0]
        if column not in columns:
            raise ValueError(f"column {column!r} is not in the dataframe (columns: {columns})")
        frame = frame[column]
    elif column is not None:
        raise TypeError("column= applies to a dataframe, not to a series")
    return frame.to_bag().map(lambda text: tokenizer(text) if isinstance(text, str) else [])


def _check_paths(client: Any, paths: List[str]) -> List[int]:
    """File sizes, after every worker has confirmed it can read every path."""
    for path in paths:
        if path.endswith((".gz", ".bz2")):
            check_corpus_file(path)   # raises the compressed-file error
    reports = client.run(_readable, paths)
    sizes: Optional[List[int]] = None
    for worker, (found, problem) in sorted(reports.items()):
        if problem:
            raise FileNotFoundError(f"worker {worker} cannot read {problem}: every worker must see the "
                                    "corpus files at the same paths (shared storage)")
        if sizes is not None and found != sizes:
            raise ValueError(f"the corpus files differ in size between workers (worker {worker})")
        sizes = found
    return sizes or []


def _readable(paths: List[str]) -> Tuple[List[int], Optional[str]]:
    sizes = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                f.read(1)
            sizes.append(os.path.getsize(path))
        except OSError as exc:
            return sizes, f"{path} ({exc.strerror or exc})"
        if not os.path.isfile(path):
            return sizes, f"{path} (not a regular file)"
    return sizes, None


def shard_words(shard: Sequence[Sequence[str]]) -> np.ndarray:
    """Cumulative raw words after each sentence of a bag shard."""
    return np.cumsum(np.fromiter((len(s) for s in shard), dtype=np.int64, count=len(shard)))
