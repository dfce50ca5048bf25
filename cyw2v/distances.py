"""Document and relative distances, mixed into :class:`~cyw2v.keyedvectors.KeyedVectors`:
Word Mover's Distance (through the optional POT library, as gensim) and gensim's relative
cosine similarity."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Sequence

import numpy as np

logger = logging.getLogger("cyw2v.keyedvectors")


class Distances:
    """Distance methods of KeyedVectors (they use its rows and neighbour queries)."""

    def wmdistance(self, document1: Sequence[str], document2: Sequence[str], norm: bool = True) -> float:
        """Word Mover's Distance (Kusner et al. 2015) between two token lists, as gensim 4.4
        computes it: Euclidean distances of the (unit-normed if ``norm``) word vectors,
        normalised bag-of-words weights, solved exactly by POT's ``emd2``
        (``pip install 'cyw2v[wmd]'``). Unknown tokens are dropped; ``inf`` if a document is
        left empty or every distance is zero, 0.0 if both hold one and the same word."""
        try:
            from ot import emd2
        except ImportError:
            raise ImportError("wmdistance needs the POT library: pip install 'cyw2v[wmd]'") from None
        from scipy.spatial.distance import cdist

        doc1 = [t for t in document1 if t in self]
        doc2 = [t for t in document2 if t in self]
        if len(doc1) < len(document1) or len(doc2) < len(document2):
            logger.info("removed %d and %d unknown words from document 1 and 2",
                        len(document1) - len(doc1), len(document2) - len(doc2))
        if not doc1 or not doc2:
            logger.warning("at least one of the documents had no words that were in the vocabulary")
            return float("inf")
        words = sorted(set(doc1) | set(doc2))
        if len(words) == 1:
            return 0.0
        column = {w: i for i, w in enumerate(words)}
        distance = np.zeros((len(words), len(words)), dtype=np.float64)
        u1, u2 = sorted(set(doc1)), sorted(set(doc2))
        v1 = np.array([self.get_vector(t, norm=norm) for t in u1])
        v2 = np.array([self.get_vector(t, norm=norm) for t in u2])
        distance[np.ix_([column[t] for t in u1], [column[t] for t in u2])] = cdist(v1, v2)
        if abs(distance.sum()) < 1e-8:  # emd gets stuck on an all-zero cost matrix
            logger.info("the distance matrix is all zeros; returning inf")
            return float("inf")

        def nbow(doc: Sequence[str]) -> np.ndarray:
            weights = np.zeros(len(words), dtype=np.float64)
            for word, freq in Counter(doc).items():
                weights[column[word]] = freq / len(doc)
            return weights

        return float(emd2(nbow(doc1), nbow(doc2), distance))

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """similarity(wa, wb) divided by the summed similarities of wa's ``topn`` nearest keys
        (Leeuwenberg et al. 2016)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("cannot calculate relative cosine similarity without any similar words")
        return float(self.similarity(wa, wb)) / sum(sim for _, sim in sims)
