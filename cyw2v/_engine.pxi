# ---------------------------------------------------------------------------------------
# Shared state of one training run, and per-thread scratch space
#
# What to train is decided once, when the Engine is built (as fastText's createLoss):
# Net holds the architecture and the enabled objectives as function pointers, and each
# objective's shared state in its own struct; each thread's Scratch holds the objectives'
# per-thread state. The loops below call through the pointers and never test the
# sg / negative / hs / softmax settings again.
# ---------------------------------------------------------------------------------------

cdef struct Net
cdef struct Scratch

# An objective scores targets against m hidden rows H, updates its output rows and adds
# the gradient of H (times alpha) into gH (see all_objectives for `mask`). H and gH NULL:
# the hidden rows are Scratch.hidden[:m], input rows that receive their gradient in place
# (skipgram_block, only where Net.hidden_in_place allows it).
ctypedef void (*objective_fn)(const Net* net, Scratch* w, const float* H, int m,
                              const int32_t* targets, int n_targets, const uint8_t* mask,
                              float* gH, float alpha) noexcept nogil
# An architecture trains centres first .. first + n_centres - 1 of a subsampled sentence
# with `objective`; input row r receives lockf[r] times its step (lockf NULL: all ones).
ctypedef void (*block_fn)(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                          int n_centres, const int* wins, float alpha,
                          objective_fn objective, const float* lockf) noexcept nogil
# Trains every position of the subsampled sentence Scratch.sent[:k] (one per architecture).
ctypedef void (*sentence_fn)(const Net* net, Scratch* w, int k, double alpha0,
                             double alpha1) noexcept nogil
# Starts loading the output rows an objective will read for a target word.
ctypedef void (*prefetch_fn)(const Net* net, Scratch* w, int32_t word) noexcept nogil

cdef enum:
    MAX_OBJECTIVES = 3


cdef struct NegativeSampling:
    float* syn1neg           # V x d output vectors
    int negative             # noise words per target set
    const uint64_t* alias    # noise table: alias index << 32 | keep threshold (one load)


cdef struct HierarchicalSoftmax:
    float* syn1              # (V-1) x d inner-node vectors
    const int64_t* offset    # CSR Huffman paths: word w uses [offset[w], offset[w+1])
    const uint8_t* code
    const int32_t* point


cdef struct FullSoftmax:
    float* syn1sm            # V x d output vectors


cdef struct Net:
    float* syn0          # V x d input vectors (the embeddings)
    const float* lockf   # V factors on the input rows' steps (gensim's vectors_lockf); NULL: off
    int32_t V
    int32_t d
    int cbow_mean
    int window
    int shrink_windows
    int combine                      # skip-gram centres trained as one block (1 = per centre)
    int compute_loss
    int tiled                        # rows fit the register tiles (cyw2v_tiled)
    int hidden_in_place              # skip-gram blocks update their input rows in place
    int max_targets                  # most output rows one logistic block scores
    const uint64_t* keep_threshold   # keep if 32-bit uniform < threshold (2**32 = always)
    int32_t* stop_flag               # set to 1 by the Python layer to interrupt
    int32_t hot_rows                 # rows per output matrix each thread caches (0 = off)
    int32_t hot_sync_words           # kept words between merges of the cached rows
    int weight_rounding              # storage precision emulated (CYW2V_ROUNDED_WEIGHTS builds)
    float logit_scale                # logistic units train with sigma(logit_scale s + logit_shift)
    float logit_shift
    block_fn train_block             # the architecture, one block
    sentence_fn train_sentence       # architecture and objectives, a subsampled sentence
    objective_fn objective           # the one enabled objective, or all_objectives
    int n_objectives
    objective_fn objectives[MAX_OBJECTIVES]   # the enabled ones, in order; their losses add
    prefetch_fn prefetch_target      # NULL unless an objective has rows worth prefetching
    NegativeSampling ns              # an objective's state; zeroed when it is off
    HierarchicalSoftmax hsm
    FullSoftmax fsm


cdef struct HotRows:
    # A thread's private copy of the hottest rows of one shared output matrix.  Every
    # thread writes the rows of frequent words and the top Huffman nodes all the time;
    # sharing those cache lines between cores costs more than the arithmetic.  A thread
    # works on its copy and adds its accumulated change (local - snap) into the shared
    # rows every Net.hot_sync_words kept words, so updates are delayed, never lost.
    float* shared        # the shared matrix (row 0)
    int32_t first        # rows [first, first + count) are cached
    int32_t count
    float* local         # count x d: this thread's working copy
    float* snap          # count x d: the shared rows as they were when loaded
    uint8_t* loaded      # per slot: loaded since the last merge
    int32_t* dirty       # slots loaded since the last merge
    int32_t n_dirty


cdef struct NegativeState:
    uint64_t rng             # the noise draws' stream, apart from Scratch.rng
    int32_t* next_negatives  # noise words for the next call, their rows being prefetched
    int negatives_ready
    uint64_t* queued         # the draws for the call after, their alias entries being prefetched
    int queued_ready
    int32_t* drawn           # noise words drawn so far, recorded only when `record`
    int n_drawn
    int record
    HotRows hot              # cached rows of syn1neg (the most frequent words)


cdef struct HsState:
    HotRows hot              # cached rows of syn1 (the Huffman nodes nearest the root)


cdef struct SoftmaxState:
    float* S                 # max_m x V scores, then gradient factors


cdef struct Scratch:
    uint64_t rng
    uint64_t round_rng   # stochastic rounding's bits (emulated precision), apart from rng
    int max_m            # rows of H / gH
    float* H             # max_m x d hidden vectors
    float* gH            # max_m x d their gradient
    float** hidden       # max_m hidden rows of a tiled block: rows of H, or input rows
    float* G             # max_m x max_targets scores, then gradient factors
    float** rows         # max_targets output rows of one logistic block
    float* labels        # their labels
    float* W             # max_m x max_targets weights of the units (see logistic_block)
    uint8_t* mask        # max_m x combine: hidden row j predicts target c (context combining)
    int32_t* ctx         # max_m context word indices
    int32_t* sent        # subsampled sentence
    double loss
    int64_t loss_terms
    int64_t since_sync   # kept words since the cached rows were last merged
    NegativeState ns     # an objective's per-thread state; zeroed when it is off
    HsState hs
    SoftmaxState sm


cdef void* aligned_malloc(size_t n) noexcept nogil:
    cdef void* p = NULL
    if n == 0:
        n = 64
    # round up so that distinct buffers never share a cache line
    n = (n + 63) & ~(<size_t>63)
    if posix_memalign(&p, 64, n) != 0:
        return NULL
    return p


cdef void* array_malloc(size_t n, size_t size) noexcept nogil:
    """aligned_malloc(n * size), or NULL if the product overflows."""
    if size != 0 and n > (<size_t>-1) / size:
        return NULL
    return aligned_malloc(n * size)


cdef int64_t scratch_rows(const Net* net, int max_sentence) noexcept nogil:
    """Rows of H a block can need: a block of `combine` centres has at most
    combine - 1 + 2 window + 1 distinct positions, and never more than the sentence."""
    cdef int64_t rows = 2 * <int64_t>net.window + net.combine
    return rows if rows < max_sentence else (max_sentence if max_sentence > 0 else 1)


cdef int hot_init(HotRows* c, float* shared, int32_t first, int32_t count, int32_t n_rows,
                  int d) noexcept nogil:
    """Cache rows [first, first + count) of an n_rows x d matrix, clipped to its rows."""
    if first < 0:
        count += first
        first = 0
    if count > n_rows - first:
        count = n_rows - first
    c.shared = shared
    c.first = first
    c.count = count if count > 0 else 0
    c.n_dirty = 0
    if c.count == 0:
        return 0
    c.local = <float*>array_malloc(<size_t>c.count * d, sizeof(float))
    c.snap = <float*>array_malloc(<size_t>c.count * d, sizeof(float))
    c.loaded = <uint8_t*>calloc(c.count, sizeof(uint8_t))
    c.dirty = <int32_t*>array_malloc(<size_t>c.count, sizeof(int32_t))
    if c.local == NULL or c.snap == NULL or c.loaded == NULL or c.dirty == NULL:
        c.count = 0   # unusable; hot_free still frees what was allocated
        return -1
    return 0


cdef inline float* hot_row(HotRows* c, int32_t row, int d) noexcept nogil:
    """Pointer to the row to read and update: the thread's copy if cached, else shared."""
    cdef uint32_t slot = <uint32_t>(row - c.first)
    cdef float* mine
    if slot >= <uint32_t>c.count:
        return c.shared + <size_t>row * d
    mine = c.local + <size_t>slot * d
    if not c.loaded[slot]:
        memcpy(mine, c.shared + <size_t>row * d, d * sizeof(float))
        memcpy(c.snap + <size_t>slot * d, mine, d * sizeof(float))
        c.loaded[slot] = 1
        c.dirty[c.n_dirty] = <int32_t>slot
        c.n_dirty += 1
    return mine


cdef void hot_merge(HotRows* c, int d) noexcept nogil:
    """Add this thread's change of every loaded row into the shared matrix; the next
    access reloads the row, with the other threads' changes."""
    cdef int32_t i, slot
    cdef int k
    cdef float* dst
    cdef const float* mine
    cdef const float* old
    for i in range(c.n_dirty):
        slot = c.dirty[i]
        dst = c.shared + <size_t>(c.first + slot) * d
        mine = c.local + <size_t>slot * d
        old = c.snap + <size_t>slot * d
        for k in range(d):
            dst[k] += mine[k] - old[k]
        c.loaded[slot] = 0
    c.n_dirty = 0


cdef void hot_free(HotRows* c) noexcept nogil:
    free(c.local)
    free(c.snap)
    free(c.loaded)
    free(c.dirty)
    c.local = c.snap = NULL
    c.loaded = NULL
    c.dirty = NULL
    c.count = 0


cdef int ns_state_init(NegativeState* s, const Net* net, int max_m) noexcept nogil:
    cdef const NegativeSampling* ns = &net.ns
    # a debug block records up to one draw per context row
    s.drawn = <int32_t*>array_malloc(<size_t>max_m * ns.negative + 1, sizeof(int32_t))
    s.next_negatives = <int32_t*>array_malloc(<size_t>ns.negative + 1, sizeof(int32_t))
    s.queued = <uint64_t*>array_malloc(<size_t>ns.negative + 1, sizeof(uint64_t))
    if s.drawn == NULL or s.next_negatives == NULL or s.queued == NULL:
        return -1
    return hot_init(&s.hot, ns.syn1neg, 0, net.hot_rows, net.V, net.d)


cdef void ns_state_free(NegativeState* s) noexcept nogil:
    hot_free(&s.hot)
    free(s.drawn)
    free(s.next_negatives)
    free(s.queued)
    s.drawn = s.next_negatives = NULL
    s.queued = NULL


cdef int hs_state_init(HsState* s, const Net* net) noexcept nogil:
    # syn1's last rows are the nodes nearest the root (created last by the Huffman builder)
    return hot_init(&s.hot, net.hsm.syn1, net.V - 1 - net.hot_rows, net.hot_rows, net.V - 1, net.d)


