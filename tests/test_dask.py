"""cyw2v.dask end to end on one LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
shared by the module: every input kind, every architecture x objective, the word count,
save/load/train on, bad inputs, and a worker killed mid-training (last: it restarts a worker)."""
import logging
import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
db = pytest.importorskip("dask.bag")

from cyw2v import Word2Vec  # noqa: E402
from cyw2v.dask import DaskWord2Vec  # noqa: E402

GROUPS, PER_GROUP = 8, 16


def planted(n_sentences=2400, length=12, seed=0):
    """Sentences each drawn from one of GROUPS topics: a word's neighbours are its topic's."""
    rng = np.random.default_rng(seed)
    words = [[f"g{g}w{i}" for i in range(PER_GROUP)] for g in range(GROUPS)]
    return [[words[g][i] for i in rng.integers(0, PER_GROUP, length)] for g in rng.integers(0, GROUPS, n_sentences)]


CORPUS = planted()
WORDS = sum(map(len, CORPUS))
SMALL = dict(vector_size=16, min_count=1, window=3, epochs=2, sample=0, seed=3, sync_period=4000, hot_rows=16)


def quality(wv):
    """Mean share of each word's 5 nearest neighbours that are in its topic."""
    hits = [sum(n.split("w")[0] == w.split("w")[0] for n, _ in wv.most_similar(w, topn=5)) / 5
            for w in wv.index_to_key]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def client():
    import dask
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                       os.environ.get("PYTHONPATH")]))}
    with dask.config.set({"distributed.worker.daemon": False, "distributed.nanny.environ": env}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def single_node_quality():
    return quality(Word2Vec(CORPUS, workers=1, **{k: v for k, v in SMALL.items() if k not in ("sync_period",
                                                                                              "hot_rows")}).wv)


def bag():
    return db.from_sequence(CORPUS, npartitions=6)


def test_workers_import_this_cyw2v(client):
    import cyw2v
    assert set(client.run(lambda: __import__("cyw2v").__file__).values()) == {cyw2v.__file__}


@pytest.mark.parametrize("sg,hs,negative", [(1, 0, 5), (0, 0, 5), (1, 1, 0), (0, 1, 0)],
                         ids=["sg-ns", "cbow-ns", "sg-hs", "cbow-hs"])
def test_every_architecture_and_objective(client, single_node_quality, sg, hs, negative):
    model = DaskWord2Vec(client, sg=sg, hs=hs, negative=negative, compute_loss=True, **SMALL).fit(bag())
    assert len(model.wv) == GROUPS * PER_GROUP
    # every sentence trained once per epoch, whatever the replicas and rounds
    per_replica = {}
    for r in model.rounds:
        for worker, words in r.worker_words.items():
            per_replica[worker] = per_replica.get(worker, 0) + words
    assert len(per_replica) == 2 and min(per_replica.values()) > 0
    assert sum(per_replica.values()) == SMALL["epochs"] * WORDS == SMALL["epochs"] * model.corpus_total_words
    assert len(model.loss_history) == 2 and model.get_latest_training_loss() == model.loss_history[-1] > 0
    assert max(r.round for r in model.rounds) >= 2           # several rounds per epoch
    assert quality(model.wv) >= single_node_quality - 0.15, (quality(model.wv), single_node_quality)


def test_sum_merge_trains(client, single_node_quality):
    model = DaskWord2Vec(client, merge="sum", progress=True, **SMALL).fit(bag())   # with a tqdm bar
    assert model.get_params()["merge"] == "sum"
    assert quality(model.wv) >= single_node_quality - 0.15


def test_overlapped_merges_train(client, single_node_quality):
    """overlap="always": each merge lands a round late; nothing trained is lost on the way."""
    model = DaskWord2Vec(client, overlap="always", compute_loss=True, **SMALL).fit(bag())
    assert sum(r.words for r in model.rounds) == SMALL["epochs"] * WORDS
    assert len(model.loss_history) == SMALL["epochs"] and model.loss_history[-1] < model.loss_history[0]
    assert quality(model.wv) >= single_node_quality - 0.15


def test_sync_epoch_baseline_and_callbacks(client):
    seen = []

    class Hooks:
        def on_epoch_end(self, m):
            seen.append(("epoch", m.epochs_trained))

        def on_round_end(self, m):
            seen.append(("round", m.current))

    model = DaskWord2Vec(client, sync="epoch", callbacks=[Hooks()], **SMALL).fit(bag())
    assert [s for s in seen if s[0] == "epoch"] == [("epoch", 1), ("epoch", 2)]
    assert ("round", (2, 1)) in seen
    assert all(r.rows == 0 for r in model.rounds if r.round < max(x.round for x in model.rounds))


def test_dataframe_column(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"id": range(len(CORPUS)), "text": [" ".join(s) for s in CORPUS]}),
                           npartitions=4)
    model = DaskWord2Vec(client, **SMALL).fit(frame, column="text")
    assert len(model.wv) == GROUPS * PER_GROUP and model.corpus_total_words == WORDS
    upper = DaskWord2Vec(client, **SMALL).fit(frame["text"], tokenizer=lambda t: t.upper().split())
    assert "G0W1" in upper.wv
    with pytest.raises(ValueError, match="say which holds the text"):
        DaskWord2Vec(client, **SMALL).fit(frame)


