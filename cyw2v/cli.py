"""The ``cyw2v`` command line: train, query, evaluate, convert, demo and plot word vectors.

Run ``cyw2v --help`` or ``cyw2v COMMAND --help``. Exit codes: 0 success, 1 a runtime error
(missing/corrupt file, unknown word, bad parameter value), 2 bad usage, 130 interrupted.

Vector file formats, chosen by ``--from``/``--to`` or guessed from the file name:
``.txt``/``.vec`` word2vec text, ``.bin`` word2vec binary, ``.cyw2v``/``.npz``/``.kv``/
``.model`` native cyw2v. An existing file with another suffix is recognised from its
content (a word2vec ``"<count> <dim>"`` header, text or binary rows; otherwise native).
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import os
import sys
import time
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, TextIO, Tuple

from . import datasets
from ._files import atomic_path
from ._formats import KindError, storable_key
from ._gensim_pickle import looks_like_pickle
from .cli_files import FORMATS, CLIError, check_readable, check_writable_target, guess_format, load_vectors, \
    one_line, oserror_text, resolve_format, save_vectors, sniff_format, wrap_load
from ._version import __version__
from .corpus import LineSentence, Text8Corpus
from .keyedvectors import KeyedVectors
from .model import Word2Vec
from .params import PARAMETERS, Choice, Flag, Param
from .plot import plot_words


#: The documented functions (docs/API.md, "Command line"); the file helpers live in cli_files.
__all__ = ["main", "build_parser", "train_model", "guess_format", "sniff_format", "resolve_format",
           "load_vectors", "save_vectors", "CLIError", "FORMATS"]

DEMO_WORDS = ("king", "france", "computer")
DEMO_ANALOGIES = (("man", "king", "woman"), ("france", "paris", "germany"))


def format_neighbours(results: Sequence[Tuple[str, float]]) -> str:
    """Rows of ``word  cosine``.

    >>> print(format_neighbours([("queen", 0.71234), ("princess", 0.5)]))
    queen                           0.7123
    princess                        0.5000
    """
    return "\n".join(f"{w:<30} {s:>7.4f}" for w, s in results)


def _nearest(kv: KeyedVectors, positive: List[str], negative: List[str], topn: int) -> List[Tuple[str, float]]:
    """(word, cosine) pairs from ``kv.most_similar`` (a list whenever topn is an int)."""
    return list(kv.most_similar(positive=positive, negative=negative, topn=topn))


def _first(x: Any) -> float:
    """A correlation given as a number or as a (statistic, p-value) pair."""
    if isinstance(x, (tuple, list)):
        x = x[0]
    stat = getattr(x, "statistic", getattr(x, "correlation", x))
    return float(stat)


def _section_counts(section: Any) -> Tuple[str, int, int]:
    """(name, correct, total) from an analogy section (dict with lists or counts)."""
    if isinstance(section, dict):
        name = str(section.get("section", "?"))
        correct, incorrect = section.get("correct", 0), section.get("incorrect", 0)
        c = len(correct) if isinstance(correct, (list, tuple)) else int(correct)
        i = len(incorrect) if isinstance(incorrect, (list, tuple)) else int(incorrect)
        return name, c, c + i
    return str(section), 0, 0


def evaluation_rows(kv: KeyedVectors, analogies: Optional[str], pairs: Sequence[str],
                    restrict_vocab: int) -> List[Tuple[str, str, str]]:
    """(test, score, detail) rows: analogy accuracy, then each pair set's Spearman rho; both
    use only the ``restrict_vocab`` most frequent words."""
    rows: List[Tuple[str, str, str]] = []
    if analogies:
        check_readable(analogies)
        score, sections = wrap_load(analogies, lambda: kv.evaluate_word_analogies(
            analogies, restrict_vocab=restrict_vocab), "an analogy file")
        counted = [_section_counts(s) for s in (sections or [])]
        total = [c for c in counted if c[0].lower().startswith("total")]
        detail = ""
        if total:
            detail = f"{total[0][1]}/{total[0][2]} correct"
        sem = [c for c in counted if not c[0].lower().startswith(("gram", "total"))]
        syn = [c for c in counted if c[0].lower().startswith("gram")]
        rows.append((f"analogy: {os.path.basename(analogies)}", f"{float(score):.4f}", detail))
        for label, group in (("  semantic", sem), ("  syntactic", syn)):
            n = sum(c[2] for c in group)
            if n:
                ok = sum(c[1] for c in group)
                rows.append((label, f"{ok / n:.4f}", f"{ok}/{n} correct"))
    for path in pairs:
        check_readable(path)
        pearson, spearman, oov_pct = wrap_load(path, lambda: kv.evaluate_word_pairs(
            path, restrict_vocab=restrict_vocab), "a usable word-pair file")
        rows.append((f"pairs: {os.path.basename(path)}", f"{_first(spearman):.4f}",
                     f"Spearman; Pearson {_first(pearson):.4f}; {float(oov_pct):.1f}% pairs OOV"))
    return rows


def format_table(rows: Sequence[Tuple[str, str, str]], header: Tuple[str, str, str] = ("test", "score", "")) -> str:
    """A plain-text table.

    >>> print(format_table([("analogy", "0.5000", "5/10 correct")]))
    test      score
    -----------------------------
    analogy  0.5000  5/10 correct
    """
    w0 = max(len(r[0]) for r in [header, *rows])
    lines = [f"{header[0]:<{w0}}  {header[1]:>6}  {header[2]}".rstrip()]
    lines.append("-" * max(len(lines[0]), max(len(f"{r[0]:<{w0}}  {r[1]:>6}  {r[2]}".rstrip()) for r in rows)))
    lines += [f"{r[0]:<{w0}}  {r[1]:>6}  {r[2]}".rstrip() for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- commands
def _training_params(args: argparse.Namespace) -> Dict[str, Any]:
    return {p.name: getattr(args, p.name) for p in PARAMETERS if p.flag is not None}


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """One option per parameter of the table that has a flag, with its doc and default;
    values are checked by the parameter's own constraint (a bad one is a usage error)."""
    for p in PARAMETERS:
        if p.flag is None:
            continue
        computed = p.cli_default is not inspect.Parameter.empty and callable(p.cli_default)
        default = p.default if p.cli_default is inspect.Parameter.empty else p.cli_default
        default = default() if computed else default
        # a computed default is described, not shown: the help must not depend on the machine
        shown = p.cli_default.__doc__ if computed else "none" if default is None else default
        if isinstance(p.constraint, Flag) and not p.default:
            parser.add_argument(p.flag, dest=p.name, action="store_const", const=1, default=0, help=p.doc)
            continue
        metavar = ("{" + ",".join(p.constraint.options) + "}" if isinstance(p.constraint, Choice)
                   else "N" if p.constraint.type is int else "X")
        parser.add_argument(p.flag, dest=p.name, type=_constraint_type(p), default=default,
                            metavar=metavar, help=f"{p.doc} (default {shown})")