cdef void hs_state_free(HsState* s) noexcept nogil:
    hot_free(&s.hot)


cdef int sm_state_init(SoftmaxState* s, const Net* net, int max_m) noexcept nogil:
    s.S = <float*>array_malloc(<size_t>max_m * <size_t>net.V, sizeof(float))
    return 0 if s.S != NULL else -1


cdef void sm_state_free(SoftmaxState* s) noexcept nogil:
    free(s.S)
    s.S = NULL


cdef inline uint64_t noise_seed(uint64_t seed) noexcept nogil:
    """The noise stream's start for a thread's seed: its own stream, so that the noise words
    can be drawn two calls ahead of the windows and the subsampling."""
    return seed ^ <uint64_t>0x3C6EF372FE94F82BULL


cdef int scratch_init(Scratch* w, const Net* net, int max_sentence, uint64_t seed) noexcept nogil:
    """Allocate a thread's buffers (w zeroed by the caller); -1 if out of memory. The
    Engine has checked that the row counts times d and max_targets fit an int."""
    cdef size_t max_m = <size_t>scratch_rows(net, max_sentence)
    cdef size_t d = net.d
    cdef size_t T = net.max_targets
    w.rng = seed
    w.max_m = <int>max_m
    w.H = <float*>array_malloc(max_m * d, sizeof(float))
    w.gH = <float*>array_malloc(max_m * d, sizeof(float))
    w.hidden = <float**>array_malloc(max_m, sizeof(float*))
    w.G = <float*>array_malloc(max_m * T, sizeof(float))
    w.rows = <float**>array_malloc(T, sizeof(float*))
    w.labels = <float*>array_malloc(T, sizeof(float))
    w.W = <float*>array_malloc(max_m * T, sizeof(float))
    w.mask = <uint8_t*>array_malloc(max_m * <size_t>net.combine, sizeof(uint8_t))
    w.ctx = <int32_t*>array_malloc(max_m, sizeof(int32_t))
    w.sent = <int32_t*>array_malloc(<size_t>max_sentence + 1, sizeof(int32_t))
    if (w.H == NULL or w.gH == NULL or w.hidden == NULL or w.G == NULL or w.rows == NULL or w.labels == NULL
            or w.W == NULL or w.mask == NULL or w.ctx == NULL or w.sent == NULL):
        return -1
    w.ns.rng = noise_seed(seed)
    if net.ns.negative > 0 and ns_state_init(&w.ns, net, <int>max_m) != 0:
        return -1
    if net.hsm.syn1 != NULL and hs_state_init(&w.hs, net) != 0:
        return -1
    if net.fsm.syn1sm != NULL and sm_state_init(&w.sm, net, <int>max_m) != 0:
        return -1
    return 0


cdef inline void scratch_begin(Scratch* w, uint64_t seed) noexcept nogil:
    """Reset the per-call state, as if the buffers were freshly allocated with ``seed``."""
    w.rng = seed
    w.round_rng = seed ^ <uint64_t>0xD1B54A32D192ED03ULL
    w.loss = 0.0
    w.loss_terms = 0
    w.since_sync = 0
    w.ns.rng = noise_seed(seed)
    w.ns.negatives_ready = 0
    w.ns.queued_ready = 0
    w.ns.n_drawn = 0
    w.ns.record = 0


cdef inline void scratch_merge(const Net* net, Scratch* w) noexcept nogil:
    # a HotRows with nothing cached (objective off) merges nothing
    hot_merge(&w.ns.hot, net.d)
    hot_merge(&w.hs.hot, net.d)
    w.since_sync = 0


cdef void scratch_free(const Net* net, Scratch* w) noexcept nogil:
    """Merge the thread's cached rows into the shared matrices, then free everything."""
    scratch_merge(net, w)
    ns_state_free(&w.ns)
    hs_state_free(&w.hs)
    sm_state_free(&w.sm)
    free(w.H)
    free(w.gH)
    free(w.hidden)
    free(w.G)
    free(w.rows)
    free(w.labels)
    free(w.W)
    free(w.mask)
    free(w.ctx)
    free(w.sent)
    w.H = w.gH = w.G = w.labels = w.W = NULL
    w.rows = w.hidden = NULL
    w.mask = NULL
    w.ctx = w.sent = NULL


# ---------------------------------------------------------------------------------------
# Vector primitives (plain loops: GCC vectorises them at -O3 with -fassociative-math)
# ---------------------------------------------------------------------------------------

cdef inline float dot(const float* a, const float* b, int d) noexcept nogil:
    cdef float s = 0.0
    cdef int k
    for k in range(d):
        s += a[k] * b[k]
    return s


cdef inline void axpy(float* y, float a, const float* x, int d) noexcept nogil:
    cdef int k
    for k in range(d):
        y[k] += a * x[k]


cdef inline void scale(float* y, float a, int d) noexcept nogil:
    cdef int k
    for k in range(d):
        y[k] *= a


cdef inline void stored(const Net* net, Scratch* w, float* row) noexcept nogil:
    """A weight row was just written: round it to the storage precision the engine
    emulates. ROUNDED_WEIGHTS is a compile-time 0 in every build but _core_emulate, where
    the call compiles to nothing."""
    if ROUNDED_WEIGHTS and net.weight_rounding:
        cyw2v_round_row(row, net.d, net.weight_rounding, &w.round_rng)


