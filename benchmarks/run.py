#!/usr/bin/env python
"""Side-by-side speed and quality benchmark: cyw2v against gensim, word2vec.c and pWord2Vec.

The entry point of the harness in ``benchmarks/w2vbench`` (see its ``__init__`` for the modules).
Every training run happens in a fresh subprocess (this script with ``--_child``), which times
the vocabulary build and the training separately and reports its own peak RSS. The parent
scores every run's saved vectors with cyw2v's evaluator (analogy accuracy, WS-353 and SimLex-999
Spearman) and writes Markdown and JSON tables. See BENCHMARKS.md for the columns.

Examples::

    python benchmarks/run.py --corpus demo --epochs 1 --repeat 1          # quick, 1.7M words
    python benchmarks/run.py --corpus ../shared/data/enwiki-text8like.gz --repeat 3 \\
        --markdown BENCHMARKS.md --scaling                                # the standard table
"""
import os
import sys

# benchmarks/ is no package: put it on the path so that w2vbench imports from any cwd, also
# when this file is loaded by path (tests) rather than run.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from w2vbench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
