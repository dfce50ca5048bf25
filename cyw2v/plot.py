"""2-D maps of word vectors (needs matplotlib: ``pip install 'cyw2v[plot]'``).

>>> import numpy as np
>>> from cyw2v.plot import project
>>> project(np.eye(3, dtype=np.float32)).shape
(3, 2)
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .keyedvectors import KeyedVectors

METHODS = ("pca", "tsne")


class MissingDependency(ImportError):
    """An optional dependency needed for this call is not installed."""


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Project rows of ``vectors`` to 2-D: ``"pca"`` (numpy SVD) or ``"tsne"`` (scikit-learn).

    Returns a float64 array of shape (n, 2); PCA axes are signed so that the largest
    absolute coordinate of each axis is positive (deterministic output).
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got shape {x.shape}")
    n = x.shape[0]
    if method == "pca":
        out = np.zeros((n, 2))
        if n < 2:
            return out
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        k = min(2, vt.shape[0])
        coords = centred @ vt[:k].T
        for j in range(k):
            if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
                coords[:, j] = -coords[:, j]
        out[:, :k] = coords
        return out
    if method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise MissingDependency("--method tsne needs scikit-learn: pip install 'cyw2v[sklearn]'") from None
        if n < 3:
            return project(x, "pca")
        perplexity = float(min(30.0, max(1.0, (n - 1) / 3.0)))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return np.asarray(tsne.fit_transform(x), dtype=np.float64)
    raise ValueError(f"unknown projection method {method!r}; choose from {', '.join(METHODS)}")


def neighbourhoods(kv: KeyedVectors, words: Sequence[str], neighbours: int = 5
                   ) -> Tuple[List[str], List[int]]:
    """The chosen words followed by their nearest neighbours (each word once), and for each
    listed word the index of the chosen word it belongs to. Raises KeyError for unknown words."""
    listed: List[str] = []
    group: List[int] = []
    for w in words:
        kv.get_index(w)
    for g, w in enumerate(words):
        if w not in listed:
            listed.append(w)
            group.append(g)
    for g, w in enumerate(words):
        if neighbours > 0:
            for n, _ in kv.most_similar(positive=[w], topn=neighbours):
                if n not in listed:
                    listed.append(n)
                    group.append(g)
    return listed, group


def plot_words(kv: KeyedVectors, words: Sequence[str], path: str, neighbours: int = 5,
               method: str = "pca", title: Optional[str] = None, seed: int = 0) -> List[str]:
    """Draw the chosen ``words`` and their ``neighbours`` nearest neighbours in 2-D and save
    the picture to ``path`` (format from its suffix, e.g. .png, .svg, .pdf) with the Agg
    renderer; pyplot and the global backend are not touched. Returns the plotted words."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependency("plotting needs matplotlib: pip install 'cyw2v[plot]'") from None
    if not words:
        raise ValueError("give at least one word to plot")
    listed, group = neighbourhoods(kv, words, neighbours)
    xy = project(np.vstack([kv[w] for w in listed]), method=method, seed=seed)
    fig = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colours = [f"C{g % 10}" for g in group]
    is_query = np.array([w in words for w in listed])
    ax.scatter(xy[~is_query, 0], xy[~is_query, 1], c=[c for c, q in zip(colours, is_query) if not q], s=18)
    ax.scatter(xy[is_query, 0], xy[is_query, 1], c=[c for c, q in zip(colours, is_query) if q], s=60,
               marker="D")
    for (x, y), w, q, c in zip(xy, listed, is_query, colours):
        ax.annotate(w, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=10 if q else 8,
                    fontweight="bold" if q else "normal", color=c)
    ax.set_title(title or f"{', '.join(words)} and {neighbours} nearest neighbours ({method.upper()})")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(os.fspath(path))
    return listed