# Register-tiled blocks of several hidden rows (skip-gram's windows). On Zen 4 the plain
# loops above spend most of a block's time on loads and stores, not on multiply-adds: each
# dot or axpy pass re-reads a row it has just read. These tiles keep hidden rows, their
# gradients and the partial scores in vector registers: S = H U^T as JS x TS tiles of
# accumulators; then gH += G U and U += G^T H in ONE pass over each output row chunk (for
# up to JT hidden rows), each output row read and written once. With GCC vector
# extensions, so one source serves every build at its own width. Only where rows are a
# whole number of vectors (padded rows; d = 100 -> 112) and weights are not rounded;
# cyw2v_tiled() says whether the engine may use them.
cdef extern from *:
    """
    #ifndef CYW2V_ROUNDED_WEIGHTS
    #define CYW2V_ROUNDED_WEIGHTS 0
    #endif
    #if (defined(__GNUC__) || defined(__clang__)) && !CYW2V_ROUNDED_WEIGHTS
    #if defined(__AVX512F__)
    #define CYW2V_VW 16      /* floats per vector */
    #define CYW2V_JS 4       /* score tile: JS hidden rows x TS targets of accumulators */
    #define CYW2V_TS 4
    #define CYW2V_JT 10      /* hidden rows updated in one fused pass: 2 JT + 2 of 32 registers
                                (a whole window of 5: m = 10 is a third of skip-gram's work) */
    #elif defined(__AVX__)
    #define CYW2V_VW 8
    #define CYW2V_JS 2
    #define CYW2V_TS 4
    #define CYW2V_JT 4       /* 16 registers */
    #else
    #define CYW2V_VW 4
    #define CYW2V_JS 2
    #define CYW2V_TS 4
    #define CYW2V_JT 4
    #endif
    typedef float cyw2v_vec __attribute__((vector_size(CYW2V_VW * 4)));
    #define CYW2V_AI static inline __attribute__((always_inline))
    CYW2V_AI cyw2v_vec cyw2v_load(const float* p) { cyw2v_vec v; memcpy(&v, p, sizeof v); return v; }
    CYW2V_AI void cyw2v_store(float* p, cyw2v_vec v) { memcpy(p, &v, sizeof v); }
    CYW2V_AI float cyw2v_hsum(cyw2v_vec v) {
        float s = 0.0f;
        for (int l = 0; l < CYW2V_VW; l++) s += v[l];
        return s;
    }
    static int cyw2v_tiled(int d) { return d % CYW2V_VW == 0; }

    /* S[j0:j0+JN, t0:t0+TN] = H U^T, one pass over the rows; JN, TN are constants. */
    CYW2V_AI void cyw2v_score_tile(float* const* H, int j0, int JN, float* const* rows, int t0,
                                   int TN, float* S, int T, int d) {
        cyw2v_vec acc[CYW2V_JS][CYW2V_TS], h[CYW2V_JS], u[CYW2V_TS];
        for (int q = 0; q < JN; q++)
            for (int p = 0; p < TN; p++) acc[q][p] = (cyw2v_vec){0};
        for (int k = 0; k < d; k += CYW2V_VW) {
            for (int q = 0; q < JN; q++) h[q] = cyw2v_load(H[j0 + q] + k);
            for (int p = 0; p < TN; p++) u[p] = cyw2v_load(rows[t0 + p] + k);
            for (int q = 0; q < JN; q++)
                for (int p = 0; p < TN; p++) acc[q][p] += h[q] * u[p];
        }
        for (int q = 0; q < JN; q++)
            for (int p = 0; p < TN; p++) S[(j0 + q) * T + t0 + p] = cyw2v_hsum(acc[q][p]);
    }

    CYW2V_AI void cyw2v_score_rows(float* const* H, int j0, int JN, float* const* rows, float* S,
                                   int T, int d) {
        int t = 0;
        for (; t + CYW2V_TS <= T; t += CYW2V_TS) cyw2v_score_tile(H, j0, JN, rows, t, CYW2V_TS, S, T, d);
        switch (T - t) {
        case 1: cyw2v_score_tile(H, j0, JN, rows, t, 1, S, T, d); break;
        case 2: cyw2v_score_tile(H, j0, JN, rows, t, 2, S, T, d); break;
        case 3: cyw2v_score_tile(H, j0, JN, rows, t, 3, S, T, d); break;
        }
    }

    /* S = H U^T (m x T, row-major; H as m row pointers) for any m >= 1, T >= 1. */
    static void cyw2v_scores(float* const* H, int m, float* const* rows, int T, float* S, int d) {
        int j = 0;
        for (; j + CYW2V_JS <= m; j += CYW2V_JS) cyw2v_score_rows(H, j, CYW2V_JS, rows, S, T, d);
        switch (m - j) {
        case 1: cyw2v_score_rows(H, j, 1, rows, S, T, d); break;
    #if CYW2V_JS > 2
        case 2: cyw2v_score_rows(H, j, 2, rows, S, T, d); break;
        case 3: cyw2v_score_rows(H, j, 3, rows, S, T, d); break;
    #endif
        }
    }

    /* For hidden rows j0 .. j0+JN-1: gH += G U with each row as read (GH), and U += G^T H
       (UPD), one chunk of every output row at a time: a row chunk is read once, updated by
       all JN rows and written once. With IN_PLACE (and GH, UPD) the hidden rows themselves
       receive G U: h += G U is stored once U has seen h as it was. */
    CYW2V_AI void cyw2v_update_tile(float* const* H, int j0, int JN, float* const* rows,
                                    const float* G, int T, float* gH, int d, int GH, int UPD,
                                    int IN_PLACE) {
        for (int k = 0; k < d; k += CYW2V_VW) {
            cyw2v_vec h[CYW2V_JT], gh[CYW2V_JT];
            for (int q = 0; q < JN; q++) {
                if (UPD) h[q] = cyw2v_load(H[j0 + q] + k);
                if (IN_PLACE) gh[q] = h[q];
                else if (GH) gh[q] = cyw2v_load(gH + (size_t)(j0 + q) * d + k);
            }
            for (int t = 0; t < T; t++) {
                cyw2v_vec u = cyw2v_load(rows[t] + k), nu = u;
                for (int q = 0; q < JN; q++) {
                    float g = G[(j0 + q) * T + t];
                    if (GH) gh[q] += g * u;
                    if (UPD) nu += g * h[q];
                }
                if (UPD) cyw2v_store(rows[t] + k, nu);
            }
            for (int q = 0; q < JN; q++) {
                if (IN_PLACE) cyw2v_store(H[j0 + q] + k, gh[q]);
                else if (GH) cyw2v_store(gH + (size_t)(j0 + q) * d + k, gh[q]);
            }
        }
    }

    #define CYW2V_TILE_SWITCH(n, CALL) switch (n) { \
        case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break; \
        case 4: CALL(4); break; CYW2V_TILE_SWITCH_WIDE(CALL) }
    #if CYW2V_JT > 4
    #define CYW2V_TILE_SWITCH_WIDE(CALL) case 5: CALL(5); break; case 6: CALL(6); break; \
        case 7: CALL(7); break; case 8: CALL(8); break; case 9: CALL(9); break; \
        case 10: CALL(10); break;
    #else
    #define CYW2V_TILE_SWITCH_WIDE(CALL)
    #endif

    CYW2V_AI int cyw2v_distinct(float* const* p, int n) {
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                if (p[a] == p[b]) return 0;
        return 1;
    }

    /* gH += G U and U += G^T H (G m x T), every score and gH term from the output rows as
       they were on entry. One fused pass when m <= JT and the targets are distinct rows (a
       fused pass would let a repeated row's second term see the first one's update);
       otherwise all of gH first, then U. With in_place the hidden rows H[j] themselves
       receive gH (gH is then m x d scratch): fused when they are distinct rows too, else
       through gH once U is done. */
    static void cyw2v_update(float* const* H, int m, float* const* rows, const float* G, int T,
                             float* gH, int d, int in_place) {
        int j0, n, k;
        if (m <= CYW2V_JT && cyw2v_distinct(rows, T) && (!in_place || cyw2v_distinct(H, m))) {
    #define CYW2V_FUSED(c) cyw2v_update_tile(H, 0, c, rows, G, T, gH, d, 1, 1, 0)
    #define CYW2V_FUSED_IN_PLACE(c) cyw2v_update_tile(H, 0, c, rows, G, T, gH, d, 1, 1, 1)
            if (in_place) { CYW2V_TILE_SWITCH(m, CYW2V_FUSED_IN_PLACE) }
            else { CYW2V_TILE_SWITCH(m, CYW2V_FUSED) }
            return;
        }
        if (in_place) memset(gH, 0, (size_t)m * d * sizeof(float));
    #define CYW2V_GH(c) cyw2v_update_tile(H, j0, c, rows, G, T, gH, d, 1, 0, 0)
    #define CYW2V_U(c) cyw2v_update_tile(H, j0, c, rows, G, T, gH, d, 0, 1, 0)
        for (j0 = 0; j0 < m; j0 += CYW2V_JT) {
            n = m - j0 < CYW2V_JT ? m - j0 : CYW2V_JT;
            CYW2V_TILE_SWITCH(n, CYW2V_GH)
        }
        for (j0 = 0; j0 < m; j0 += CYW2V_JT) {
            n = m - j0 < CYW2V_JT ? m - j0 : CYW2V_JT;
            CYW2V_TILE_SWITCH(n, CYW2V_U)
        }
        if (in_place)   /* one row after another, so that a repeated row gets every term */
            for (j0 = 0; j0 < m; j0++)
                for (k = 0; k < d; k += CYW2V_VW)
                    cyw2v_store(H[j0] + k, cyw2v_load(H[j0] + k) + cyw2v_load(gH + (size_t)j0 * d + k));
    }
    #if defined(__AVX512F__)
    #include <immintrin.h>
    /* G = alpha W * (labels - sigma(a G + b)) over the m x T scores, 16 lanes at a time: the
       scalar sigmoid()'s table interpolation with the same operations in the same order, so
       each lane's sigmoid has the scalar one's bits (the table reads are two gathers); the
       products alpha W may associate either way (-fassociative-math). The labels repeat
       every T lanes; vt holds each lane's target index t. Returns 1 (done). */
    static int cyw2v_logistic_gradients(float* G, int m, int T, const float* labels,
                                        const float* weight, float scale, float shift,
                                        float alpha, const float* table, float sig_max,
                                        float sig_scale) {
        const int n = m * T;
        const __m512 vscale = _mm512_set1_ps(scale), vshift = _mm512_set1_ps(shift);
        const __m512 vmax = _mm512_set1_ps(sig_max), vmin = _mm512_set1_ps(-sig_max);
        const __m512 vsig_scale = _mm512_set1_ps(sig_scale), valpha = _mm512_set1_ps(alpha);
        const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
        const __m512i vT = _mm512_set1_epi32(T), step = _mm512_set1_epi32(16 % T);
        const __m512i next = _mm512_set1_epi32(1);
        /* lane l's t = l mod T by subtraction: 16 integer divisions cost a quarter of the call */
        __m512i vt = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        for (__mmask16 over; (over = _mm512_cmpge_epi32_mask(vt, vT)); )
            vt = _mm512_mask_sub_epi32(vt, over, vt, vT);
        /* T <= 16: the labels fit one register and a permute replaces their gather */
        const __m512 label_row = _mm512_maskz_loadu_ps(T >= 16 ? 0xFFFF : (__mmask16)((1u << T) - 1), labels);
        for (int k = 0; k < n; k += 16) {
            const __mmask16 live = n - k >= 16 ? 0xFFFF : (__mmask16)((1u << (n - k)) - 1);
            const __m512 s = _mm512_fmadd_ps(vscale, _mm512_maskz_loadu_ps(live, G + k), vshift);
            const __mmask16 below = _mm512_cmp_ps_mask(s, vmax, _CMP_LT_OQ);   /* NaN: not below */
            const __mmask16 inside = below & _mm512_cmp_ps_mask(s, vmin, _CMP_GT_OQ) & live;
            const __m512 pos = _mm512_mul_ps(_mm512_add_ps(s, vmax), vsig_scale);
            const __m512i i = _mm512_cvttps_epi32(pos);
            const __m512 frac = _mm512_sub_ps(pos, _mm512_cvtepi32_ps(i));
            const __m512 lo = _mm512_mask_i32gather_ps(zero, inside, i, table, 4);
            const __m512 hi = _mm512_mask_i32gather_ps(zero, inside, _mm512_add_epi32(i, next), table, 4);
            __m512 sig = _mm512_maskz_mov_ps(inside, _mm512_fmadd_ps(frac, _mm512_sub_ps(hi, lo), lo));
            sig = _mm512_mask_mov_ps(sig, (__mmask16)~below, one);
            const __m512 label = T <= 16 ? _mm512_permutexvar_ps(vt, label_row)
                                         : _mm512_mask_i32gather_ps(zero, live, vt, labels, 4);
            __m512 g = _mm512_mul_ps(_mm512_sub_ps(label, sig), valpha);
            if (weight) g = _mm512_mul_ps(g, _mm512_maskz_loadu_ps(live, weight + k));
            _mm512_mask_storeu_ps(G + k, live, g);
            vt = _mm512_add_epi32(vt, step);
            vt = _mm512_mask_sub_epi32(vt, _mm512_cmpge_epi32_mask(vt, vT), vt, vT);
        }
        return 1;
    }
    #define CYW2V_VECTOR_GRADIENTS 1
    #endif
    #else
    static int cyw2v_tiled(int d) { (void)d; return 0; }
    static void cyw2v_scores(float* const* H, int m, float* const* rows, int T, float* S, int d) {}
    static void cyw2v_update(float* const* H, int m, float* const* rows, const float* G, int T,
                             float* gH, int d, int in_place) {}
    #endif
    #ifndef CYW2V_VECTOR_GRADIENTS   /* the callers fall back to their scalar loop */
    static int cyw2v_logistic_gradients(float* G, int m, int T, const float* labels,
                                        const float* weight, float scale, float shift,
                                        float alpha, const float* table, float sig_max,
                                        float sig_scale) { return 0; }
    #endif
    """
    bint cyw2v_tiled(int d) nogil
    void cyw2v_scores(float** H, int m, float** rows, int T, float* S, int d) nogil
    void cyw2v_update(float** H, int m, float** rows, const float* G, int T,
                      float* gH, int d, bint in_place) nogil
    bint cyw2v_logistic_gradients(float* G, int m, int T, const float* labels,
                                  const float* weight, float scale, float shift, float alpha,
                                  const float* table, float sig_max, float sig_scale) nogil


# ---------------------------------------------------------------------------------------
# Objectives: score one target against m hidden vectors H (m x d, row-major), add the
# gradient of log-likelihood w.r.t. H (times alpha) into gH, and update output rows.
# ---------------------------------------------------------------------------------------

cdef inline void dot4(const float* a0, const float* a1, const float* a2, const float* a3,
                      const float* b, int d, float* out) noexcept nogil:
    """Four dot products against one vector: four independent accumulator chains."""
    cdef float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, x
    cdef int k
    for k in range(d):
        x = b[k]
        s0 += a0[k] * x
        s1 += a1[k] * x
        s2 += a2[k] * x
        s3 += a3[k] * x
    out[0] = s0
    out[1] = s1
    out[2] = s2
    out[3] = s3


cdef inline void axpy4(float* y, float g0, float g1, float g2, float g3, const float* x0,
                       const float* x1, const float* x2, const float* x3, int d) noexcept nogil:
    """y += g0 x0 + g1 x1 + g2 x2 + g3 x3: one read-modify-write of y instead of four."""
    cdef int k
    for k in range(d):
        y[k] += g0 * x0[k] + g1 * x1[k] + g2 * x2[k] + g3 * x3[k]


cdef inline void prefetch_row(const float* row, int d) noexcept nogil:
    cdef int k
    for k in range(0, d, 16):   # one 64-byte line per 16 floats
        prefetch(row + k)


cdef inline void logistic_gradients(const Net* net, Scratch* w, int m, const float* labels,
                                    const float* weight, int T, float alpha) noexcept nogil:
    """G = alpha W * (labels - sigma(a S + b)) in place of the scores S in w.G (m x T), and the
    loss when it is counted."""
    cdef int j, t
    cdef float* Gj
    cdef float s, label, wt
    cdef float scale = net.logit_scale, shift = net.logit_shift
    if not net.compute_loss and cyw2v_logistic_gradients(w.G, m, T, labels, weight, scale, shift,
                                                         alpha, SIGMOID, SIG_MAX, SIG_SCALE):
        return                               # vectorised, where the build has AVX-512
    for j in range(m):
        Gj = w.G + j * T
        for t in range(T):
            s = scale * Gj[t] + shift
            label = labels[t]
            wt = weight[j * T + t] if weight != NULL else 1.0
            if net.compute_loss and wt != 0.0:
                w.loss -= wt * log_sigmoid(s if label > 0.5 else -s)
                w.loss_terms += 1
            Gj[t] = (label - sigmoid(s)) * alpha * wt