def test_plain_text_files(client, tmp_path, single_node_quality):
    paths = []
    for i, part in enumerate((CORPUS[:1000], CORPUS[1000:])):
        path = tmp_path / f"part{i}.txt"
        path.write_text("\n".join(" ".join(s) for s in part) + "\n")
        paths.append(str(path))
    model = DaskWord2Vec(client, **SMALL).fit(paths)
    assert model.corpus_total_words == WORDS and model.corpus_count == len(CORPUS)
    assert sum(r.words for r in model.rounds) == SMALL["epochs"] * WORDS
    assert quality(model.wv) >= single_node_quality - 0.15


def test_saved_model_loads_and_trains_on(client, tmp_path):
    checkpoint = str(tmp_path / "checkpoint.cyw2v")
    model = DaskWord2Vec(checkpoint=checkpoint, **SMALL).fit(bag())    # client=None: the current client
    assert model.client is client
    assert Word2Vec.load(checkpoint).epochs_trained == SMALL["epochs"]  # written at each epoch end
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    again = Word2Vec.load(path)
    assert np.array_equal(again.wv.vectors, model.wv.vectors)
    assert again.epochs_trained == 2 and again.corpus_total_words == WORDS
    before = again.wv.vectors.copy()
    again.train(CORPUS, total_examples=again.corpus_count, epochs=1)
    assert not np.array_equal(before, again.wv.vectors)


def test_bad_inputs_name_the_problem(client, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        DaskWord2Vec(client, **SMALL).fit(db.from_sequence([], npartitions=1))
    with pytest.raises(TypeError, match="list of tokens"):
        DaskWord2Vec(client, **SMALL).fit(db.from_sequence(["a sentence as a string"], npartitions=1))
    missing = str(tmp_path / "nowhere.txt")
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        DaskWord2Vec(client, **SMALL).fit([missing])
    with pytest.raises(TypeError, match="dask.bag"):
        DaskWord2Vec(client, **SMALL).fit(CORPUS)
    with pytest.raises(ValueError, match="sync must be one of"):
        DaskWord2Vec(client, sync="sometimes")


def test_a_client_without_workers_is_clear():
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty, \
            distributed.Client(empty, set_as_default=False) as c:
        with pytest.raises(RuntimeError, match="no workers"):
            DaskWord2Vec(c, **SMALL).fit(bag())


def test_command_line_trains_on_the_cluster(client, tmp_path, capsys):
    from cyw2v.cli import main
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in CORPUS) + "\n")
    out = str(tmp_path / "v.txt")
    assert main(["train", str(corpus), "-o", out, "--dim", "8", "--min-count", "1", "--epochs", "1", "-q",
                 "--dask", client.scheduler.address]) == 0
    assert "with 2 Dask workers" in capsys.readouterr().out
    assert main(["train", str(corpus), "-o", out, "--dask", "local:zero", "-q"]) == 1


def test_readme_example_trains_on_a_local_cluster_of_two(tmp_path):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    section = readme.split("## Distributed training on Dask", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "LocalCluster(n_workers=2" in code
    (tmp_path / "example.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sync took" in done.stdout
    assert len(Word2Vec.load(str(tmp_path / "dask.cyw2v")).wv) > 10000


def test_killed_worker_resumes_from_the_checkpoint(client, single_node_quality, caplog):
    """Kill one worker process at epoch 2, round 1: the replicas are re-created on the workers
    left and epoch 2 restarts from epoch 1's checkpoint."""
    class Kill:
        done = False

        def on_round_end(self, m):
            if m.current == (2, 1) and not self.done:
                self.done = True
                pids = client.run(os.getpid)
                os.kill(pids[sorted(pids)[-1]], signal.SIGKILL)

    with caplog.at_level(logging.WARNING, logger="cyw2v.dask"):
        model = DaskWord2Vec(client, callbacks=[Kill()], **{**SMALL, "epochs": 3}).fit(bag())
    assert model.restarts == 1
    assert "resuming from the checkpoint at the end of epoch 1" in caplog.text
    assert model.epochs_trained == 3 and sum(r.words for r in model.rounds) == 3 * WORDS
    assert quality(model.wv) >= single_node_quality - 0.15
    client.wait_for_workers(2, timeout=60)   # the nanny restarts the killed worker


def test_max_retries_then_a_clear_error(client):
    class KillOnce:
        done = False

        def on_round_end(self, m):
            if not self.done:   # (the next round may end before the loss is noticed)
                self.done = True
                pids = client.run(os.getpid)
                os.kill(pids[sorted(pids)[-1]], signal.SIGKILL)

    with pytest.raises(RuntimeError, match="max_retries=0"):
        DaskWord2Vec(client, callbacks=[KillOnce()], max_retries=0, **SMALL).fit(bag())
    client.wait_for_workers(2, timeout=60)
