"""Using a trained model's output layer, mixed into :class:`~cyw2v.model.Word2Vec`: gensim's
``predict_output_word`` (negative sampling) and ``score`` (hierarchical softmax), in numpy
on the published weights; they never train."""
from __future__ import annotations

import logging
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

logger = logging.getLogger("cyw2v.model")

#: gensim reads log sigmoid(f) from a table of 1000 bins over (-6, 6) and skips a path node
#: whose |f| reaches 6; the same table here gives gensim's scores.
_MAX_EXP, _TABLE_SIZE = 6.0, 1000
_BINS_PER_UNIT = _TABLE_SIZE // int(_MAX_EXP) // 2  # 83: gensim's C integer division, not 83.3
_LOG_SIGMOID = -np.logaddexp(0.0, -((np.arange(_TABLE_SIZE) / _TABLE_SIZE * 2 - 1) * _MAX_EXP))


class Scoring:
    """Output-layer queries of Word2Vec."""

    def predict_output_word(self, context_words_list: Sequence[Union[str, int]],
                            topn: int = 10) -> Optional[List[Tuple[str, float]]]:
        """The ``topn`` words most probable at the centre of these context words (keys or rows),
        by the softmax of syn1neg against their mean (``cbow_mean``) or sum, as gensim; None if
        no context word is known. Needs negative sampling."""
        if not self.negative:
            raise RuntimeError("predict_output_word needs negative sampling (negative > 0)")
        wv = self.wv
        if self.syn1neg.shape[0] != len(wv) or len(wv) == 0:
            raise RuntimeError("the output weights (syn1neg) for predicting words are missing; "
                               "train the model, or load a full model rather than vectors")
        rows = [w if isinstance(w, (int, np.integer)) and 0 <= w < len(wv) else wv.key_to_index.get(w)
                for w in context_words_list]
        rows = [int(r) for r in rows if r is not None]
        if not rows:
            logger.warning("all the input context words are out of the vocabulary")
            return None
        l1 = np.sum(wv.vectors[rows], axis=0)
        if self.cbow_mean:
            l1 /= len(rows)
        logits = np.dot(self.syn1neg, l1)
        prob = np.exp(logits - logits.max())
        prob /= prob.sum()
        top = np.argsort(-prob, kind="stable")[:topn]
        return [(wv.index_to_key[i], float(prob[i])) for i in top]

    def score(self, sentences: Iterable[Iterable[str]], total_sentences: int = int(1e6), chunksize: int = 100,
              queue_factor: int = 2, report_delay: float = 1) -> np.ndarray:
        """Log probability of each sentence under the hierarchical-softmax output layer, as gensim
        computes it (whole windows, no subsampling, unknown words skipped, its log-sigmoid table,
        path nodes with |dot| >= 6 skipped); float32, one per sentence, at most ``total_sentences``.
        ``chunksize``, ``queue_factor`` and ``report_delay`` are gensim's threading knobs (unused)."""
        if not self.hs:
            raise RuntimeError("score is implemented for hierarchical softmax only (hs=1), as in gensim")
        tables = self.vocab.tables
        if tables is None or self.syn1.shape[0] < len(self.wv) - 1:
            raise RuntimeError("the model has no hierarchical-softmax weights to score with")
        index = self.wv.key_to_index
        out: List[float] = []
        for sentence in sentences:
            if len(out) >= total_sentences:
                break
            rows = [index[w] for w in sentence if w in index][:10000]
            out.append(self._score_rows(rows, tables))
        return np.asarray(out, dtype=np.float32)

    def _score_rows(self, rows: List[int], tables) -> float:
        vectors, syn1, window = self.wv.vectors, self.syn1, self.window
        total = 0.0
        for i, word in enumerate(rows):
            lo, hi = tables.hs_offset[word], tables.hs_offset[word + 1]
            if hi == lo:
                continue
            points, signs = tables.hs_point[lo:hi], 1.0 - 2.0 * tables.hs_code[lo:hi].astype(np.float64)
            context = [rows[j] for j in range(max(0, i - window), min(len(rows), i + window + 1)) if j != i]
            if self.sg:
                inputs = vectors[context].astype(np.float64)
            else:  # CBOW; no context scores the zero vector, as gensim does
                inputs = vectors[context].astype(np.float64).sum(axis=0, keepdims=True) if context \
                    else np.zeros((1, vectors.shape[1]))
                if self.cbow_mean and context:
                    inputs /= len(context)
            f = (inputs @ syn1[points].astype(np.float64).T) * signs
            f = f[np.abs(f) < _MAX_EXP]
            total += float(_LOG_SIGMOID[((f + _MAX_EXP) * _BINS_PER_UNIT).astype(np.intp)].sum())
        return total