cdef inline void logistic_block(const Net* net, Scratch* w, const float* H, int m, float** rows,
                         const float* labels, const float* weight, int T, float alpha,
                         float* gH) noexcept nogil:
    """T binary logistic units (output rows ``rows``, targets ``labels``) against m hidden
    rows H: the building block of negative sampling and hierarchical softmax.

    With S = H U^T (m x T) and G = alpha W * (labels - sigma(a S + b)):  gH += G U,  U += G^T H,
    where (a, b) is the Net's logit map ((1, 0) but for sigmoid="word2vec", see params.SIGMOIDS).
    W (m x T, row-major) weighs each (row, unit) term of the log-likelihood; NULL means all
    ones. All scores use the output rows as they were on entry (HogBatch semantics), and
    each output row is written once per call.
    """
    cdef int d = net.d
    cdef int j, t
    cdef float* G = w.G
    cdef float* Gj
    cdef const float* h
    cdef float* y
    cdef float s, label, wt
    cdef float scale = net.logit_scale, shift = net.logit_shift
    for j in range(m):                       # S = H U^T, four targets per pass over h_j
        h = H + j * d
        Gj = G + j * T
        t = 0
        while t + 4 <= T:
            dot4(rows[t], rows[t + 1], rows[t + 2], rows[t + 3], h, d, Gj + t)
            t += 4
        while t < T:
            Gj[t] = dot(rows[t], h, d)
            t += 1
    # G as in logistic_gradients, kept in line: the m == 1 copies that CBOW inlines must
    # compile (and contract into FMAs) exactly as they did, bit for bit
    for j in range(m):
        Gj = G + j * T
        for t in range(T):
            s = scale * Gj[t] + shift
            label = labels[t]
            wt = weight[j * T + t] if weight != NULL else 1.0
            if net.compute_loss and wt != 0.0:
                w.loss -= wt * log_sigmoid(s if label > 0.5 else -s)
                w.loss_terms += 1
            Gj[t] = (label - sigmoid(s)) * alpha * wt
    for j in range(m):                       # gH += G U
        y = gH + j * d
        Gj = G + j * T
        t = 0
        while t + 4 <= T:
            axpy4(y, Gj[t], Gj[t + 1], Gj[t + 2], Gj[t + 3],
                  rows[t], rows[t + 1], rows[t + 2], rows[t + 3], d)
            t += 4
        while t < T:
            axpy(y, Gj[t], rows[t], d)
            t += 1
    for t in range(T):                       # U += G^T H
        y = rows[t]
        j = 0
        while j + 4 <= m:
            axpy4(y, G[j * T + t], G[(j + 1) * T + t], G[(j + 2) * T + t], G[(j + 3) * T + t],
                  H + j * d, H + (j + 1) * d, H + (j + 2) * d, H + (j + 3) * d, d)
            j += 4
        while j < m:
            axpy(y, G[j * T + t], H + j * d, d)
            j += 1
        stored(net, w, y)


cdef void logistic_block_rows(const Net* net, Scratch* w, const float* H, int m, float** rows,
                              const float* labels, const float* weight, int T, float alpha,
                              float* gH) noexcept nogil:
    """logistic_block for blocks of several hidden rows, compiled once out of line: the same
    arithmetic in register tiles (cyw2v_scores, cyw2v_update) where the rows allow them.
    H and gH NULL: the hidden rows are w.hidden[:m], updated in place."""
    cdef int j
    cdef bint in_place = H == NULL
    if not (net.tiled or in_place):
        logistic_block(net, w, H, m, rows, labels, weight, T, alpha, gH)
        return
    if in_place:
        gH = w.gH
    else:
        for j in range(m):
            w.hidden[j] = <float*>H + j * net.d
    cyw2v_scores(w.hidden, m, rows, T, w.G, net.d)
    logistic_gradients(net, w, m, labels, weight, T, alpha)
    cyw2v_update(w.hidden, m, rows, w.G, T, gH, net.d, in_place)


def vector_logistic_gradients(const float[::1] scores, const float[::1] labels, weight,
                               float alpha, float scale=1.0, float shift=0.0):
    """The tiles' vectorised alpha W * (labels - sigma(scale S + shift)) over m x T scores
    (T = len(labels), W ``weight`` or None for ones), or None where this build has no vector
    form (for tests: the trainers' scalar loop is the reference)."""
    cdef int T = labels.shape[0]
    if T < 1 or scores.shape[0] % T:
        raise ValueError("scores must be m x T for T = len(labels) >= 1")
    cdef int m = scores.shape[0] // T
    cdef float[::1] G = np.array(scores, dtype=np.float32)
    cdef float[::1] W
    cdef const float* weights = NULL
    if weight is not None:
        W = np.ascontiguousarray(weight, dtype=np.float32)
        if W.shape[0] != scores.shape[0]:
            raise ValueError("weight must be m x T, as the scores")
        weights = &W[0]
    if m == 0 or not cyw2v_logistic_gradients(&G[0], m, T, &labels[0], weights, scale, shift,
                                              alpha, SIGMOID, SIG_MAX, SIG_SCALE):
        return None
    return np.asarray(G)


cdef inline void logistic_units(const Net* net, Scratch* w, const float* H, int m, float** rows,
                                const float* labels, const float* weight, int T, float alpha,
                                float* gH) noexcept nogil:
    """logistic_block for the objectives: inlined and specialised where m == 1 (CBOW and
    skip-gram pairs, where the trainers make m a constant: ~7% of CBOW-NS's words/s), one
    shared out-of-line copy for skip-gram blocks, in register tiles where the rows allow
    (no faster for m == 1: CBOW-NS measured 0.97x through it)."""
    if m == 1:
        logistic_block(net, w, H, 1, rows, labels, weight, T, alpha, gH)
    else:
        logistic_block_rows(net, w, H, m, rows, labels, weight, T, alpha, gH)


cdef inline uint32_t noise_slot(const Net* net, uint64_t r) noexcept nogil:
    """The alias table's entry that the draw r reads."""
    return <uint32_t>(((r >> 32) * <uint64_t>net.V) >> 32)


cdef inline int32_t noise_word(const Net* net, uint64_t r) noexcept nogil:
    """The noise word of the draw r by the alias method: O(1)."""
    cdef uint32_t i = noise_slot(net, r)
    cdef uint64_t entry = net.ns.alias[i]
    if <uint32_t>(r & 0xFFFFFFFFULL) < <uint32_t>(entry & 0xFFFFFFFFULL):
        return <int32_t>i
    return <int32_t>(entry >> 32)


cdef inline int32_t draw_noise(const Net* net, uint64_t* rng) noexcept nogil:
    """One draw from the noise distribution."""
    return noise_word(net, rng_next(rng))


cdef inline void queue_draws(const Net* net, NegativeState* s) noexcept nogil:
    """Draw the noise words of the call after the next and start loading their alias entries."""
    cdef int n
    for n in range(net.ns.negative):
        s.queued[n] = rng_next(&s.rng)
        prefetch_read(&net.ns.alias[noise_slot(net, s.queued[n])])
    s.queued_ready = 1


cdef inline void draw_ahead(const Net* net, Scratch* w) noexcept nogil:
    """Resolve the next call's noise words and start loading their rows, then queue the
    draws of the call after: two stages, so that neither the alias entries' cache misses
    nor the rows' wait on each other or on the current call's arithmetic."""
    cdef int n
    cdef int32_t noise
    cdef NegativeState* s = &w.ns
    if not s.queued_ready:
        queue_draws(net, s)
    for n in range(net.ns.negative):
        noise = noise_word(net, s.queued[n])
        s.next_negatives[n] = noise
        prefetch_row(hot_row(&s.hot, noise, net.d), net.d)
    queue_draws(net, s)


cdef inline void negative_sampling(const Net* net, Scratch* w, const float* H, int m,
                            const int32_t* targets, int n_targets, const uint8_t* mask,
                            float* gH, float alpha) noexcept nogil:
    """sum_c [log sigma(h.u_c) + sum_k log sigma(-h.u_k)] over the targets c each row h
    predicts, the k negatives shared by all rows and targets: a negative term counts once
    per (row, target) pair, as if drawn for each pair."""
    cdef int n, c, j, T = n_targets
    cdef int32_t noise
    cdef int d = net.d
    cdef float pairs
    cdef bint is_target
    cdef NegativeState* s = &w.ns
    if not s.negatives_ready:
        draw_ahead(net, w)
    for c in range(n_targets):
        w.rows[c] = hot_row(&s.hot, targets[c], d)
        w.labels[c] = 1.0
    for n in range(net.ns.negative):
        noise = s.next_negatives[n]
        if s.record:
            s.drawn[s.n_drawn] = noise
            s.n_drawn += 1
        is_target = 0
        for c in range(n_targets):   # word2vec.c skips a draw of the target itself
            if noise == targets[c]:
                is_target = 1
                break
        if is_target:
            continue
        w.rows[T] = hot_row(&s.hot, noise, d)
        w.labels[T] = 0.0
        T += 1
    draw_ahead(net, w)
    s.negatives_ready = 1
    if mask == NULL:
        logistic_units(net, w, H, m, w.rows, w.labels, NULL, T, alpha, gH)
        return
    for j in range(m):
        pairs = 0.0
        for c in range(n_targets):
            w.W[j * T + c] = mask[j * n_targets + c]
            pairs += mask[j * n_targets + c]
        for c in range(n_targets, T):
            w.W[j * T + c] = pairs
    logistic_units(net, w, H, m, w.rows, w.labels, w.W, T, alpha, gH)


cdef inline void negative_prefetch(const Net* net, Scratch* w, int32_t word) noexcept nogil:
    """Negative sampling's prefetch hook: the target's output row."""
    prefetch_row(hot_row(&w.ns.hot, word, net.d), net.d)


cdef inline void hierarchical_softmax(const Net* net, Scratch* w, const float* H, int m,
                               const int32_t* targets, int n_targets, const uint8_t* mask,
                               float* gH, float alpha) noexcept nogil:
    """sum_c sum over the Huffman path of c of log sigma((1 - 2 code) h.u_node)."""
    cdef int64_t n, first
    cdef int c, j, T = 0, units = 0
    cdef int d = net.d
    cdef const HierarchicalSoftmax* hsm = &net.hsm
    for c in range(n_targets):
        units += <int>(hsm.offset[targets[c] + 1] - hsm.offset[targets[c]])
    for c in range(n_targets):
        first = hsm.offset[targets[c]]
        for n in range(hsm.offset[targets[c] + 1] - first):
            w.rows[T] = hot_row(&w.hs.hot, hsm.point[first + n], d)
            w.labels[T] = <float>(1 - hsm.code[first + n])
            prefetch_row(w.rows[T], d)
            if mask != NULL:
                for j in range(m):
                    w.W[j * units + T] = mask[j * n_targets + c]
            T += 1
    logistic_units(net, w, H, m, w.rows, w.labels, w.W if mask != NULL else NULL, T, alpha, gH)


