"""cyw2v: fast, trustworthy word2vec with typed Cython kernels.

>>> import cyw2v
>>> sorted(n for n in ("Word2Vec", "KeyedVectors", "LineSentence") if hasattr(cyw2v, n))
['KeyedVectors', 'LineSentence', 'Word2Vec']
"""
from . import datasets
from ._version import __version__
from .corpus import LineSentence, PathLineSentences, Text8Corpus
from .keyedvectors import KeyedVectors
from .model import Callback, Word2Vec
from .vocab import RULE_DEFAULT, RULE_DISCARD, RULE_KEEP

__all__ = ["Word2Vec", "KeyedVectors", "LineSentence", "PathLineSentences", "Text8Corpus", "Callback", "datasets",
           "RULE_DEFAULT", "RULE_DISCARD", "RULE_KEEP", "__version__"]