def _constraint_type(p: Param) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = p.constraint.type(text) if text.lower() != "none" else None
            return p.constraint.check(p.flag, value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = p.constraint.type.__name__   # argparse names it in "invalid int value"
    return parse


def _use_bar(args: argparse.Namespace) -> bool:
    if args.quiet or args.progress == "log":
        return False
    if args.progress == "bar":
        return True
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return sys.stderr.isatty()


def _configure_logging(args: argparse.Namespace, bar: bool) -> None:
    """Training progress as INFO log lines on stderr unless quiet or a bar is shown;
    evaluation details stay quiet (the table says it)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr, force=True)
    logging.getLogger("cyw2v").setLevel(logging.WARNING if (args.quiet or bar) else logging.INFO)
    logging.getLogger("cyw2v.keyedvectors").setLevel(logging.WARNING)


def train_model(corpus: str, params: Dict[str, Any], progress: bool,
                out: Optional[TextIO] = None, check: Optional[Callable[[Any], None]] = None,
                dask: Optional[str] = None) -> Any:
    """Train a Word2Vec on the file ``corpus`` (plain: ``corpus_file``, fastest; .gz/.bz2:
    streamed with LineSentence) and print a one-line summary to ``out``. ``check(model)``
    runs between the vocabulary and the training (to refuse what could not be saved); with
    ``dask`` (a scheduler address or local:N) a DaskWord2Vec trains on that cluster."""
    check_readable(corpus)
    if dask:
        from .dask.driver import train_on_dask
        return train_on_dask(dask, corpus, params, progress, out or sys.stdout)
    model = Word2Vec(progress=progress, **params)
    t0 = time.perf_counter()
    if corpus.endswith((".gz", ".bz2")):
        sentences = LineSentence(corpus)
        model.build_vocab(sentences)
        if check is not None:
            check(model)
        t1 = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                    epochs=model.epochs, progress=progress)
    else:
        model.build_vocab(corpus_file=corpus)
        if check is not None:
            check(model)
        t1 = time.perf_counter()
        model.train(corpus_file=corpus, total_words=model.corpus_total_words, epochs=model.epochs,
                    progress=progress)
    t2 = time.perf_counter()
    words = model.corpus_total_words * model.epochs
    print(f"trained {'skip-gram' if model.sg else 'CBOW'} on {model.corpus_total_words:,} words x "
          f"{model.epochs} epochs in {t2 - t1:.1f}s ({words / max(t2 - t1, 1e-9):,.0f} words/s; "
          f"vocabulary {len(model.wv):,} words, scanned in {t1 - t0:.1f}s)", file=out or sys.stdout, flush=True)
    return model


def cmd_train(args: argparse.Namespace) -> int:
    if not args.output and not args.save_model:
        raise CLIError("nothing to write: give -o VECTORS and/or --save-model MODEL")
    fmt = "binary" if args.binary else (args.to or (guess_format(args.output) if args.output else None)
                                        or "text")
    for target in (args.output, args.save_model):
        if target:
            check_writable_target(target)
    bar = _use_bar(args)
    _configure_logging(args, bar)
    model = train_model(args.corpus, _training_params(args), bar,
                        check=_storable_vocabulary(fmt) if args.output else None, dask=args.dask)
    if args.output:
        save_vectors(model.wv, args.output, fmt)
        print(f"wrote {args.output} ({len(model.wv):,} x {model.vector_size}, {fmt})")
    if args.save_model:
        model.save(args.save_model)
        print(f"wrote {args.save_model} (native model; resume with Word2Vec.load)")
    return 0


def _storable_vocabulary(fmt: str) -> Callable[[Any], None]:
    """A check that every word of a model's vocabulary can be written in ``fmt``, made before
    training so that nothing is trained for an output that would be refused."""
    def check(model: Any) -> None:
        if fmt == "native":
            return
        bad = [w for w in model.wv.index_to_key if not storable_key(w)]
        if bad:
            raise CLIError(f"{len(bad)} words of the corpus cannot be written in word2vec {fmt} format "
                           f"(e.g. {bad[0]!r}: empty, or with whitespace or a NUL byte); clean the corpus, "
                           "or write a native file (--to native); nothing was trained")
    return check


def _query_loop(prompt: str, handle: Callable[[List[str]], None], stdin: TextIO = sys.stdin) -> int:
    """word2vec.c-style interactive loop: read a line, answer it; EOF or an empty line ends."""
    while True:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = stdin.readline()
        if not line or not line.strip():
            if not line:
                sys.stderr.write("\n")
            return 0
        try:
            handle(line.split())
        except KeyError as exc:
            print(one_line(exc), flush=True)
        sys.stdout.flush()


def cmd_similar(args: argparse.Namespace) -> int:
    kv = load_vectors(args.vectors, args.format, args.limit)

    def answer(words: List[str]) -> None:
        print(format_neighbours(_nearest(kv, words, [], args.topn)))

    if args.words:
        answer(args.words)
        return 0
    print(f"{args.vectors}: {len(kv):,} words x {kv.vector_size}", file=sys.stderr)
    return _query_loop("Enter word or sentence (EOF or empty line to exit): ", answer)


def cmd_analogy(args: argparse.Namespace) -> int:
    kv = load_vectors(args.vectors, args.format, args.limit)

    def answer(words: List[str]) -> None:
        if len(words) != 3:
            print(f"an analogy needs three words A B C (A is to B as C is to ?), got {len(words)}")
            return
        a, b, c = words
        print(format_neighbours(_nearest(kv, [b, c], [a], args.topn)))

    if args.words:
        if len(args.words) != 3:
            raise _UsageError(f"analogy needs three words A B C, got {len(args.words)}")
        answer(args.words)
        return 0
    print(f"{args.vectors}: {len(kv):,} words x {kv.vector_size}", file=sys.stderr)
    return _query_loop("Enter three words A B C (EOF or empty line to exit): ", answer)


def _default_pairs() -> List[str]:
    return [datasets.wordsim353_path(), datasets.simlex999_path()]


def cmd_eval(args: argparse.Namespace) -> int:
    kv = load_vectors(args.vectors, args.format)
    analogies = None if args.no_analogies else (args.analogies or datasets.analogies_path())
    pairs = args.pairs if args.pairs is not None else _default_pairs()
    rows = evaluation_rows(kv, analogies, pairs, args.restrict_vocab)
    if not rows:
        raise CLIError("nothing to evaluate: give --analogies and/or --pairs")
    print(format_table(rows))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    src_fmt = resolve_format(args.input, args.from_, must_exist=True)
    dst_fmt = resolve_format(args.output, args.to, must_exist=False)
    check_writable_target(args.output)
    if src_fmt == dst_fmt == "native" and args.limit is None and looks_like_pickle(args.input):
        # a gensim model becomes a native model (training can continue); gensim vectors fall through
        try:
            model = Word2Vec.load(args.input)
        except KindError:
            pass
        except (ValueError, OSError) as exc:
            raise CLIError(f"{args.input}: not a readable gensim model ({one_line(exc)})") from None
        else:
            model.save(args.output)
            print(f"wrote {args.output} (model, {len(model.wv):,} x {model.vector_size}, gensim -> native)")
            return 0
    kv = load_vectors(args.input, src_fmt, args.limit)
    save_vectors(kv, args.output, dst_fmt)
    print(f"wrote {args.output} ({len(kv):,} x {kv.vector_size}, {src_fmt} -> {dst_fmt})")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    bar = _use_bar(args)
    _configure_logging(args, bar)
    path = datasets.demo_corpus_path()
    print(f"corpus: {path} (Wikipedia, CC BY-SA 3.0)")
    print(f"training skip-gram, negative sampling: vector_size={args.dim}, epochs={args.epochs}, "
          f"workers={args.workers}", flush=True)
    corpus = Text8Corpus(path)
    model = Word2Vec(vector_size=args.dim, sg=1, negative=5, window=5, epochs=args.epochs,
                     workers=args.workers, seed=args.seed, progress=bar)
    t0 = time.perf_counter()
    model.build_vocab(corpus)
    t1 = time.perf_counter()
    model.train(corpus, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                epochs=model.epochs, progress=bar)
    t2 = time.perf_counter()
    words = model.corpus_total_words * model.epochs
    print(f"vocabulary: {len(model.wv):,} words from {model.corpus_total_words:,} ({t1 - t0:.1f}s)")
    print(f"training: {words:,} words in {t2 - t1:.1f}s = {words / max(t2 - t1, 1e-9):,.0f} words/s")
    kv = model.wv
    for word in DEMO_WORDS:
        if word in kv:
            near = ", ".join(f"{w} {s:.2f}" for w, s in _nearest(kv, [word], [], 6))
            print(f"\nnearest to {word!r}: {near}")
    print()
    for a, b, c in DEMO_ANALOGIES:
        if all(w in kv for w in (a, b, c)):
            guess = ", ".join(f"{w} {s:.2f}" for w, s in _nearest(kv, [b, c], [a], 3))
            print(f"{a} : {b} :: {c} : ?  ->  {guess}")
    print()
    print(format_table(evaluation_rows(kv, datasets.analogies_path(), _default_pairs(), args.restrict_vocab)))
    print(f"\ntotal time {time.perf_counter() - t0:.1f}s")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    check_writable_target(args.output)
    kv = load_vectors(args.vectors, args.format, args.limit)
    # matplotlib writes by name, not atomically; the temporary name keeps the suffix it reads
    with atomic_path(args.output, suffix=os.path.splitext(args.output)[1]) as tmp:
        listed = plot_words(kv, args.words, tmp, neighbours=args.neighbours, method=args.method)
    print(f"wrote {args.output} ({len(listed)} words, {args.method.upper()})")
    return 0


# ----------------------------------------------------------------------------- parser
class _UsageError(Exception):
    """Bad usage found after parsing: exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with short errors: the usage line and one error line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(2, f"{usage}\n{self.prog}: error: {' '.join(message.split())}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_vector_input(p: argparse.ArgumentParser, limit: bool = True) -> None:
    p.add_argument("vectors", metavar="VECTORS", help="word2vec text/binary or native cyw2v file")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="format of VECTORS (default: from the suffix, else detected)")
    p.add_argument("--binary", dest="format", action="store_const", const="binary",
                   help="VECTORS is word2vec binary (same as --format binary)")
    if limit:
        p.add_argument("--limit", type=_positive_int, default=None,
                       help="read only the first N vectors of a word2vec file")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all subcommands."""
    parser = _Parser(prog="cyw2v", description="Fast word2vec: train, query, evaluate and convert word vectors.",
                     epilog="Run 'cyw2v COMMAND --help' for a command's options. "
                            "Exit codes: 0 ok, 1 error, 2 bad usage, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"cyw2v {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def progress_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--progress", choices=("auto", "bar", "log"), default="auto",
                       help="progress display: a tqdm bar (default when stderr is a terminal) "
                            "or periodic log lines")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    t = sub.add_parser("train", help="train word vectors on a text file",
                       usage="cyw2v train CORPUS -o VECTORS [options]",
                       description="Train word2vec on CORPUS (plain text, .gz or .bz2; one sentence per "
                                   "line, tokens separated by whitespace) and write the vectors.")
    t.add_argument("corpus", metavar="CORPUS")
    t.add_argument("-o", "--output", metavar="VECTORS",
                   help="write vectors here (word2vec text unless --binary, a .bin or a native suffix)")
    t.add_argument("--binary", action="store_true", help="write word2vec binary format")
    t.add_argument("--to", choices=FORMATS, default=None, help="format of -o (default: from the suffix, else text)")
    t.add_argument("--save-model", metavar="MODEL", help="also save the full native model (to resume training)")
    add_training_options(t)
    t.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="train on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for a "
                        "LocalCluster of N workers (needs cyw2v[dask])")
    progress_options(t)
    t.set_defaults(func=cmd_train, parser=t)

    s = sub.add_parser("similar", help="nearest neighbours of a word",
                       usage="cyw2v similar VECTORS [WORD ...] [--topn N]",
                       description="Print the words closest by cosine to WORD (several words: to their "
                                   "mean). With no WORD, read queries from stdin until EOF or an empty line.")
    _add_vector_input(s)
    s.add_argument("words", metavar="WORD", nargs="*")
    s.add_argument("--topn", type=_positive_int, default=10, help="how many neighbours (default 10)")
    s.set_defaults(func=cmd_similar, parser=s)

    a = sub.add_parser("analogy", help="solve A : B :: C : ?",
                       usage="cyw2v analogy VECTORS [A B C] [--topn N]",
                       description="A is to B as C is to ?: words closest to B - A + C (3CosAdd). "
                                   "With no words, read 'A B C' lines from stdin until EOF or an empty line.")
    _add_vector_input(a)
    a.add_argument("words", metavar="A B C", nargs="*")
    a.add_argument("--topn", type=_positive_int, default=10, help="how many answers (default 10)")
    a.set_defaults(func=cmd_analogy, parser=a)

    e = sub.add_parser("eval", help="analogy accuracy and word-similarity correlations",
                       usage="cyw2v eval VECTORS [--analogies FILE] [--pairs FILE ...] [options]",
                       description="Evaluate on analogy questions (questions-words format) and word-pair "
                                   "similarity sets (tab-separated 'word1 word2 score'). Defaults: the "
                                   "packaged Google analogies, WordSim-353 and SimLex-999.")
    _add_vector_input(e, limit=False)
    e.add_argument("--analogies", metavar="FILE", default=None, help="analogy questions file")
    e.add_argument("--no-analogies", action="store_true", help="skip the analogy test")
    e.add_argument("--pairs", metavar="FILE", nargs="*", default=None,
                   help="word-pair similarity files (none given: skip)")
    e.add_argument("--restrict-vocab", type=_positive_int, default=30000,
                   help="use only the N most frequent words (default 30000)")
    e.set_defaults(func=cmd_eval, parser=e)

    c = sub.add_parser("convert", help="convert between text, binary and native formats",
                       usage="cyw2v convert IN OUT [--from FMT] [--to FMT]",
                       description="Formats by suffix: .txt/.vec text, .bin binary, .cyw2v/.npz/.kv/.model "
                                   "native; an input with another suffix is detected from its content.")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")
    c.add_argument("--from", dest="from_", choices=FORMATS, default=None, help="format of IN")
    c.add_argument("--to", choices=FORMATS, default=None, help="format of OUT")
    c.add_argument("--limit", type=_positive_int, default=None, help="convert only the first N vectors")
    c.set_defaults(func=cmd_convert, parser=c)

    d = sub.add_parser("demo", help="train on the packaged corpus and show what the vectors learned",
                       usage="cyw2v demo [--epochs N] [--workers N]",
                       description="Train skip-gram with negative sampling on the packaged 1.7M-word "
                                   "Wikipedia sample, then print timing, neighbours, analogies and scores.")
    d.add_argument("--epochs", type=_positive_int, default=5, help="default 5")
    d.add_argument("--workers", type=_positive_int, default=2, help="default 2")
    d.add_argument("--dim", type=_positive_int, default=100, help="vector size (default 100)")
    d.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    d.add_argument("--restrict-vocab", type=_positive_int, default=30000, help="evaluation vocabulary (default 30000)")
    progress_options(d)
    d.set_defaults(func=cmd_demo, parser=d)

    p = sub.add_parser("plot", help="2-D map of words and their neighbours (needs matplotlib)",
                       usage="cyw2v plot VECTORS WORD [WORD ...] -o OUT.png [options]",
                       description="Project the chosen words and their nearest neighbours to 2-D and "
                                   "save a picture (PNG, SVG or PDF by suffix). Needs 'cyw2v[plot]'.")
    _add_vector_input(p)
    p.add_argument("words", metavar="WORD", nargs="+")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="picture file, e.g. map.png")
    p.add_argument("--neighbours", "--neighbors", type=int, default=5, help="neighbours per word (default 5)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="pca (numpy) or tsne (needs scikit-learn); default pca")
    p.set_defaults(func=cmd_plot, parser=p)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code (0, 1, 2 or 130)."""
    prog = "cyw2v"
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        prog = f"cyw2v {args.command}"
        try:
            return int(args.func(args))
        except _UsageError as exc:
            args.parser.error(str(exc))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        _err(prog, "interrupted")
        return 130
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return 1
    except CLIError as exc:
        _err(prog, one_line(exc))
    except OSError as exc:
        _err(prog, oserror_text(exc))
    except KeyError as exc:
        _err(prog, one_line(exc))
    except ImportError as exc:
        _err(prog, one_line(exc))
    except (ValueError, TypeError, RuntimeError) as exc:
        _err(prog, one_line(exc))
    except MemoryError:
        _err(prog, "out of memory")
    except Exception as exc:  # noqa: BLE001 - never a traceback: one line naming the error
        _err(prog, f"{type(exc).__name__}: {one_line(exc)}")
    return 1


def _err(prog: str, message: str) -> None:
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        sys.stderr.write(f"{prog}: error: {message}\n" if message != "interrupted" else f"{prog}: interrupted\n")
        sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