cdef void full_softmax(const Net* net, Scratch* w, const float* H, int m,
                       const int32_t* targets, int n_targets, const uint8_t* mask,
                       float* gH, float alpha) noexcept nogil:
    """sum_c log P(c|h) = h.u_c - log sum_w exp(h.u_w): exact, O(V d) per hidden row."""
    cdef int j, c
    cdef int32_t v
    cdef int d = net.d
    cdef int32_t V = net.V
    cdef float* syn1sm = net.fsm.syn1sm
    cdef float* S
    cdef float* u
    cdef float mx, pairs
    cdef double Z
    for j in range(m):
        S = w.sm.S + <size_t>j * V
        mx = -3.4e38
        for v in range(V):
            S[v] = dot(H + j * d, syn1sm + <size_t>v * d, d)
            if S[v] > mx:
                mx = S[v]
        Z = 0.0
        for v in range(V):
            Z += exp(S[v] - mx)
        pairs = 0.0
        for c in range(n_targets):
            if mask == NULL or mask[j * n_targets + c]:
                pairs += 1.0
                if net.compute_loss:
                    w.loss -= (S[targets[c]] - mx) - log(Z)
                    w.loss_terms += 1
        # S becomes the gradient factor alpha * sum_c (1[v == c] - P(v|h))
        for v in range(V):
            S[v] = -alpha * pairs * <float>(exp(S[v] - mx) / Z)
        for c in range(n_targets):
            if mask == NULL or mask[j * n_targets + c]:
                S[targets[c]] += alpha
    for v in range(V):
        u = syn1sm + <size_t>v * d
        for j in range(m):
            axpy(gH + j * d, w.sm.S[<size_t>j * V + v], u, d)
        for j in range(m):
            axpy(u, w.sm.S[<size_t>j * V + v], H + j * d, d)
        stored(net, w, u)


cdef void all_objectives(const Net* net, Scratch* w, const float* H, int m,
                         const int32_t* targets, int n_targets, const uint8_t* mask,
                         float* gH, float alpha) noexcept nogil:
    """Apply every enabled objective (their losses add, as in word2vec.c's hs + negative).

    Row j of H predicts target c where mask[j * n_targets + c] is set (NULL: every target).
    """
    cdef int k
    for k in range(net.n_objectives):
        net.objectives[k](net, w, H, m, targets, n_targets, mask, gH, alpha)


# ---------------------------------------------------------------------------------------
# Architectures: form hidden vectors from the window, spread their gradient back. Each
# has the signature block_fn; the per-window ones train centre `first` with wins[0].
# They are inline so that each sentence trainer below compiles them with its objective.
# ---------------------------------------------------------------------------------------

cdef inline float input_factor(const float* lockf, int32_t word) noexcept nogil:
    """The factor on input row ``word``'s step. The trainers without lockf pass a constant
    NULL, so this folds to 1.0 and axpy(y, 1.0, x) to y += x: the same code as before lockf."""
    return lockf[word] if lockf != NULL else 1.0


cdef inline void skipgram_pairs(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                         int n_centres, const int* wins, float alpha,
        objective_fn objective, const float* lockf) noexcept nogil:
    """Classic skip-gram: one (context, centre) pair at a time, fresh negatives per pair."""
    cdef int j
    cdef int d = net.d
    cdef float* h
    cdef int i = first, win = wins[0]
    cdef int lo = i - win if i - win > 0 else 0
    cdef int hi = i + win + 1 if i + win + 1 < n else n
    for j in range(lo, hi):
        if j == i:
            continue
        h = net.syn0 + <size_t>sent[j] * d
        memset(w.gH, 0, d * sizeof(float))
        objective(net, w, h, 1, &sent[i], 1, NULL, w.gH, alpha)
        axpy(h, input_factor(lockf, sent[j]), w.gH, d)
        stored(net, w, h)


cdef inline void skipgram_block(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                         int n_centres, const int* wins, float alpha,
        objective_fn objective, const float* lockf) noexcept nogil:
    """Batched skip-gram (HogBatch): the contexts of centre words first .. first + n_centres - 1
    against one target set, those centres and one shared draw of negatives.

    With one centre, its window's context rows predict it. With several (context combining,
    Rengasamy et al. 2017), each position of the union of their windows enters once, and
    w.mask says which centres it predicts. Scores are one m x (centres + k) product and
    every row is written once per block. Where Net.hidden_in_place allows, the objective
    reads and updates the input rows themselves, not copies: the same arithmetic without
    copying m rows in and adding m gradients back.
    """
    cdef int j, c, p, centre, m = 0, lo = n, hi = 0
    cdef int d = net.d
    cdef uint8_t inside, used
    for c in range(n_centres):
        centre = first + c
        if centre - wins[c] < lo:
            lo = centre - wins[c]
        if centre + wins[c] + 1 > hi:
            hi = centre + wins[c] + 1
    if lo < 0:
        lo = 0
    if hi > n:
        hi = n
    for p in range(lo, hi):
        used = 0
        for c in range(n_centres):
            centre = first + c
            inside = p != centre and centre - wins[c] <= p <= centre + wins[c]
            w.mask[m * n_centres + c] = inside
            used |= inside
        if not used:
            continue
        w.ctx[m] = sent[p]
        m += 1
    if m == 0:
        return
    # hidden_in_place is never set with lockf; testing the constant NULL as well lets the
    # lockf trainer compile this branch away. m == 1 goes to the inlined m == 1 units.
    if lockf == NULL and net.hidden_in_place and m > 1:
        for j in range(m):
            w.hidden[j] = net.syn0 + <size_t>w.ctx[j] * d
        objective(net, w, NULL, m, sent + first, n_centres, w.mask if n_centres > 1 else NULL,
                  NULL, alpha)
        return
    for j in range(m):
        memcpy(w.H + j * d, net.syn0 + <size_t>w.ctx[j] * d, d * sizeof(float))
    memset(w.gH, 0, m * d * sizeof(float))
    objective(net, w, w.H, m, sent + first, n_centres, w.mask if n_centres > 1 else NULL,
              w.gH, alpha)
    for j in range(m):
        axpy(net.syn0 + <size_t>w.ctx[j] * d, input_factor(lockf, w.ctx[j]), w.gH + j * d, d)
        stored(net, w, net.syn0 + <size_t>w.ctx[j] * d)


cdef inline void cbow_context(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                               int n_centres, const int* wins, float alpha,
                               objective_fn objective, const float* lockf, bint exact) noexcept nogil:
    """CBOW: h = mean (or sum) of the m context rows.

    Each context row then receives gH (mean) or gH / m (sum): word2vec.c's and gensim's
    convention, which does not divide the mean's gradient by the window size. With ``exact``
    (a constant of the trainer, and only with the mean) each row receives gH / m, the exact
    gradient of the mean (Irsoy, Benton and Stratos 2021, "Corrected CBOW").
    """
    cdef int j, m = 0
    cdef int d = net.d
    cdef int i = first, win = wins[0]
    cdef int lo = i - win if i - win > 0 else 0
    cdef int hi = i + win + 1 if i + win + 1 < n else n
    memset(w.H, 0, d * sizeof(float))
    for j in range(lo, hi):
        if j == i:
            continue
        w.ctx[m] = sent[j]
        axpy(w.H, 1.0, net.syn0 + <size_t>sent[j] * d, d)
        m += 1
    if m == 0:
        return
    if net.cbow_mean:
        scale(w.H, 1.0 / m, d)
    memset(w.gH, 0, d * sizeof(float))
    objective(net, w, w.H, 1, &sent[i], 1, NULL, w.gH, alpha)
    if exact or not net.cbow_mean:
        scale(w.gH, 1.0 / m, d)
    for j in range(m):
        axpy(net.syn0 + <size_t>w.ctx[j] * d, input_factor(lockf, w.ctx[j]), w.gH, d)
        stored(net, w, net.syn0 + <size_t>w.ctx[j] * d)


cdef inline void cbow_window(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                      int n_centres, const int* wins, float alpha,
        objective_fn objective, const float* lockf) noexcept nogil:
    """CBOW with word2vec.c's gradient of the mean (cbow_gradient="word2vec")."""
    cbow_context(net, w, sent, n, first, n_centres, wins, alpha, objective, lockf, False)


cdef inline void cbow_window_exact(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                            int n_centres, const int* wins, float alpha,
        objective_fn objective, const float* lockf) noexcept nogil:
    """CBOW-mean with the exact gradient of the mean (cbow_gradient="exact")."""
    cbow_context(net, w, sent, n, first, n_centres, wins, alpha, objective, lockf, True)


cdef inline void train_kept(const Net* net, Scratch* w, int k, double alpha0, double alpha1,
                            block_fn train_block, objective_fn objective,
                            prefetch_fn prefetch_target, const float* lockf) noexcept nogil:
    """Train every position of the subsampled sentence w.sent[:k] with ``train_block``
    and ``objective``; ``prefetch_target`` (or NULL) loads the next targets' rows and
    ``lockf`` (or NULL) weighs the input rows' steps.

    Inlined into the sentence trainers below with constant arguments, so that the compiler
    calls the architecture and (for a single negative sampling or hierarchical softmax
    objective) the objective directly and specialises them for each other: calling them
    through pointers costs CBOW-NS 8-10% of its words/s.
    """
    cdef int i = 0, q, c, n_centres
    cdef int wins[MAX_COMBINE]
    cdef float alpha
    cdef int block = net.combine   # the Engine keeps it 1 unless skip-gram with batch_window
    while i < k:
        n_centres = block if i + block <= k else k - i
        # the next block's output rows and the rows entering the window
        for q in range(i + n_centres, i + 2 * n_centres):
            if q >= k:
                break
            if prefetch_target != NULL:
                prefetch_target(net, w, w.sent[q])
            if net.window < k - q:
                prefetch_row(net.syn0 + <size_t>w.sent[q + net.window] * net.d, net.d)
        alpha = <float>(alpha0 + (alpha1 - alpha0) * i / k)
        for c in range(n_centres):
            wins[c] = net.window
            if net.shrink_windows:
                wins[c] = net.window - <int>rng_below(&w.rng, <uint32_t>net.window)
        train_block(net, w, w.sent, k, i, n_centres, wins, alpha, objective, lockf)
        i += n_centres


# The sentence trainers, one per architecture x {negative sampling alone, hierarchical
# softmax alone, any other set of objectives (through Net.objective)}, all without lockf,
# and one per architecture with lockf (any objectives); the Engine picks one.

cdef void train_skipgram_pairs_negative(const Net* net, Scratch* w, int k, double alpha0,
                                        double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_pairs, negative_sampling, negative_prefetch,
               NULL)


cdef void train_skipgram_pairs_hs(const Net* net, Scratch* w, int k, double alpha0,
                                  double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_pairs, hierarchical_softmax, NULL, NULL)


cdef void train_skipgram_pairs_any(const Net* net, Scratch* w, int k, double alpha0,
                                   double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_pairs, net.objective,
               net.prefetch_target, NULL)


