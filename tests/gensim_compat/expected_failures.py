"""The tests of gensim 4.4's own suite that are expected to fail against cyw2v: each one a
deliberate, documented difference (docs/API.md, "Differences from gensim").

Keys are ``file::Class::test``; values say why. An unexpected failure, or an expected one
that passes, fails ``test_gensim_suite.py``.
"""
EXPECTED_FAILURES = {
    "test_word2vec.py::TestWord2VecModel::test_build_vocab_warning":
        "a sentence that is a str raises TypeError (gensim logs a warning and trains on its characters)",
    "test_word2vec.py::TestWord2VecModel::test_train_with_explicit_param":
        "train() defaults epochs to model.epochs (gensim requires it); total_examples/total_words are required "
        "for an iterable corpus as in gensim",
}
