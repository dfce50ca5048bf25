"""pWord2Vec, Intel's shared-memory SG-NS trainer (built by benchmarks/build_pword2vec.sh from
../shared/peers/pWord2Vec; its code is not part of this repository)."""
from __future__ import annotations

from typing import Any, Dict, List

from ..common import BenchError
from .native import NativeBinarySystem


class PWord2VecSystem(NativeBinarySystem):
    """pWord2Vec: skip-gram with negative sampling only, mini-batched with shared negatives.

    Its options (pWord2Vec.cpp ``main``): -train -output -size -window -sample -negative -threads
    -iter -min-count -alpha -debug -binary -save-vocab -read-vocab -batch-size -disk. It has no
    -cbow, -hs, seed or min_alpha option.
    """

    name = "pword2vec"
    label = "pWord2Vec"
    configs = ("sg-ns",)
    option = "pword2vec"
    binary_names = ("pWord2Vec",)
    build_script = "benchmarks/build_pword2vec.sh"
    own_rate_pattern = r"Words/sec: ([0-9.]+)k"
    notes = ("pWord2Vec trains SG-NS only, has no seed option (each thread's random stream starts at its "
             "thread number) and no min_alpha (its learning rate decays to alpha × 1e-4, as in word2vec.c); "
             "it shrinks the window at random like word2vec.c; -batch-size 2 × window + 1 puts all contexts "
             "of a centre word in one mini-batch sharing one draw of negatives (its default 11 at window 5); "
             "each thread loads its share of the corpus into memory before training, which vocab s includes",)

    def command(self, binary: str, params: Dict[str, Any], train_path: str, output_path: str) -> List[str]:
        """pWord2Vec's options for ``params`` (-debug 2 prints the progress the timing needs)."""
        p = params
        if not p["sg"] or p["hs"] or p["negative"] < 1:
            raise BenchError("pWord2Vec trains skip-gram with negative sampling only")
        return [binary, "-train", train_path, "-output", output_path, "-size", str(p["vector_size"]),
                "-window", str(p["window"]), "-negative", str(p["negative"]),
                "-sample", repr(float(p["sample"])), "-threads", str(p["workers"]), "-binary", "1",
                "-iter", str(p["epochs"]), "-min-count", str(p["min_count"]),
                "-alpha", repr(float(p["alpha"])), "-batch-size", str(2 * p["window"] + 1), "-debug", "2"]