cdef void train_skipgram_block_negative(const Net* net, Scratch* w, int k, double alpha0,
                                        double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_block, negative_sampling, negative_prefetch,
               NULL)


cdef void train_skipgram_block_hs(const Net* net, Scratch* w, int k, double alpha0,
                                  double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_block, hierarchical_softmax, NULL, NULL)


cdef void train_skipgram_block_any(const Net* net, Scratch* w, int k, double alpha0,
                                   double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_block, net.objective,
               net.prefetch_target, NULL)


cdef void train_cbow_negative(const Net* net, Scratch* w, int k, double alpha0,
                              double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window, negative_sampling, negative_prefetch,
               NULL)


cdef void train_cbow_hs(const Net* net, Scratch* w, int k, double alpha0,
                        double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window, hierarchical_softmax, NULL, NULL)


cdef void train_cbow_any(const Net* net, Scratch* w, int k, double alpha0,
                         double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window, net.objective,
               net.prefetch_target, NULL)


# CBOW-mean with the exact gradient of the mean: the same three, one more block function.

cdef void train_cbow_exact_negative(const Net* net, Scratch* w, int k, double alpha0,
                                    double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window_exact, negative_sampling,
               negative_prefetch, NULL)


cdef void train_cbow_exact_hs(const Net* net, Scratch* w, int k, double alpha0,
                              double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window_exact, hierarchical_softmax, NULL, NULL)


cdef void train_cbow_exact_any(const Net* net, Scratch* w, int k, double alpha0,
                               double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window_exact, net.objective,
               net.prefetch_target, NULL)


# With lockf: a rare setting (gensim's use is freezing imported vectors), so one trainer per
# architecture, calling the objectives through Net.objective, rather than nine more copies.

cdef void train_skipgram_pairs_lockf(const Net* net, Scratch* w, int k, double alpha0,
                                     double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_pairs, net.objective,
               net.prefetch_target, net.lockf)


cdef void train_skipgram_block_lockf(const Net* net, Scratch* w, int k, double alpha0,
                                     double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, skipgram_block, net.objective,
               net.prefetch_target, net.lockf)


cdef void train_cbow_lockf(const Net* net, Scratch* w, int k, double alpha0,
                           double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window, net.objective,
               net.prefetch_target, net.lockf)


cdef void train_cbow_exact_lockf(const Net* net, Scratch* w, int k, double alpha0,
                                 double alpha1) noexcept nogil:
    train_kept(net, w, k, alpha0, alpha1, cbow_window_exact, net.objective,
               net.prefetch_target, net.lockf)


cdef int64_t train_sentence(const Net* net, Scratch* w, const int32_t* words, int n,
                            double alpha0, double alpha1) noexcept nogil:
    """Subsample, then train every kept position; alpha moves linearly alpha0 -> alpha1."""
    cdef int i, k = 0
    cdef int32_t word
    for i in range(n):
        word = words[i]
        if (rng_next(&w.rng) >> 32) < net.keep_threshold[word]:
            w.sent[k] = word
            k += 1
    net.train_sentence(net, w, k, alpha0, alpha1)
    w.since_sync += k
    if w.since_sync >= net.hot_sync_words:
        scratch_merge(net, w)
    return k


# ---------------------------------------------------------------------------------------
# Python-facing engine
# ---------------------------------------------------------------------------------------

cdef void choose_trainers(Net* net, bint sg, bint batch_window, bint negative, bint hs,
                          bint cbow_exact) noexcept:
    """The architecture and the sentence trainer, once the objectives and lockf are set
    (``cbow_exact``: CBOW-mean with the exact gradient of the mean)."""
    cdef bint only_negative = net.n_objectives == 1 and negative
    cdef bint only_hs = net.n_objectives == 1 and hs
    cdef bint locked = net.lockf != NULL
    net.objective = net.objectives[0] if net.n_objectives == 1 else all_objectives
    # in place needs the tiles and one logistic objective: with two, the second would
    # score the input rows the first has already moved
    net.hidden_in_place = sg and batch_window and net.tiled and not locked and (only_negative
                                                                               or only_hs)
    if sg and batch_window:
        net.train_block = skipgram_block
        net.train_sentence = (train_skipgram_block_lockf if locked else
                              train_skipgram_block_negative if only_negative else
                              train_skipgram_block_hs if only_hs else train_skipgram_block_any)
    elif sg:
        net.train_block = skipgram_pairs
        net.train_sentence = (train_skipgram_pairs_lockf if locked else
                              train_skipgram_pairs_negative if only_negative else
                              train_skipgram_pairs_hs if only_hs else train_skipgram_pairs_any)
    elif cbow_exact:
        net.train_block = cbow_window_exact
        net.train_sentence = (train_cbow_exact_lockf if locked else
                              train_cbow_exact_negative if only_negative else
                              train_cbow_exact_hs if only_hs else train_cbow_exact_any)
    else:
        net.train_block = cbow_window
        net.train_sentence = (train_cbow_lockf if locked else
                              train_cbow_negative if only_negative else
                              train_cbow_hs if only_hs else train_cbow_any)


cdef inline float* _ptr_or_null(float[:, ::1] a) noexcept:
    if a is None or a.shape[0] == 0:
        return NULL
    return &a[0, 0]


def _lockf_factors(lockf, int32_t V):
    """``lockf`` as V contiguous float32 factors (one value: for every row), or an empty
    array when it is None or empty (off); another length is a ValueError."""
    if lockf is None or np.size(lockf) == 0:
        return np.empty(0, dtype=np.float32)
    factors = np.ascontiguousarray(lockf, dtype=np.float32).reshape(-1)
    if factors.shape[0] == 1:
        return np.full(V, factors[0], dtype=np.float32)
    if factors.shape[0] != V:
        raise ValueError(f"lockf has {factors.shape[0]} entries; expected 1 or V={V}")
    return factors


def noise_stream_seed(uint64_t seed) -> int:
    """Where a thread's noise draws start for its job ``seed`` (for the tests)."""
    return noise_seed(seed)


def _emulated_precision() -> int:
    """The storage precision an emulating build rounds the weights to, from
    CYW2V_EMULATE_WEIGHTS (float32, bf16, bf16-stochastic or fp16); 0 in every other build."""
    name = os.environ.get("CYW2V_EMULATE_WEIGHTS", "").strip().lower() or "float32"
    if name not in EMULATED_PRECISIONS:
        raise ValueError(f"CYW2V_EMULATE_WEIGHTS must be one of {sorted(EMULATED_PRECISIONS)}, "
                         f"not {name!r}")
    if not ROUNDED_WEIGHTS:
        if name != "float32":
            raise ValueError("CYW2V_EMULATE_WEIGHTS needs the emulating engine "
                             "(CYW2V_KERNEL=emulate)")
        return 0
    return EMULATED_PRECISIONS[name]


