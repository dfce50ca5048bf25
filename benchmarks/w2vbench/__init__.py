"""The benchmark harness behind ``benchmarks/run.py``: cyw2v against gensim, word2vec.c and pWord2Vec.

Modules, one concern each:

- :mod:`.common`: configurations, paths, the harness's error and log line.
- :mod:`.corpora`: corpus files (counting words, the plain copy, resolving ``--corpus``).
- :mod:`.machine`: the machine description and resource measures (peak RSS, CPU seconds).
- :mod:`.systems`: one adapter per trained system and the registry of them.
- :mod:`.runner`: one fresh subprocess per training run (parent and child side).
- :mod:`.evaluation`: scoring saved vectors with cyw2v's own evaluator.
- :mod:`.stats`: medians and ratios.
- :mod:`.report`: the Markdown tables and ``results.json``.
- :mod:`.cli`: the options and the main flow, scaling included.
"""
