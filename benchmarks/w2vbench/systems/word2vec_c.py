"""word2vec.c, Google's original C trainer (built by benchmarks/build_word2vec_c.sh)."""
from __future__ import annotations

from typing import Any, Dict, List

from .native import NativeBinarySystem


class Word2vecCSystem(NativeBinarySystem):
    """word2vec.c: all four configurations; no seed option."""

    name = "word2vec-c"
    label = "word2vec.c"
    option = "word2vec_c"
    binary_names = ("word2vec",)
    build_script = "benchmarks/build_word2vec_c.sh"
    notes = ("word2vec.c has no seed and no min_alpha option (its learning rate decays to alpha × 1e-4); "
             "vocab s runs to its first progress report",)

    def command(self, binary: str, params: Dict[str, Any], train_path: str, output_path: str) -> List[str]:
        """word2vec.c's options for ``params`` (-debug 2 prints the progress the timing needs)."""
        p = params
        return [binary, "-train", train_path, "-output", output_path, "-cbow", str(1 - p["sg"]),
                "-size", str(p["vector_size"]), "-window", str(p["window"]), "-negative", str(p["negative"]),
                "-hs", str(p["hs"]), "-sample", repr(float(p["sample"])), "-threads", str(p["workers"]),
                "-binary", "1", "-iter", str(p["epochs"]), "-min-count", str(p["min_count"]),
                "-alpha", repr(float(p["alpha"])), "-debug", "2"]