cdef class Engine:
    """Training state shared by all worker threads: pointers into the model's arrays.

    ``Engine(weights, tables, config)``: ``weights`` has the float32 C-contiguous matrices
    ``syn0``, ``syn1neg``, ``syn1``, ``syn1softmax`` (a matrix whose objective is off may
    have 0 rows) and optionally ``lockf``, gensim's ``vectors_lockf``: float32 factors on
    the input rows' steps, V of them or one for every row (None, empty or absent: off,
    and then training runs the trainers without it); ``tables`` the arrays ``keep``, ``alias_prob``, ``alias_index``,
    ``hs_offset``, ``hs_code``, ``hs_point``; ``config`` the int/bool settings ``sg``,
    ``cbow_mean``, ``window``, ``shrink_windows``, ``negative``, ``hs``, ``softmax``,
    ``batch_window``, ``combine``, ``compute_loss``, ``hot_rows``, ``hot_sync_words`` and
    ``cbow_exact`` (1: CBOW-mean with the exact gradient of the mean; absent: 0), and the
    floats ``logit_scale`` and ``logit_shift`` (the logistic units' sigma(scale x + shift);
    absent: 1 and 0).

    The arrays are kept alive by this object and must not be reallocated while it exists.
    Training runs in :class:`Worker` objects (``engine.worker(max_sentence)``), one per
    thread. With ``hot_rows`` > 0 a worker keeps a private copy of that many of the most
    used rows of every output matrix (the first rows of syn1neg, the last rows of syn1:
    frequent words and the Huffman nodes nearest the root) and adds its changes into the
    shared rows every ``hot_sync_words`` kept words and at the end of every call (see HotRows).
    """
    cdef Net net
    cdef object _keep_alive
    cdef int32_t[::1] _stop

    def __init__(self, weights, tables, config):
        cdef float[:, ::1] syn0 = weights.syn0
        cdef float[:, ::1] syn1neg = weights.syn1neg
        cdef float[:, ::1] syn1 = weights.syn1
        cdef float[:, ::1] syn1softmax = weights.syn1softmax
        cdef const uint64_t[::1] keep_threshold = tables.keep
        cdef const uint32_t[::1] alias_prob = tables.alias_prob
        cdef const int32_t[::1] alias_index = tables.alias_index
        cdef const int64_t[::1] hs_offset = tables.hs_offset
        cdef const uint8_t[::1] hs_code = tables.hs_code
        cdef const int32_t[::1] hs_point = tables.hs_point
        cdef const float[::1] lockf
        cdef int sg = config.sg, cbow_mean = config.cbow_mean, window = config.window
        cdef int shrink_windows = config.shrink_windows, negative = config.negative
        cdef int hs = config.hs, softmax = config.softmax, batch_window = config.batch_window
        cdef int combine = config.combine, compute_loss = config.compute_loss
        cdef int hot_rows = config.hot_rows, hot_sync_words = config.hot_sync_words
        cdef int cbow_exact = getattr(config, "cbow_exact", 0)
        cdef float logit_scale = getattr(config, "logit_scale", 1.0)
        cdef float logit_shift = getattr(config, "logit_shift", 0.0)
        cdef int32_t V = syn0.shape[0]
        cdef int32_t d = syn0.shape[1]
        if V < 1 or d < 1:
            raise ValueError("empty model: train needs at least one word and one dimension")
        if window < 1:
            raise ValueError("window must be >= 1")
        if keep_threshold.shape[0] != V:
            raise ValueError("keep_threshold must have one entry per word")
        if negative > 0 and (syn1neg is None or syn1neg.shape[0] != V or syn1neg.shape[1] != d
                             or alias_prob.shape[0] != V or alias_index.shape[0] != V):
            raise ValueError("negative sampling needs syn1neg (V x d) and a noise table of V entries")
        if hs and (syn1 is None or hs_offset.shape[0] != V + 1 or syn1.shape[1] != d
                   or syn1.shape[0] < V - 1):
            raise ValueError("hierarchical softmax needs syn1 ((V-1) x d) and Huffman paths")
        if hs and V > 1:
            if hs_code.shape[0] != hs_offset[V] or hs_point.shape[0] != hs_offset[V]:
                raise ValueError("Huffman arrays disagree with their offsets")
            if np.any(np.asarray(hs_point) >= syn1.shape[0]) or np.any(np.asarray(hs_point) < 0):
                raise ValueError("Huffman points out of range")
        if softmax and (syn1softmax is None or syn1softmax.shape[0] != V or syn1softmax.shape[1] != d):
            raise ValueError("full softmax needs syn1softmax (V x d)")
        if negative > 0:
            ai = np.asarray(alias_index)
            if np.any(ai < 0) or np.any(ai >= V):
                raise ValueError("noise alias table out of range")
        self._stop = np.zeros(16, dtype=np.int32)
        packed = np.zeros(1, dtype=np.uint64)
        if negative > 0:
            packed = ((np.asarray(alias_index).astype(np.uint64) << np.uint64(32))
                      | np.asarray(alias_prob).astype(np.uint64))
        cdef uint64_t[::1] packed_view = packed
        lockf_array = _lockf_factors(getattr(weights, "lockf", None), V)
        lockf = lockf_array
        self._keep_alive = (syn0, syn1neg, syn1, syn1softmax, keep_threshold, packed,
                            hs_offset, hs_code, hs_point, lockf_array)
        if not 1 <= combine <= MAX_COMBINE:
            raise ValueError(f"combine must be in [1, {MAX_COMBINE}]")
        if hot_rows < 0 or hot_sync_words < 1:
            raise ValueError("hot_rows must be >= 0 and hot_sync_words >= 1")
        if cbow_exact and (sg or not cbow_mean):
            raise ValueError("cbow_exact needs CBOW with the mean (sg=0, cbow_mean=1)")
        hs = hs if V > 1 else 0    # one word has no Huffman path
        rounding = _emulated_precision()
        if rounding:
            # start from weights the storage could hold (rounded to nearest); the private
            # copies of hot rows would merge sums that it could not, so they stay off
            for name in ("syn0", "syn1neg", "syn1", "syn1softmax"):
                matrix = getattr(weights, name)
                if matrix is not None and matrix.size:
                    round_weights(matrix.reshape(-1),
                                  "fp16" if rounding == EMULATED_PRECISIONS["fp16"] else "bf16")
            hot_rows = 0
        memset(&self.net, 0, sizeof(Net))
        self.net.weight_rounding = rounding
        if not (logit_scale > 0 and np.isfinite(logit_scale) and np.isfinite(logit_shift)):
            raise ValueError("logit_scale must be positive and finite, logit_shift finite")
        self.net.logit_scale = logit_scale
        self.net.logit_shift = logit_shift
        self.net.syn0 = &syn0[0, 0]
        self.net.lockf = &lockf[0] if lockf.shape[0] else NULL
        self.net.V = V
        self.net.d = d
        self.net.tiled = cyw2v_tiled(d)
        self.net.cbow_mean = cbow_mean
        self.net.window = window
        self.net.shrink_windows = shrink_windows
        self.net.combine = combine if sg and batch_window else 1
        # window bounds (position +- window + 1) and block sizes are computed in int
        if 2 * <int64_t>window + self.net.combine + 1 > INT_MAX:
            raise ValueError(f"window={window} is too large")
        self.net.compute_loss = compute_loss
        self.net.keep_threshold = &keep_threshold[0]
        self.net.stop_flag = &self._stop[0]
        self.net.hot_rows = hot_rows
        self.net.hot_sync_words = hot_sync_words
        self.net.max_targets = self.net.combine + (negative if negative > 0 else 0)
        # Decide once what to train: the objectives' table, in the order their gradients
        # add up (hierarchical softmax, negative sampling, full softmax), then the trainer.
        if hs:
            self.net.hsm.syn1 = _ptr_or_null(syn1)
            self.net.hsm.offset = &hs_offset[0]
            self.net.hsm.code = &hs_code[0] if hs_code.shape[0] else NULL
            self.net.hsm.point = &hs_point[0] if hs_point.shape[0] else NULL
            self.net.objectives[self.net.n_objectives] = hierarchical_softmax
            self.net.n_objectives += 1
            longest = int(np.max(np.diff(np.asarray(hs_offset))))
            if longest > MAX_CODE_LEN:
                raise ValueError(f"Huffman path of length {longest} exceeds {MAX_CODE_LEN}")
            self.net.max_targets = max(self.net.max_targets, self.net.combine * longest)
        if negative > 0:
            self.net.ns.syn1neg = _ptr_or_null(syn1neg)
            self.net.ns.negative = negative
            self.net.ns.alias = &packed_view[0]
            self.net.objectives[self.net.n_objectives] = negative_sampling
            self.net.n_objectives += 1
            self.net.prefetch_target = negative_prefetch
        if softmax:
            self.net.fsm.syn1sm = _ptr_or_null(syn1softmax)
            self.net.objectives[self.net.n_objectives] = full_softmax
            self.net.n_objectives += 1
        choose_trainers(&self.net, sg, batch_window, negative > 0, hs, cbow_exact)

    cdef int _check_rows(self, int max_sentence) except -1:
        """ValueError unless a scratch space for max_sentence words indexes in int."""
        cdef int64_t rows = scratch_rows(&self.net, max_sentence)
        if max_sentence < 1:
            raise ValueError("max_sentence must be >= 1")
        if (rows * self.net.d > INT_MAX or rows * self.net.max_targets > INT_MAX
                or <int64_t>max_sentence + 2 * <int64_t>self.net.window + MAX_COMBINE > INT_MAX):
            raise ValueError(f"window={self.net.window} with vectors of {self.net.d} dimensions "
                             f"and sentences of {max_sentence} words is too large")
        return 0

    def worker(self, int max_sentence):
        """Per-thread training state for sentences of at most ``max_sentence`` words."""
        return Worker(self, max_sentence)

    def request_stop(self) -> None:
        """Ask running calls to return at the next sentence boundary (thread-safe)."""
        self._stop[0] = 1

    def clear_stop(self) -> None:
        self._stop[0] = 0

    @property
    def stopped(self) -> bool:
        return self._stop[0] != 0

    @property
    def hidden_in_place(self) -> bool:
        """Whether skip-gram blocks update their input rows in place (for the tests)."""
        return self.net.hidden_in_place != 0

    def train_job(self, const int32_t[::1] words, const int64_t[::1] sentence_ends,
                  double alpha0, double alpha1, uint64_t seed):
        """:meth:`Worker.train_job` with a temporary worker sized for the job's longest sentence."""
        cdef int64_t s, start = 0, end, max_len = 1
        for s in range(sentence_ends.shape[0]):
            end = sentence_ends[s]
            if end - start > max_len:
                max_len = end - start
            start = end if end > start else start
        if max_len > INT_MAX:
            raise ValueError("sentence too long")
        worker = Worker(self, <int>max_len)
        try:
            return worker.train_job(words, sentence_ends, alpha0, alpha1, seed)
        finally:
            worker.close()

    def train_file_range(self, TokenIndex index, bytes path, int64_t start, int64_t end,
                         double alpha0, double alpha1, uint64_t seed, int max_sentence,
                         int64_t[::1] progress):
        """:meth:`Worker.train_file_range` with a temporary worker of ``max_sentence``."""
        worker = Worker(self, max_sentence)
        try:
            return worker.train_file_range(index, path, start, end, alpha0, alpha1, seed, progress)
        finally:
            worker.close()

    def debug_train_window(self, const int32_t[::1] sentence, int position, int window,
                           float alpha, uint64_t seed, negatives=None):
        """Train exactly one window (no subsampling, fixed window size) and return
        (noise words drawn, in order, loss) for the kernel tests."""
        return self.debug_train_block(sentence, position, [window], alpha, seed, negatives)

    def debug_train_block(self, const int32_t[::1] sentence, int first, windows,
                          float alpha, uint64_t seed, negatives=None):
        """Train centres first .. first + len(windows) - 1 as one block with the given window
        sizes (no subsampling) and return (noise words drawn, in order, loss) for the tests.
        More than one centre needs skip-gram with batch_window. ``negatives`` (``negative``
        word indices) replaces the block's noise draws, so that another trainer's random
        stream can be replayed (benchmarks/gensim_replay.py); it needs a block that makes
        one objective call (CBOW, or skip-gram with batch_window)."""
        cdef Scratch w
        cdef int n = sentence.shape[0]
        cdef int c, n_centres = len(windows)
        cdef int wins[MAX_COMBINE]
        if not 1 <= n_centres <= self.net.combine:
            raise ValueError(f"a block has 1 to {self.net.combine} centres")
        if negatives is not None:
            negatives = np.asarray(negatives, dtype=np.int64)
            if self.net.ns.negative <= 0 or negatives.shape != (self.net.ns.negative,):
                raise ValueError(f"negatives must be {self.net.ns.negative} word indices")
            if self.net.train_block == skipgram_pairs:
                raise ValueError("injected negatives need one objective call per block")
            if negatives.min() < 0 or negatives.max() >= self.net.V:
                raise ValueError("negative word index out of range")
        if not (0 <= first and first + n_centres <= n):
            raise IndexError("position out of range")
        for c in range(n_centres):
            if not 1 <= windows[c] <= self.net.window:
                raise ValueError("window must be in [1, engine window]")
            wins[c] = windows[c]
        memset(&w, 0, sizeof(Scratch))
        if np.min(sentence) < 0 or np.max(sentence) >= self.net.V:
            raise ValueError("word index out of range")
        self._check_rows(n)
        if scratch_init(&w, &self.net, n, seed) != 0:
            scratch_free(&self.net, &w)
            raise MemoryError()
        w.ns.record = 1
        if negatives is not None:
            for c in range(self.net.ns.negative):
                w.ns.next_negatives[c] = <int32_t>negatives[c]
            w.ns.negatives_ready = 1
        self.net.train_block(&self.net, &w, &sentence[0], n, first, n_centres, wins, alpha,
                             self.net.objective, self.net.lockf)
        negs = [w.ns.drawn[i] for i in range(w.ns.n_drawn)]
        loss = w.loss
        scratch_free(&self.net, &w)
        return negs, loss

    def draw_noise_samples(self, int64_t n, uint64_t seed):
        """n draws from the noise table with the engine's sampler (for the statistics tests)."""
        cdef uint64_t rng = seed
        cdef int64_t i
        if self.net.ns.negative <= 0:
            raise ValueError("engine has no negative sampling")
        out = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] o = out
        with nogil:
            for i in range(n):
                o[i] = draw_noise(&self.net, &rng)
        return out

    def subsample_counts(self, const int32_t[::1] words, int repeats, uint64_t seed):
        """How often each position survives subsampling over ``repeats`` passes (tests)."""
        cdef uint64_t rng = seed
        cdef int r, i
        out = np.zeros(words.shape[0], dtype=np.int64)
        cdef int64_t[::1] o = out
        with nogil:
            for r in range(repeats):
                for i in range(words.shape[0]):
                    if (rng_next(&rng) >> 32) < self.net.keep_threshold[words[i]]:
                        o[i] += 1
        return out


cdef inline double piece_alpha(double alpha0, double alpha1, int64_t consumed,
                              double span) noexcept nogil:
    """A file piece's learning rate once ``consumed`` of its ``span`` bytes are read: one
    expression for reading and replay, which must give the same bits."""
    cdef double frac = consumed / span
    return alpha0 + (alpha1 - alpha0) * (frac if frac < 1 else 1)


