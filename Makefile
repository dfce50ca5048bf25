# Benchmarks (see BENCHMARKS.md). Variables: PYTHON, SHARED (data folder), BENCH_OUT, BENCH_ARGS (extra flags).
PYTHON ?= python
SHARED ?= ../shared/data
BENCH_OUT ?= benchmarks/out
BENCH_ARGS ?=
BENCH_COMMON = --configs sg-ns,cbow-ns,sg-hs,cbow-hs --systems cyw2v,gensim,word2vec-c,pword2vec \
	--word2vec-c auto --pword2vec auto \
	--vector-size 100 --window 5 --negative 5 --sample 1e-3 --min-count 5 --workers 2 --alpha 0.025 \
	--input-mode iterable --scaling --scaling-configs sg-ns,cbow-ns --scaling-workers 1,2 --scaling-input-modes file,iterable

.PHONY: bench bench-quick word2vec-c pword2vec fuzz

# Build word2vec.c into benchmarks/bin/word2vec; a failure only drops word2vec.c from the tables.
word2vec-c:
	-bash benchmarks/build_word2vec_c.sh

# Build pWord2Vec from ../shared/peers/pWord2Vec into benchmarks/bin/pWord2Vec (needs libopenblas-dev);
# a failure only drops pWord2Vec from the tables.
pword2vec:
	-bash benchmarks/build_pword2vec.sh

# The standard table on the 16.9M-word corpus, written between the bench markers of BENCHMARKS.md.
bench: word2vec-c pword2vec
	$(PYTHON) benchmarks/run.py --corpus $(SHARED)/enwiki-text8like.gz $(BENCH_COMMON) \
		--epochs 5 --repeat 3 --repeat-of word2vec-c=1 --scaling-repeat 3 --out $(BENCH_OUT) --markdown BENCHMARKS.md $(BENCH_ARGS)

# The same on the 1.7M-word corpus, 1 epoch, 1 run (the packaged copy when $(SHARED) is absent);
# its tables go to $(BENCH_OUT)/quick/BENCHMARKS-quick.md, never into BENCHMARKS.md.
bench-quick: word2vec-c pword2vec
	$(PYTHON) benchmarks/run.py --corpus $(SHARED)/enwiki-text8like-1e7.gz --fallback-demo $(BENCH_COMMON) \
		--epochs 1 --repeat 1 --out $(BENCH_OUT)/quick --markdown $(BENCH_OUT)/quick/BENCHMARKS-quick.md $(BENCH_ARGS)

# The full fuzzing campaign and kill -9 test of issue 17 (RELIABILITY.md): FUZZ_CASES mutated
# inputs across all loaders, each in a child under a 2 GiB address-space and 10 s time
# limit (failing inputs are kept and listed), then KILL_SAVES kills during saves.
FUZZ_CASES ?= 100000
FUZZ_SEED ?= 1
KILL_SAVES ?= 1000
fuzz:
	@mkdir -p $(BENCH_OUT)
	$(PYTHON) tests/fuzz/fuzzlib.py --cases $(FUZZ_CASES) --seed $(FUZZ_SEED) --json $(BENCH_OUT)/fuzz.json
	$(PYTHON) tests/fuzz/kill_saves.py --kills $(KILL_SAVES)
