"""Ranking arithmetic shared by the queries and the evaluation: gensim's unit vectors, a
partial sort and the top-k of every row of a score block."""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np


def unitvec(vec: np.ndarray) -> np.ndarray:
    """vec / ||vec|| computed like gensim (float64 BLAS nrm2 and scal on a float64 copy, then
    cast back to the input's float dtype); a zero or NaN norm leaves the vector unchanged."""
    from scipy.linalg.blas import dnrm2, dscal

    vec = np.asarray(vec)
    out_dtype = vec.dtype if vec.dtype.kind == "f" else np.dtype(np.float64)
    work = np.array(vec, dtype=np.float64)  # a copy: dscal scales in place
    if work.size == 0:
        return work.astype(out_dtype)
    veclen = dnrm2(work)
    if veclen > 0.0:
        return dscal(1.0 / veclen, work).astype(out_dtype)
    return work.astype(out_dtype)


def argsort_desc(x: np.ndarray, topn: int) -> np.ndarray:
    """Indices of the ``topn`` largest values, largest first (partial sort; NaN sorts last)."""
    if topn <= 0:
        return np.zeros(0, dtype=np.intp)
    neg = -x
    if topn >= x.size:
        return np.argsort(neg)[:topn]
    top = np.argpartition(neg, topn)[:topn]
    return top.take(np.argsort(neg.take(top)))


GROUP = 64  # columns per group in block_top; score blocks are padded to a multiple of it


def block_top(scores: np.ndarray, top: int) -> List[Optional[Tuple[List[int], List[float]]]]:
    """Per row of ``scores`` (width a multiple of ``GROUP``): (columns of the ``top`` largest
    values, largest first; those values), or None where NaNs leave too few candidates.

    Cheaper than a partial sort of every row: the ``top``-th largest group maximum bounds the
    ``top``-th largest value from below, so only the few groups reaching it are searched.
    """
    n_rows, n_cols = scores.shape
    n_groups = n_cols // GROUP
    if n_groups < 4 * top:  # too few groups for the bound to pay off: plain partial sort
        part = np.argpartition(scores, n_cols - top, axis=1)[:, n_cols - top:]
        vals = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        part, vals = np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)
        return [(part[r].tolist(), vals[r].tolist()) if not np.isnan(vals[r]).any() else None
                for r in range(n_rows)]
    # Group j holds columns j, j + n_groups, j + 2 n_groups, ...: the group maxima are then an
    # elementwise maximum of GROUP contiguous slices, which vectorises well.
    grouped = scores.reshape(n_rows, GROUP, n_groups)
    gmax = np.fmax.reduce(grouped, axis=1)  # fmax: a NaN does not hide the rest of its group
    bound = np.partition(gmax, n_groups - top, axis=1)[:, n_groups - top]
    g_row, g_col = np.nonzero(gmax >= bound[:, None])  # row-major: rows come out in order
    members = grouped[g_row, :, g_col]  # (hit groups, GROUP)
    hit, offset = np.nonzero(members >= bound[g_row, None])
    rows = g_row[hit]
    cols = offset * n_groups + g_col[hit]
    vals = members[hit, offset]
    ends = np.cumsum(np.bincount(rows, minlength=n_rows))
    out: List[Optional[Tuple[List[int], List[float]]]] = []
    begin = 0
    for row in range(n_rows):
        end = int(ends[row])
        if end - begin < top:
            out.append(None)
        else:
            v = vals[begin:end]
            order = np.argsort(-v, kind="stable")[:top]
            out.append((cols[begin:end][order].tolist(), v[order].tolist()))
        begin = end
    return out
