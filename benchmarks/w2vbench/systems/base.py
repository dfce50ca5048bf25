"""The adapter interface: what the harness needs to know about one trained system."""
from __future__ import annotations

import argparse
from typing import Any, ClassVar, Dict, Optional, Tuple

from ..common import CONFIGS, config_label


class System:
    """One trained system: how the parent checks for it, and how a child process trains with it.

    The parent calls :meth:`unavailable_reason` once, then :meth:`child_options` for every run's
    spec; the child, in a fresh process, calls :meth:`train` on a new instance with that spec.
    """

    #: The ``--systems`` key and the label of the table rows.
    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: The configurations (keys of CONFIGS) it can train.
    configs: ClassVar[Tuple[str, ...]] = tuple(CONFIGS)
    #: True when it always reads the harness's plain corpus copy, whatever ``--input-mode`` says.
    reads_plain_copy: ClassVar[bool] = False
    #: True when its vector file starts with the sentence marker ``</s>`` (dropped before scoring).
    writes_sentence_marker: ClassVar[bool] = False
    #: Notes for the tables: how its settings differ from the common ones.
    notes: ClassVar[Tuple[str, ...]] = ()

    def supports(self, config: str) -> bool:
        """Whether it can train ``config``."""
        return config in self.configs

    def unsupported_note(self) -> str:
        """Why a configuration it does not support is not run, for the log and the tables."""
        return f"{self.label} trains {', '.join(config_label(c) for c in self.configs)} only"

    def unavailable_reason(self, args: argparse.Namespace) -> Optional[str]:
        """None when it can run with these options, else a one-line reason to skip it."""
        return None

    def child_options(self, args: argparse.Namespace) -> Dict[str, Any]:
        """What a child needs in its spec beyond the common fields (e.g. a binary's path)."""
        return {}

    def train(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Train in this (child) process as ``spec`` says and save the vectors to ``spec['vectors']``
        when set; return version, vocab_s, train_s, peak_rss_mb, rss_source, cpu_s, vocab_size,
        trainer_words and, where the trainer counts them, trained_raw_words."""
        raise NotImplementedError
