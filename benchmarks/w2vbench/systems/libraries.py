"""cyw2v and gensim: Python libraries with gensim's Word2Vec API, trained in the child itself."""
from __future__ import annotations

import argparse
import importlib.util
import time
from typing import Any, Dict, Optional, Tuple

from ..machine import cpu_seconds, peak_rss_self_mb
from .base import System


class LibrarySystem(System):
    """A library whose ``Word2Vec(...)``, ``build_vocab`` and ``train`` follow gensim 4's API."""

    #: The importable module.
    module: str = ""

    def unavailable_reason(self, args: argparse.Namespace) -> Optional[str]:
        """None when the module can be imported."""
        return None if importlib.util.find_spec(self.module) else f"{self.module} is not installed"

    def model_class(self) -> Tuple[type, str]:
        """(its Word2Vec class, its version)."""
        raise NotImplementedError

    def streaming_corpus(self, path: str, reader: str) -> Any:
        """Its own streaming reader over ``path`` for iterable mode ('text8' or 'line')."""
        raise NotImplementedError

    def extra_params(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Word2Vec parameters beyond the common ones."""
        return {}

    def train(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Build the vocabulary, train (each timed), save the vectors with the library's own writer."""
        cls, version = self.model_class()
        p = spec["params"]
        model = cls(vector_size=p["vector_size"], alpha=p["alpha"], window=p["window"], min_count=p["min_count"],
                    sample=p["sample"], seed=p["seed"], workers=p["workers"], sg=p["sg"], hs=p["hs"],
                    negative=p["negative"], epochs=p["epochs"], **self.extra_params(spec))
        if spec["input_mode"] == "file":
            source = {"corpus_file": spec["plain"]}
        else:
            source = {"corpus_iterable": self.streaming_corpus(spec["corpus"], spec["reader"])}
        t0 = time.perf_counter()
        model.build_vocab(**source)
        t1 = time.perf_counter()
        trained = model.train(**source, total_examples=model.corpus_count,
                              total_words=model.corpus_total_words, epochs=p["epochs"])
        t2 = time.perf_counter()
        rss = peak_rss_self_mb()  # before saving: the writer's buffers are no part of training
        cpu = cpu_seconds("self")
        if spec.get("vectors"):
            model.wv.save_word2vec_format(spec["vectors"], binary=True)
        return {"version": version, "writer": f"{self.name} save_word2vec_format", "vocab_s": t1 - t0,
                "train_s": t2 - t1, "peak_rss_mb": rss, "rss_source": "VmHWM of the training process",
                "cpu_s": cpu, "vocab_size": len(model.wv), "trainer_words": int(model.corpus_total_words),
                "trained_raw_words": int(trained[1])}


class Cyw2vSystem(LibrarySystem):
    """cyw2v itself, with ``--cyw2v-args`` as extra Word2Vec parameters."""

    name = "cyw2v"
    label = "cyw2v"
    module = "cyw2v"

    def child_options(self, args: argparse.Namespace) -> Dict[str, Any]:
        """The ``--cyw2v-args`` parameters."""
        return {"cyw2v_args": args.cyw2v_args}

    def model_class(self) -> Tuple[type, str]:
        """cyw2v.Word2Vec and cyw2v's version."""
        import cyw2v
        return cyw2v.Word2Vec, cyw2v.__version__

    def streaming_corpus(self, path: str, reader: str) -> Any:
        """cyw2v.Text8Corpus or cyw2v.LineSentence."""
        import cyw2v
        return cyw2v.Text8Corpus(path) if reader == "text8" else cyw2v.LineSentence(path)

    def extra_params(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """The ``--cyw2v-args`` parameters."""
        return dict(spec.get("cyw2v_args") or {})


class GensimSystem(LibrarySystem):
    """gensim 4's Word2Vec with its own readers."""

    name = "gensim"
    label = "gensim"
    module = "gensim"

    def model_class(self) -> Tuple[type, str]:
        """gensim.models.Word2Vec and gensim's version."""
        import gensim
        from gensim.models import Word2Vec
        return Word2Vec, gensim.__version__

    def streaming_corpus(self, path: str, reader: str) -> Any:
        """gensim's Text8Corpus or LineSentence."""
        from gensim.models.word2vec import LineSentence, Text8Corpus
        return Text8Corpus(path) if reader == "text8" else LineSentence(path)
