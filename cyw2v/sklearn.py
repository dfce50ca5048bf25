"""scikit-learn integration (needs ``pip install 'cyw2v[sklearn]'``).

:class:`Word2VecTransformer` learns word vectors from the documents given to ``fit`` and
turns each document into the mean (optionally TF-IDF weighted) of its words' vectors, so
it can feed any scikit-learn classifier or regressor in a ``Pipeline``.

>>> from cyw2v.sklearn import Word2VecTransformer
>>> docs = ["the cat sat on the mat", "the dog sat on the log"] * 20
>>> X = Word2VecTransformer(vector_size=8, min_count=1, epochs=1, workers=1).fit_transform(docs)
>>> X.shape, X.dtype.name
((40, 8), 'float32')
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable, List, Sequence, Union

import numpy as np

try:
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("cyw2v.sklearn needs scikit-learn: pip install 'cyw2v[sklearn]'") from exc

from .model import Word2Vec
from .params import PARAM_DEFAULTS, bind, described, signature

Document = Union[str, Sequence[str]]

__all__ = ["Word2VecTransformer"]


class Word2VecTransformer(TransformerMixin, BaseEstimator):
    """Documents -> document vectors via word2vec trained on the ``fit`` documents.

    Documents are strings (lower-cased if ``lowercase``, then split by ``tokenizer`` or
    on whitespace) or lists of tokens (lower-cased if ``lowercase``; ``tokenizer`` unused).
    A document's vector is the mean of the vectors of its in-vocabulary words, each
    occurrence counted, weighted by the word's inverse document frequency when ``tfidf``
    (smooth idf, ``ln((1 + n) / (1 + df)) + 1``, learned in ``fit``); all zeros when
    no word is known.

    Word2vec parameters: every parameter of :data:`cyw2v.params.PARAMETERS`, with
    :class:`cyw2v.Word2Vec`'s meaning and defaults. Results are reproducible for a fixed
    ``seed`` only with ``workers=1``.

    Fitted attributes: ``model_`` (the Word2Vec), ``vocabulary_`` (word -> row of
    ``model_.wv.vectors``), ``idf_`` (per vocabulary row; ones unless ``tfidf``),
    ``n_documents_`` (documents seen in ``fit``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # scikit-learn's convention: store the arguments unchanged; fit validates them
        for name, value in bind(_SIGNATURE, "Word2VecTransformer", (self, *args), kwargs).items():
            if name != "self":
                setattr(self, name, value)

    # ------------------------------------------------------------------ tokenising
    def _tokenize(self, X: Iterable[Document]) -> List[List[str]]:
        if isinstance(X, (str, bytes)):
            raise ValueError("X must be a sequence of documents (strings or token lists), not one string")
        if isinstance(X, np.ndarray) and X.ndim != 1:
            raise ValueError(f"X must be a 1-D sequence of documents, got an array of shape {X.shape}")
        docs: List[List[str]] = []
        for i, doc in enumerate(X):
            if isinstance(doc, bytes):
                doc = doc.decode("utf-8")
            if isinstance(doc, str):
                text = doc.lower() if self.lowercase else doc
                tokens = list(self.tokenizer(text)) if self.tokenizer is not None else text.split()
            elif isinstance(doc, (list, tuple, np.ndarray)):
                tokens = [str(t) for t in doc]
                if self.lowercase:
                    tokens = [t.lower() for t in tokens]
            else:
                raise ValueError(f"document {i} must be a string or a list of tokens, got {type(doc).__name__}")
            docs.append(tokens)
        return docs

    # ------------------------------------------------------------------ fit / transform
    def fit(self, X: Iterable[Document], y: Any = None) -> "Word2VecTransformer":
        """Train word2vec on the documents ``X`` (``y`` is ignored); returns self."""
        docs = self._tokenize(X)
        if not docs:
            raise ValueError("cannot fit on an empty collection of documents")
        if not any(docs):
            raise ValueError("the documents contain no tokens")
        model = Word2Vec(**{name: getattr(self, name) for name in PARAM_DEFAULTS})
        model.fit([d for d in docs if d])
        vocabulary = dict(model.wv.key_to_index)
        idf = np.ones(len(vocabulary), dtype=np.float64)
        if self.tfidf:
            df = Counter(w for d in docs for w in set(d) if w in vocabulary)
            n = len(docs)
            for w, c in df.items():
                idf[vocabulary[w]] = math.log((1.0 + n) / (1.0 + c)) + 1.0
        self.model_ = model
        self.vocabulary_ = vocabulary
        self.idf_ = idf
        self.n_documents_ = len(docs)
        return self

    def transform(self, X: Iterable[Document]) -> np.ndarray:
        """Document vectors, shape (n_documents, vector_size), float32."""
        check_is_fitted(self, "model_")
        docs = self._tokenize(X)
        vectors = self.model_.wv.vectors
        out = np.zeros((len(docs), vectors.shape[1]), dtype=np.float32)
        vocabulary = self.vocabulary_
        for row, tokens in enumerate(docs):
            idx = np.fromiter((vocabulary[t] for t in tokens if t in vocabulary), dtype=np.int64)
            if idx.size == 0:
                continue
            weights = self.idf_[idx]
            out[row] = (weights @ vectors[idx].astype(np.float64)) / weights.sum()
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names ``word2vec0`` ... ``word2vec{vector_size-1}``."""
        check_is_fitted(self, "model_")
        return np.asarray([f"word2vec{i}" for i in range(self.model_.vector_size)], dtype=object)

    # ------------------------------------------------------------------ estimator tags
    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        tags.non_deterministic = True
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"X_types": ["string"], "non_deterministic": True, "requires_fit": True}


_SIGNATURE = signature(trailing=[("tokenizer", None, "Optional[Callable[[str], List[str]]]"),
                                 ("lowercase", True, "bool"), ("tfidf", False, "bool")])
Word2VecTransformer.__init__ = described(Word2VecTransformer.__init__, _SIGNATURE)