@cython.no_gc_clear   # __dealloc__ needs self.engine (its Net) to free the scratch space
cdef class Worker:
    """One thread's training state (:c:type:`Scratch` and the file reader's buffers),
    allocated once and reused by every call; made by :meth:`Engine.worker`.

    Not thread-safe: one worker per thread. Every call starts from its own seed (fresh
    random stream and negatives) and merges the cached hot rows into the shared matrices
    before it returns, so a call trains exactly as a fresh scratch space would.
    """
    cdef Engine engine
    # Its own cache lines, not inside this object: the Workers of one run are allocated
    # together, and a thread's constantly written rng and loss must not share a line with
    # another thread's state.
    cdef Scratch* w
    cdef readonly int max_sentence   # longest sentence (words) a call may pass
    cdef bint ready
    cdef char* buf          # READ_BUFFER_BYTES of file data (train_file_range)
    cdef char* tok          # MAX_TOKEN_BYTES: the tokeniser's carry-over between buffers
    cdef int32_t* pending   # max_sentence + 1 word indices of the sentence being read

    def __cinit__(self, Engine engine, int max_sentence):
        self.engine = engine
        self.ready = 0
        self.w = NULL
        self.buf = self.tok = NULL
        self.pending = NULL
        engine._check_rows(max_sentence)
        self.max_sentence = max_sentence
        self.w = <Scratch*>aligned_malloc(sizeof(Scratch))
        if self.w == NULL:
            raise MemoryError("could not allocate the worker's scratch buffers")
        memset(self.w, 0, sizeof(Scratch))
        self.ready = 1   # from here on close() must free, even after a failed allocation
        self.buf = <char*>malloc(READ_BUFFER_BYTES)
        self.tok = <char*>malloc(MAX_TOKEN_BYTES)
        self.pending = <int32_t*>malloc((<size_t>max_sentence + 1) * sizeof(int32_t))
        if (self.buf == NULL or self.tok == NULL or self.pending == NULL
                or scratch_init(self.w, &engine.net, max_sentence, 0) != 0):
            self.close()
            raise MemoryError("could not allocate the worker's scratch buffers")

    def __dealloc__(self):
        self.close()

    def close(self) -> None:
        """Free the buffers now (after this, calls raise); idempotent."""
        if self.ready:
            scratch_free(&self.engine.net, self.w)
            free(self.w)
            self.w = NULL
            free(self.buf)
            free(self.tok)
            free(self.pending)
            self.buf = self.tok = NULL
            self.pending = NULL
            self.ready = 0

    cdef int _begin(self, uint64_t seed) except -1:
        """Reset the per-call state: as a freshly initialised scratch space with ``seed``."""
        if not self.ready:
            raise ValueError("worker is closed")
        scratch_begin(self.w, seed)
        return 0

    def train_job(self, const int32_t[::1] words, const int64_t[::1] sentence_ends,
                  double alpha0, double alpha1, uint64_t seed):
        """Train one job: concatenated sentences of word indices.

        ``sentence_ends[s]`` is the end offset of sentence s; a sentence longer than the
        worker's max_sentence raises ValueError. Alpha moves linearly from alpha0 to alpha1
        over the job's words. Returns (kept_words, loss_sum, loss_terms) of this call.
        """
        cdef const Net* net = &self.engine.net
        cdef Scratch* w = self.w
        cdef int64_t n_sent = sentence_ends.shape[0]
        cdef int64_t total = words.shape[0]
        cdef int64_t s, start = 0, end, kept = 0
        cdef int64_t max_len = 0
        cdef double a0, a1
        for s in range(n_sent):
            end = sentence_ends[s]
            if end < start or end > total:
                raise ValueError("sentence_ends must be non-decreasing and within the job")
            if end - start > max_len:
                max_len = end - start
            start = end
        if total and (np.min(words) < 0 or np.max(words) >= net.V):
            raise ValueError("word index out of range")
        if max_len > self.max_sentence:
            raise ValueError(f"sentence of {max_len} words exceeds the worker's "
                             f"max_sentence={self.max_sentence}")
        self._begin(seed)
        with nogil:
            start = 0
            for s in range(n_sent):
                if net.stop_flag[0]:
                    break
                end = sentence_ends[s]
                if end > start:
                    a0 = alpha0 + (alpha1 - alpha0) * start / total
                    a1 = alpha0 + (alpha1 - alpha0) * end / total
                    kept += train_sentence(net, w, &words[start], <int>(end - start), a0, a1)
                start = end
            scratch_merge(net, w)
        return kept, w.loss, w.loss_terms

    def train_file_range(self, TokenIndex index, bytes path, int64_t start, int64_t end,
                         double alpha0, double alpha1, uint64_t seed, int64_t[::1] progress,
                         PieceRecord record=None):
        """Read bytes [start, end) of a plain-text corpus and train on it, without the GIL.

        A token belongs to the range its first byte falls in; '\\n' ends a sentence and
        sentences longer than the worker's max_sentence are split. Alpha moves alpha0 ->
        alpha1 by the fraction of the range consumed. Raw words read so far are added to
        ``progress[0]`` and bytes consumed to ``progress[1]``, so one worker's calls
        accumulate in one row. A fresh ``record`` gets the sentences trained, for
        :meth:`train_recorded`. Returns (raw_words, kept_words, loss, loss_terms).
        """
        cdef const Net* net = &self.engine.net
        cdef Scratch* w = self.w
        cdef FILE* f
        cdef Tokenizer t
        cdef Lookahead la
        cdef char* buf = self.buf
        cdef int32_t* pending = self.pending
        cdef int max_sentence = self.max_sentence
        cdef size_t nread
        cdef int64_t raw = 0, kept = 0
        cdef int npend = 0, eof = 0, rc = 0, ev
        cdef bint mid_token = 0
        cdef int32_t idx
        cdef double span = <double>(end - start) if end > start else 1.0
        cdef double alpha
        cdef const char* cpath = path
        cdef int64_t words_before, bytes_before, raw_recorded = 0
        cdef Recording* rec = NULL
        if progress.shape[0] < 2:
            raise ValueError("progress needs two slots")
        if record is not None:
            if record.rec.size or record.whole:
                raise ValueError("a piece is recorded into a fresh PieceRecord")
            rec = &record.rec
        self._begin(seed)
        words_before, bytes_before = progress[0], progress[1]
        la_init(&la, &t, index)
        with nogil:
            f = fopen(cpath, "rb")
            if f == NULL:
                rc = -2
            else:
                if start > 0:
                    # A token straddling `start` belongs to the previous range.
                    fseek(f, start - 1, SEEK_SET)
                    mid_token = fread(buf, 1, 1, f) == 1 and not is_space(<unsigned char>buf[0])
                else:
                    fseek(f, 0, SEEK_SET)
                tok_init(&t, self.tok, start, end, mid_token)
                while not eof:
                    ev = la_next(&la)
                    if ev == TOK_MORE:
                        nread = fread(buf, 1, READ_BUFFER_BYTES, f)
                        if nread > 0:
                            tok_feed(&t, <const unsigned char*>buf, <Py_ssize_t>nread)
                            continue
                        eof = 1
                        ev = la_finish(&la)
                        if ev == TOK_MORE:
                            break
                    if ev == TOK_LIMIT:
                        break
                    if ev == TOK_NEWLINE:
                        if npend == 0:
                            continue
                    else:
                        raw += 1
                        idx = la.word
                        if idx >= 0:
                            pending[npend] = idx
                            npend += 1
                        # a sentence ends at '\n' or at max_sentence words (at the end of
                        # the file, below)
                        if npend < max_sentence or eof:
                            continue
                    alpha = piece_alpha(alpha0, alpha1, la.at - start, span)
                    if rec != NULL:
                        record_sentence(rec, pending, npend, raw - raw_recorded, la.at - start, 0)
                        raw_recorded = raw
                    kept += train_sentence(net, w, pending, npend, alpha, alpha)
                    npend = 0
                    progress[0] = words_before + raw
                    progress[1] = bytes_before + la.at - start
                    if net.stop_flag[0]:
                        break
                if npend > 0 and not net.stop_flag[0]:
                    if rec != NULL:
                        record_sentence(rec, pending, npend, raw - raw_recorded, end - start, 1)
                    kept += train_sentence(net, w, pending, npend, alpha1, alpha1)
                progress[0] = words_before + raw
                progress[1] = bytes_before + end - start
                scratch_merge(net, w)
                fclose(f)
                if rec != NULL:
                    record.finish(raw, end - start, not net.stop_flag[0])
        if rc == -2:
            raise OSError(f"cannot open corpus file {path!r}")
        return raw, kept, w.loss, w.loss_terms

    def train_recorded(self, PieceRecord record not None, double alpha0, double alpha1,
                       uint64_t seed, int64_t[::1] progress):
        """Train on a piece as :meth:`train_file_range` did when it filled ``record``: the
        same sentences, learning rates and progress, without the file (the same weights as
        reading it again). Returns (raw_words, kept_words, loss, loss_terms)."""
        cdef const Net* net = &self.engine.net
        cdef Scratch* w = self.w
        cdef int32_t* pending = self.pending
        cdef const unsigned char* data = record.rec.data
        cdef Py_ssize_t at = 0, size = <Py_ssize_t>record.rec.size
        cdef uint64_t n = 0, raw_since = 0, position = 0, v = 0
        cdef int64_t raw = 0, kept = 0, words_before, bytes_before, consumed
        cdef int64_t piece_bytes = record.rec.piece_bytes
        cdef double span = <double>piece_bytes if piece_bytes > 0 else 1.0
        cdef double alpha
        cdef uint64_t i
        cdef bint ok = 1
        if not record.whole:
            raise ValueError("the piece's record is incomplete")
        if progress.shape[0] < 2:
            raise ValueError("progress needs two slots")
        self._begin(seed)
        words_before, bytes_before = progress[0], progress[1]
        with nogil:
            while at < size and not net.stop_flag[0]:
                at = get_sentence_head(data, at, size, &n, &raw_since, &position)
                if at < 0 or n > <uint64_t>self.max_sentence:
                    ok = 0
                    break
                for i in range(n):
                    at = get_varint(data, at, size, &v)
                    if v >= <uint64_t>net.V:   # another engine's record: its rows are not ours
                        at = -1
                    if at < 0:
                        break
                    pending[i] = <int32_t>v
                if at < 0:
                    ok = 0
                    break
                raw += <int64_t>raw_since
                if position & 1:   # the tail
                    kept += train_sentence(net, w, pending, <int>n, alpha1, alpha1)
                    continue
                consumed = <int64_t>(position >> 1)
                alpha = piece_alpha(alpha0, alpha1, consumed, span)
                kept += train_sentence(net, w, pending, <int>n, alpha, alpha)
                progress[0] = words_before + raw
                progress[1] = bytes_before + consumed
            raw = record.rec.raw
            progress[0] = words_before + raw
            progress[1] = bytes_before + piece_bytes
            scratch_merge(net, w)
        if not ok:
            raise ValueError("the piece's record is malformed, or was made by a worker with a "
                             "longer max_sentence or by another engine")
        return raw, kept, w.loss, w.loss_terms


