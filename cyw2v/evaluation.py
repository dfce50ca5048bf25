"""Evaluation of word vectors on analogy questions and word-pair similarity judgements,
with gensim 4.4's rules, as methods mixed into :class:`~cyw2v.keyedvectors.KeyedVectors`."""
from __future__ import annotations

import io as _io
import logging
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import _files, datasets
from ._ranking import block_top

logger = logging.getLogger("cyw2v.keyedvectors")

#: Analogy questions whose top candidates lie closer than this are re-scored with the exact
#: single-query arithmetic, so a batched product's last-bit rounding can never flip a decision.
_TIE_MARGIN = 1e-5


class Evaluation:
    """Evaluation methods of KeyedVectors (they use its rows, norms and score blocks)."""

    def _ok_vocab(self, restrict_vocab: Optional[int], case_insensitive: bool) -> Dict[str, int]:
        """Key (upper-cased if asked) -> row among the first ``restrict_vocab`` keys; with case
        folding the first (most frequent) variant wins."""
        ok: Dict[str, int] = {}
        for i, k in enumerate(self.index_to_key[:restrict_vocab]):
            ok.setdefault(k.upper() if case_insensitive else k, i)
        return ok

    def evaluate_word_analogies(self, path: str, restrict_vocab: int = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar"
                                ) -> Tuple[float, List[Dict[str, Any]]]:
        """Accuracy on an analogy file (": section" lines, then "a b c d" lines), answering
        each question by 3CosAdd over the first ``restrict_vocab`` keys, like gensim 4.4.
        ``similarity_function='most_similar_cosmul'`` answers by 3CosMul instead (gensim 4.4
        accepts the argument and always uses 3CosAdd).

        Questions with a word outside those keys are skipped (or counted wrong with
        ``dummy4unknown``). Returns (total accuracy, sections), each section a dict with
        'section', 'correct' and 'incorrect' (lists of 4-tuples), the last 'Total accuracy'.
        """
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        limit = self._limit(restrict_vocab) if len(self) else 0
        sections: List[Dict[str, Any]] = []
        # (section number, question, row in ``asked`` or -1 for a dummy OOV miss), in file order
        items: List[Tuple[int, Tuple[str, ...], int]] = []
        asked: List[Tuple[str, ...]] = []
        n_questions = oov = 0
        for line_no, line in enumerate(_read_lines(path)):
            if line.startswith(": "):
                sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
                continue
            if not sections:
                raise ValueError(f"missing section header before line #{line_no} in {path}")
            words = line.split()
            if len(words) != 4:
                logger.info("skipping invalid line #%d in %s", line_no, path)
                continue
            quad = tuple(w.upper() for w in words) if case_insensitive else tuple(words)
            n_questions += 1
            if any(w not in ok_vocab for w in quad):
                oov += 1
                if dummy4unknown:
                    items.append((len(sections) - 1, quad, -1))
                continue
            items.append((len(sections) - 1, quad, len(asked)))
            asked.append(quad)
        if similarity_function == "most_similar":
            verdicts = self._answer_analogies(asked, ok_vocab, limit, case_insensitive)
        elif similarity_function == "most_similar_cosmul":
            verdicts = self._answer_analogies_cosmul(asked, ok_vocab, limit, case_insensitive)
        else:
            raise ValueError(f"similarity_function must be 'most_similar' or 'most_similar_cosmul', "
                             f"got {similarity_function!r}")
        for sec, quad, row in items:
            right = row >= 0 and verdicts[row]
            sections[sec]["correct" if right else "incorrect"].append(quad)
        for sec in sections:
            _log_section(sec)
        total = {"section": "Total accuracy",
                 "correct": [q for s in sections for q in s["correct"]],
                 "incorrect": [q for s in sections for q in s["incorrect"]]}
        if n_questions:
            logger.info("quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / n_questions)
        score = _log_section(total)
        sections.append(total)
        return score, sections

    def _answer_analogies(self, quads: List[Tuple[str, ...]], ok_vocab: Dict[str, int],
                          limit: int, case_insensitive: bool) -> List[bool]:
        """Whether 3CosAdd answers each question right, as gensim decides it: of the 5 best
        candidates other than the three inputs, the first whose folded form is not a question
        word is the answer."""
        if not quads:
            return []
        idx = np.array([[ok_vocab[w] for w in q] for q in quads], dtype=np.intp)
        folded = [k.upper() for k in self.index_to_key[:limit]] if case_insensitive else self.index_to_key
        normed = self._vectors[:limit] / self._safe_norms()[:limit, None]
        # gensim's mean: unit(b) + unit(c) - unit(a) accumulated in the vectors' dtype, / 3 in
        # float64, unit-normalised, cast to float32.
        means = ((normed[idx[:, 1]] + normed[idx[:, 2]]) - normed[idx[:, 0]]).astype(np.float64) / 3.0
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = np.divide(means, norms, out=means, where=norms > 0).astype(np.float32)
        verdicts: List[bool] = []
        top = 6  # the 5 candidates gensim looks at, plus the next one to check the last gap
        for start, scores in self._score_blocks(means, limit):
            rows = np.arange(scores.shape[0])
            block_idx = idx[start:start + scores.shape[0]]
            if limit > top + 3:
                scores[rows[:, None], block_idx[:, :3]] = -np.inf  # inputs are never answers
                tops = block_top(scores, top)
            for row in rows:
                a, b, c, expected = quads[start + row]
                cands = None
                if limit > top + 3 and tops[row] is not None:
                    cands, vals = tops[row]
                    chosen = _first_answer(cands[:5], folded, (a, b, c))
                    # The batched product may round differently from gensim's one-query product in
                    # the last bits: trust it only if every gap down to the answer is clear.
                    if not min(vals[j] - vals[j + 1] for j in range(chosen + 1)) >= _TIE_MARGIN:
                        cands = None
                if cands is None:
                    inputs = set(block_idx[row, :3].tolist())
                    best = self._exact_analogy_candidates(block_idx[row], limit, 8)
                    cands = [i for i in best.tolist() if i not in inputs][:5]
                    chosen = _first_answer(cands, folded, (a, b, c))
                predicted = folded[cands[chosen]] if cands else None
                verdicts.append(predicted == expected)
        return verdicts

    def _answer_analogies_cosmul(self, quads: List[Tuple[str, ...]], ok_vocab: Dict[str, int],
                                 limit: int, case_insensitive: bool) -> List[bool]:
        """Whether 3CosMul answers each question right (gensim's candidate rule, one query each)."""
        folded = [k.upper() for k in self.index_to_key[:limit]] if case_insensitive else self.index_to_key
        verdicts = []
        for a, b, c, expected in quads:
            keys = [self.index_to_key[ok_vocab[w]] for w in (a, b, c)]
            sims = self.most_similar_cosmul(positive=keys[1:], negative=keys[:1], topn=5, restrict_vocab=limit)
            cands = [self.key_to_index[k] for k, _ in sims]
            verdicts.append(bool(cands) and folded[cands[_first_answer(cands, folded, (a, b, c))]] == expected)
        return verdicts

    def evaluate_word_pairs(self, path: str, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False
                            ) -> Tuple[Tuple[float, float], Tuple[float, float], float]:
        """Correlation of cosine similarity with human scores in a "word1<delim>word2<delim>score"
        file ('#' lines are comments), like gensim 4.4.

        Returns ((pearson r, p), (spearman rho, p), percentage of pairs with an unknown word);
        such pairs are skipped, or scored 0 with ``dummy4unknown``.
        """
        from scipy import stats

        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        gold: List[float] = []
        model: List[float] = []
        oov = 0
        for line_no, line in enumerate(_read_lines(path)):
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter)
            if case_insensitive:
                parts = [p.upper() for p in parts]
            try:
                a, b, sim = parts
                sim = float(sim)
            except (ValueError, TypeError):
                logger.info("skipping invalid line #%d in %s", line_no, path)
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(sim)
                    model.append(0.0)
                continue
            gold.append(sim)
            model.append(float(self._similarity32(ok_vocab[a], ok_vocab[b])))
        if not gold:
            raise ValueError(f"no valid similarity judgements found in {path}: "
                             "wrong format, or every pair is out of vocabulary")
        spearman = stats.spearmanr(gold, model)
        pearson = stats.pearsonr(gold, model)
        oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
        logger.info("%s: Pearson %.4f, Spearman %.4f, %.1f%% pairs with unknown words",
                    path, pearson[0], spearman[0], oov_ratio)
        return ((float(pearson[0]), float(pearson[1])), (float(spearman[0]), float(spearman[1])),
                float(oov_ratio))

    def evaluate_standard(self, restrict_vocab: int = 30000) -> Dict[str, float]:
        """Google analogies accuracy and WordSim-353 / SimLex-999 correlations on the packaged
        sets, all restricted to the first ``restrict_vocab`` keys."""
        analogy, _ = self.evaluate_word_analogies(datasets.analogies_path(), restrict_vocab=restrict_vocab)
        out: Dict[str, float] = {"analogy": float(analogy)}
        for name, path in (("ws353", datasets.wordsim353_path()), ("simlex", datasets.simlex999_path())):
            try:
                pearson, spearman, oov_ratio = self.evaluate_word_pairs(path, restrict_vocab=restrict_vocab)
            except ValueError:  # every pair out of vocabulary
                pearson, spearman, oov_ratio = (float("nan"), float("nan")), (float("nan"), float("nan")), 100.0
            out[f"{name}_pearson"] = pearson[0]
            out[f"{name}_spearman"] = spearman[0]
            out[f"{name}_oov"] = oov_ratio
        return out


def _first_answer(cands: List[int], folded: Sequence[str], question: Tuple[str, ...]) -> int:
    """Position of the first candidate whose folded key is not a question word (else the last)."""
    for pos, i in enumerate(cands):
        if folded[i] not in question:
            return pos
    return len(cands) - 1


def _log_section(section: Dict[str, Any]) -> float:
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%d/%d)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def _read_lines(path: str) -> Iterable[str]:
    """Decoded lines of a (possibly .gz/.bz2) UTF-8 text file, universal newlines."""
    with _files.open_read(path) as fh:
        text = _io.TextIOWrapper(fh, encoding="utf-8")
        yield from text
