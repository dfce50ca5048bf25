"""Scoring saved vectors with cyw2v's own evaluator, the same for every system."""
from __future__ import annotations

from typing import Any, Dict, Optional

#: How the tables name the evaluator.
EVALUATOR_LABEL = "cyw2v `KeyedVectors.evaluate_standard`"
#: The sentence marker word2vec.c and pWord2Vec store as their first vocabulary entry.
SENTENCE_MARKER = "</s>"


def load_vectors(path: str, drop_sentence_marker: bool = False) -> Any:
    """The word2vec binary file ``path`` as a cyw2v KeyedVectors.

    ``drop_sentence_marker`` removes a leading ``</s>``: it is no word, and left in it would take
    one of the ``restrict_vocab`` slots of the evaluation.
    """
    import cyw2v
    # 'replace': the C trainers cut words at a byte limit, which can split a UTF-8 character.
    kv = cyw2v.KeyedVectors.load_word2vec_format(path, binary=True, unicode_errors="replace")
    if drop_sentence_marker and kv.index_to_key[:1] == [SENTENCE_MARKER]:
        kv = cyw2v.KeyedVectors(kv.index_to_key[1:], kv.vectors[1:])
    return kv


def _score(value: Any) -> Optional[float]:
    """A score of evaluate_standard's result as a float; None when missing."""
    return None if value is None else float(value)


def evaluate_file(path: str, restrict_vocab: int, drop_sentence_marker: bool = False) -> Dict[str, Any]:
    """Analogy accuracy (top ``restrict_vocab`` words), WS-353 and SimLex-999 Spearman of the vectors
    in ``path``, by ``cyw2v.KeyedVectors.evaluate_standard``."""
    res = load_vectors(path, drop_sentence_marker).evaluate_standard(restrict_vocab=restrict_vocab)
    return {"analogy": _score(res.get("analogy")), "ws353": _score(res.get("ws353_spearman")),
            "simlex": _score(res.get("simlex_spearman")), "evaluator": "cyw2v",
            "eval_raw": {k: v for k, v in res.items() if isinstance(v, (int, float, str, bool))}}
