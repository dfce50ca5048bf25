# ---------------------------------------------------------------------------------------
# The tokeniser: one streaming state machine for counting (TokenCounter), the iterable
# block path (encode_text) and corpus_file training (Worker.train_file_range)
# ---------------------------------------------------------------------------------------

cdef inline bint is_space(unsigned char c) noexcept nogil:
    # The ASCII characters str.split() treats as whitespace: \t \n \v \f \r, the
    # separators \x1c-\x1f and space. On ASCII text this tokenises exactly as str.split().
    # One bit per character 0..32 (bits 9-13, 28-31, 32): a byte of a token, the common
    # case, costs one compare instead of the five of the plain comparison chain.
    return c <= 32 and ((<uint64_t>0x1F0003E00ULL >> c) & 1) != 0


cdef enum:
    TOK_MORE = 0       # this buffer is used up (a token may continue into the next)
    TOK_WORD = 1       # a token ended: Tokenizer.token, token_len
    TOK_OVERLONG = 2   # a token of more than MAX_TOKEN_BYTES ended: a raw word, never known
    TOK_NEWLINE = 3    # a '\n' byte
    TOK_LIMIT = 4      # the range ends here (see tok_init); reported again on every call

cdef int64_t NO_LIMIT = 0x7FFFFFFFFFFFFFFF


cdef struct Tokenizer:
    # Tokens are maximal runs of non-is_space bytes. A token inside one buffer is reported
    # in place; one that runs into the next buffer is carried over in `carry`.
    const unsigned char* data   # the current buffer (tok_feed)
    Py_ssize_t n
    Py_ssize_t i                # next byte of data to read
    int64_t base                # stream position of data[0]
    int64_t limit               # a token starting, or whitespace, at or after it ends the range
    char* carry                 # MAX_TOKEN_BYTES: the start of a token continued from before
    int carry_len
    bint in_token               # a token runs past the end of the previous buffer
    bint overlong               # ... and is longer than MAX_TOKEN_BYTES
    bint skipping               # ... began before the stream and is not reported
    bint limit_newline          # the '\n' at the limit has been reported
    const char* token           # TOK_WORD: its bytes (in data or carry), valid until the next call
    int token_len
    int64_t at                  # stream position of the byte that ended the token, or of the '\n'


cdef void tok_init(Tokenizer* t, char* carry, int64_t start, int64_t limit,
                   bint mid_token) noexcept nogil:
    """A stream beginning at position ``start``; ``mid_token``: its first bytes finish a
    token that began before it (they are skipped). ``carry`` has MAX_TOKEN_BYTES."""
    memset(t, 0, sizeof(Tokenizer))
    t.carry = carry
    t.base = start
    t.limit = limit
    t.in_token = mid_token
    t.skipping = mid_token


cdef inline void tok_feed(Tokenizer* t, const unsigned char* data, Py_ssize_t n) noexcept nogil:
    """The next buffer of the stream (the previous one must be used up)."""
    t.base += t.n
    t.data = data
    t.n = n
    t.i = 0


cdef inline int tok_carried(Tokenizer* t) noexcept nogil:
    """Report the carried token that just ended."""
    t.in_token = 0
    if t.overlong:
        t.overlong = 0
        return TOK_OVERLONG
    t.token = t.carry
    t.token_len = t.carry_len
    return TOK_WORD


cdef int tok_next(Tokenizer* t) noexcept nogil:
    """The next event of the buffer: TOK_WORD, TOK_OVERLONG, TOK_NEWLINE, TOK_LIMIT, or
    TOK_MORE when it is used up (then tok_feed the next buffer, or tok_finish)."""
    cdef const unsigned char* d = t.data
    cdef Py_ssize_t i = t.i, n = t.n, s
    cdef unsigned char c
    if t.in_token:                       # continue the token carried from the last buffer
        s = i
        while i < n and not is_space(d[i]):
            i += 1
        if not t.skipping and not t.overlong:
            if t.carry_len + (i - s) > MAX_TOKEN_BYTES:
                t.overlong = 1
            else:
                memcpy(t.carry + t.carry_len, d + s, i - s)
                t.carry_len += <int>(i - s)
        t.i = i
        if i == n:
            return TOK_MORE
        if t.skipping:
            t.in_token = 0
            t.skipping = 0
        else:
            t.at = t.base + i
            return tok_carried(t)
    while i < n:
        c = d[i]
        if is_space(c):
            if t.base + i >= t.limit:
                t.i = i
                if c == 10 and not t.limit_newline:
                    t.limit_newline = 1
                    t.at = t.base + i
                    return TOK_NEWLINE
                return TOK_LIMIT
            i += 1
            if c == 10:
                t.i = i
                t.at = t.base + i - 1
                return TOK_NEWLINE
            continue
        if t.base + i >= t.limit:        # a token belongs to the range its first byte is in
            t.i = i
            return TOK_LIMIT
        s = i
        i += 1
        while i < n and not is_space(d[i]):
            i += 1
        t.i = i
        if i == n:                       # it may continue in the next buffer: carry it
            t.in_token = 1
            t.overlong = i - s > MAX_TOKEN_BYTES
            t.carry_len = 0
            if not t.overlong:
                memcpy(t.carry, d + s, i - s)
                t.carry_len = <int>(i - s)
            return TOK_MORE
        t.at = t.base + i
        if i - s > MAX_TOKEN_BYTES:
            return TOK_OVERLONG
        t.token = <const char*>(d + s)
        t.token_len = <int>(i - s)
        return TOK_WORD
    t.i = i
    return TOK_MORE


cdef int tok_finish(Tokenizer* t) noexcept nogil:
    """The stream ended: the token still open (TOK_WORD / TOK_OVERLONG), else TOK_MORE."""
    if not t.in_token:
        return TOK_MORE
    if t.skipping:
        t.in_token = 0
        t.skipping = 0
        return TOK_MORE
    t.at = t.base + t.n
    return tok_carried(t)


def debug_tokenize(pieces, int64_t start=0, int64_t limit=-1, bint mid_token=False):
    """The tokeniser's events over a stream given as consecutive byte pieces (tests):
    ("word", bytes, at), ("overlong", None, at), ("newline", None, at), ("limit", None, -1)."""
    cdef Tokenizer t
    cdef char carry[MAX_TOKEN_BYTES]
    cdef const unsigned char[::1] view
    cdef int ev
    names = {TOK_WORD: "word", TOK_OVERLONG: "overlong", TOK_NEWLINE: "newline"}
    tok_init(&t, carry, start, limit if limit >= 0 else NO_LIMIT, mid_token)
    events = []
    for piece in pieces:
        if len(piece) == 0:
            continue
        view = piece
        tok_feed(&t, &view[0], view.shape[0])
        while True:
            ev = tok_next(&t)
            if ev == TOK_MORE:
                break
            if ev == TOK_LIMIT:
                events.append(("limit", None, -1))
                return events
            events.append((names[ev], t.token[:t.token_len] if ev == TOK_WORD else None, t.at))
        tok_feed(&t, NULL, 0)   # the piece may go: only `carry` survives it
    ev = tok_finish(&t)
    if ev != TOK_MORE:
        events.append((names[ev], t.token[:t.token_len] if ev == TOK_WORD else None, t.at))
    return events


def encode_text(const unsigned char[::1] data, TokenIndex index, int max_sentence,
                bint newline_ends_sentence):
    """Tokenise a block of ASCII text and map tokens to word indices without the GIL.

    Returns (words, sentence_ends, raw_word_count) like :func:`encode_sentences`. With
    ``newline_ends_sentence`` each line is a sentence; sentences longer than
    ``max_sentence`` tokens are split. Unknown tokens (and tokens longer than
    MAX_TOKEN_BYTES) are dropped.
    """
    cdef Py_ssize_t n = data.shape[0]
    cdef int64_t nw = 0, ns = 0, raw = 0, in_sentence = 0
    cdef int32_t idx
    cdef int ev
    cdef Tokenizer t
    cdef Lookahead la
    cdef char carry[MAX_TOKEN_BYTES]
    if max_sentence < 1:
        raise ValueError("max_sentence must be >= 1")
    words = np.empty(n // 2 + 1, dtype=np.int32)
    ends = np.empty(n // 2 + 2, dtype=np.int64)
    cdef int32_t[::1] w = words
    cdef int64_t[::1] e = ends
    if n == 0:
        return words[:0], ends[:0], 0
    la_init(&la, &t, index)
    with nogil:
        tok_init(&t, carry, 0, NO_LIMIT, 0)
        tok_feed(&t, &data[0], n)
        while True:
            ev = la_next(&la)
            if ev == TOK_MORE:
                ev = la_finish(&la)
                if ev == TOK_MORE:
                    break
            if ev == TOK_NEWLINE:
                if newline_ends_sentence and in_sentence > 0:
                    e[ns] = nw
                    ns += 1
                    in_sentence = 0
                continue
            raw += 1
            idx = la.word
            if idx >= 0:
                w[nw] = idx
                nw += 1
                in_sentence += 1
                if in_sentence >= max_sentence:
                    e[ns] = nw
                    ns += 1
                    in_sentence = 0
        if in_sentence > 0:
            e[ns] = nw
            ns += 1
    return words[:nw], ends[:ns], raw


# ---------------------------------------------------------------------------------------
# Token lookup without Python objects (corpus_file mode)
# ---------------------------------------------------------------------------------------

cdef inline uint64_t fnv1a(const char* s, int n) noexcept nogil:
    cdef uint64_t h = <uint64_t>1469598103934665603ULL
    cdef int i
    for i in range(n):
        h = (h ^ <unsigned char>s[i]) * <uint64_t>1099511628211ULL
    return h


cdef struct IndexSlot:
    uint64_t key      # the key's blob offset << KEY_LENGTH_BITS | its byte length
    uint32_t tag      # the hash's high 32 bits: most mismatches end here, without the key
    int32_t word      # -1: empty


cdef struct IndexTable:
    # The slot holds what a probe compares, so a hit costs two cache lines (the slot, the
    # key's bytes), not three (the slot, the key's bounds, its bytes), and a miss one.
    const IndexSlot* slots
    const char* blob
    uint64_t mask


cdef enum:
    KEY_LENGTH_BITS = 24
    LOOKAHEAD = 32      # tokens resolved together, so that their table misses overlap

cdef uint64_t KEY_LENGTH_MASK = (<uint64_t>1 << KEY_LENGTH_BITS) - 1


cdef inline int32_t index_find(const IndexTable* x, const char* s, int n,
                               uint64_t h) noexcept nogil:
    """The word index of the n bytes at s, whose fnv1a hash is h, or -1."""
    cdef uint64_t at = h & x.mask
    cdef uint32_t tag = <uint32_t>(h >> 32)
    cdef const IndexSlot* slot
    while True:
        slot = &x.slots[at]
        if slot.word < 0:
            return -1
        if slot.tag == tag and (slot.key & KEY_LENGTH_MASK) == <uint64_t>n and \
                memcmp(x.blob + (slot.key >> KEY_LENGTH_BITS), s, n) == 0:
            return slot.word
        at = (at + 1) & x.mask


cdef class TokenIndex:
    """An open-addressing hash table from UTF-8 token bytes to word indices, usable
    without the GIL. Keys of 16 MiB or more are left out (``get`` gives -1): the tokeniser
    reports no token longer than MAX_TOKEN_BYTES."""
    cdef bytes _blob
    cdef object _slots          # the numpy buffer holding c.slots
    cdef IndexTable c

    def __init__(self, words):
        words = list(words)
        n = len(words)
        starts, ends = self._pack(words)
        if len(self._blob) >> (64 - KEY_LENGTH_BITS):
            raise ValueError("the vocabulary's keys exceed 1 TiB: they cannot be indexed")
        size = 16
        while 2 * size < 3 * n + 2:   # a load of at most 2/3: 24 to 48 bytes a key
            size *= 2
        self._slots = np.empty(2 * size, dtype=np.uint64)    # 16 bytes a slot, 8-aligned
        cdef uint64_t[::1] raw = self._slots
        self.c.slots = <const IndexSlot*>&raw[0]
        self.c.blob = self._blob
        self.c.mask = size - 1
        self._insert_all(starts, ends, n)

    def _pack(self, words):
        """All keys in one bytes object (self._blob) and their (starts, ends). Keys that are
        all str without a newline take one join and one encode; per-key encoding took ~3 ms
        of a 19k-word vocabulary's index, on the critical path of a corpus_file train()."""
        n = len(words)
        try:
            joined = "\n".join(words)
        except TypeError:  # bytes keys
            joined = None
        if joined is not None:
            self._blob = joined.encode("utf-8", "surrogateescape")
            newlines = np.flatnonzero(np.frombuffer(self._blob, dtype=np.uint8) == 10)
            if newlines.shape[0] == n - 1 or n == 0:
                starts = np.empty(n, dtype=np.int64)
                ends = np.empty(n, dtype=np.int64)
                if n:
                    starts[0] = 0
                    starts[1:] = newlines + 1
                    ends[:-1] = newlines
                    ends[-1] = len(self._blob)
                return starts, ends
        encoded = [w.encode("utf-8", "surrogateescape") if isinstance(w, str) else bytes(w)
                   for w in words]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=n)
        ends = np.cumsum(lengths)
        self._blob = b"".join(encoded)
        return ends - lengths, ends

    cdef void _insert_all(self, const int64_t[::1] starts, const int64_t[::1] ends,
                          int32_t n) noexcept nogil:
        """Insert keys 0 .. n-1, in C (a Python-level loop took ~4 ms of a 19k-word
        vocabulary's index); a duplicate keeps its first index."""
        cdef IndexSlot* slots = <IndexSlot*>self.c.slots
        cdef uint64_t at, h
        cdef int32_t i
        cdef int length
        cdef const char* word
        for at in range(self.c.mask + 1):
            slots[at].word = -1
        for i in range(n):
            word = self.c.blob + starts[i]
            if ends[i] - starts[i] > <int64_t>KEY_LENGTH_MASK:
                continue
            length = <int>(ends[i] - starts[i])
            h = fnv1a(word, length)
            if index_find(&self.c, word, length, h) >= 0:
                continue
            at = h & self.c.mask
            while slots[at].word >= 0:
                at = (at + 1) & self.c.mask
            slots[at].key = (<uint64_t>starts[i] << KEY_LENGTH_BITS) | <uint64_t>length
            slots[at].tag = <uint32_t>(h >> 32)
            slots[at].word = i

    cdef int32_t lookup(self, const char* s, int n) noexcept nogil:
        return index_find(&self.c, s, n, fnv1a(s, n))

    def get(self, token) -> int:
        """Index of a token (str or bytes), or -1."""
        b = token.encode("utf-8", "surrogateescape") if isinstance(token, str) else bytes(token)
        return self.lookup(b, len(b))


cdef struct Lookahead:
    # The tokeniser's events with their words already looked up, LOOKAHEAD at a time: the
    # table misses of a batch overlap instead of each stalling the stream in turn.
    Tokenizer* t
    const IndexTable* index
    int head, count                  # the next queued event; how many are queued
    int32_t word                     # the current event's word index (-1: unknown or not TOK_WORD)
    int64_t at                       # and its Tokenizer.at
    int events[LOOKAHEAD]
    int32_t words[LOOKAHEAD]
    int64_t ats[LOOKAHEAD]
    const char* tokens[LOOKAHEAD]
    int lengths[LOOKAHEAD]
    uint64_t hashes[LOOKAHEAD]


cdef inline void la_init(Lookahead* la, Tokenizer* t, TokenIndex index):
    la.t = t
    la.index = &index.c
    la.head = 0
    la.count = 0


cdef void la_fill(Lookahead* la) noexcept nogil:
    """Queue events up to the buffer's end (TOK_MORE), the range's (TOK_LIMIT), a token
    carried over from the previous buffer or LOOKAHEAD, and look up their words. A token's
    bytes in the buffer stay valid until the buffer is used up; one in the tokeniser's
    carry only until the next tok_next, which may carry the buffer's last token."""
    cdef const IndexTable* x = la.index
    cdef const IndexSlot* slot
    cdef int k, ev
    cdef uint64_t h
    la.head = 0
    la.count = 0
    while la.count < LOOKAHEAD:
        ev = tok_next(la.t)
        k = la.count
        la.count += 1
        la.events[k] = ev
        la.ats[k] = la.t.at
        la.words[k] = -1
        if ev == TOK_WORD:
            h = fnv1a(la.t.token, la.t.token_len)
            la.tokens[k] = la.t.token
            la.lengths[k] = la.t.token_len
            la.hashes[k] = h
            prefetch_read(&x.slots[h & x.mask])
            if la.t.token == la.t.carry:
                break
        elif ev == TOK_MORE or ev == TOK_LIMIT:
            break
    for k in range(la.count):            # the first slots are on their way: their keys next
        if la.events[k] == TOK_WORD:
            slot = &x.slots[la.hashes[k] & x.mask]
            if slot.word >= 0:
                prefetch_read(x.blob + (slot.key >> KEY_LENGTH_BITS))
    for k in range(la.count):
        if la.events[k] == TOK_WORD:
            la.words[k] = index_find(x, la.tokens[k], la.lengths[k], la.hashes[k])


cdef inline int la_next(Lookahead* la) noexcept nogil:
    """tok_next with the word looked up: la.word, la.at."""
    cdef int k
    if la.head == la.count:
        la_fill(la)
    k = la.head
    la.head += 1
    la.word = la.words[k]
    la.at = la.ats[k]
    return la.events[k]


cdef inline int la_finish(Lookahead* la) noexcept nogil:
    """tok_finish with the word looked up (after la_next gave TOK_MORE)."""
    cdef int ev = tok_finish(la.t)
    la.word = -1
    la.at = la.t.at
    if ev == TOK_WORD:
        la.word = index_find(la.index, la.t.token, la.t.token_len,
                             fnv1a(la.t.token, la.t.token_len))
    return ev


# ---------------------------------------------------------------------------------------
# Token counting without Python objects (the vocabulary scan of corpus_file mode)
# ---------------------------------------------------------------------------------------

cdef inline int grow(void** p, size_t size) noexcept nogil:
    """realloc *p to ``size`` bytes; -1 (and *p unchanged) if out of memory."""
    cdef void* q = realloc(p[0], size)
    if q == NULL:
        return -1
    p[0] = q
    return 0


cdef class TokenCounter:
    """Counts the tokens of a byte stream, split by the engine's tokeniser, in C.

    ``add(data)`` continues the stream (a token may straddle two calls); ``finish()`` ends
    it. ``items()`` gives (token bytes, count) in first-seen order, ``prune(min_reduce)``
    drops every token seen at most ``min_reduce`` times (word2vec.c's ReduceVocab; a
    dropped token seen again counts from 1, as new). ``total_words`` counts every token,
    including those longer than MAX_TOKEN_BYTES, which are never keys; ``total_lines``
    counts '\\n' bytes.
    """
    cdef Tokenizer t
    cdef char* carry
    cdef char* arena          # the keys' bytes, back to back, in first-seen order
    cdef int64_t arena_len, arena_cap
    cdef int64_t* offsets     # per key: start in arena
    cdef int32_t* lengths
    cdef int64_t* counts
    cdef uint64_t* hashes
    cdef int64_t n_keys, keys_cap
    cdef int64_t* slots       # open addressing: key index or -1
    cdef uint64_t mask
    cdef readonly int64_t total_words
    cdef readonly int64_t total_lines

    def __cinit__(self):
        self.carry = <char*>malloc(MAX_TOKEN_BYTES)
        self.arena_cap = 1 << 16
        self.arena = <char*>malloc(self.arena_cap)
        self.keys_cap = 1 << 10
        self.offsets = <int64_t*>malloc(self.keys_cap * sizeof(int64_t))
        self.lengths = <int32_t*>malloc(self.keys_cap * sizeof(int32_t))
        self.counts = <int64_t*>malloc(self.keys_cap * sizeof(int64_t))
        self.hashes = <uint64_t*>malloc(self.keys_cap * sizeof(uint64_t))
        self.slots = NULL
        if (self.carry == NULL or self.arena == NULL or self.offsets == NULL or self.lengths == NULL
                or self.counts == NULL or self.hashes == NULL or self._rehash(1 << 11) != 0):
            raise MemoryError()
        tok_init(&self.t, self.carry, 0, NO_LIMIT, 0)

    def __dealloc__(self):
        free(self.carry)
        free(self.arena)
        free(self.offsets)
        free(self.lengths)
        free(self.counts)
        free(self.hashes)
        free(self.slots)

    cdef int _rehash(self, uint64_t size) noexcept nogil:
        """A table of ``size`` (a power of two) slots holding every key."""
        cdef int64_t* slots = <int64_t*>malloc(size * sizeof(int64_t))
        cdef int64_t k
        cdef uint64_t h
        if slots == NULL:
            return -1
        memset(slots, 0xFF, size * sizeof(int64_t))   # all -1
        for k in range(self.n_keys):
            h = self.hashes[k] & (size - 1)
            while slots[h] >= 0:
                h = (h + 1) & (size - 1)
            slots[h] = k
        free(self.slots)
        self.slots = slots
        self.mask = size - 1
        return 0

    cdef int _count(self, const char* s, int n) noexcept nogil:
        """Count one occurrence of token s[:n]; -1 if out of memory."""
        cdef uint64_t full = fnv1a(s, n)
        cdef uint64_t h = full & self.mask
        cdef int64_t k, cap
        while True:
            k = self.slots[h]
            if k < 0:
                break
            if self.hashes[k] == full and self.lengths[k] == n and \
                    memcmp(self.arena + self.offsets[k], s, n) == 0:
                self.counts[k] += 1
                return 0
            h = (h + 1) & self.mask
        if self.arena_len + n > self.arena_cap:
            cap = self.arena_cap
            while self.arena_len + n > cap:
                cap *= 2
            if grow(<void**>&self.arena, cap) != 0:
                return -1
            self.arena_cap = cap
        if self.n_keys == self.keys_cap:
            cap = 2 * self.keys_cap
            if (grow(<void**>&self.offsets, cap * sizeof(int64_t)) != 0
                    or grow(<void**>&self.lengths, cap * sizeof(int32_t)) != 0
                    or grow(<void**>&self.counts, cap * sizeof(int64_t)) != 0
                    or grow(<void**>&self.hashes, cap * sizeof(uint64_t)) != 0):
                return -1
            self.keys_cap = cap
        k = self.n_keys
        memcpy(self.arena + self.arena_len, s, n)
        self.offsets[k] = self.arena_len
        self.lengths[k] = n
        self.counts[k] = 1
        self.hashes[k] = full
        self.arena_len += n
        self.n_keys += 1
        self.slots[h] = k
        if 2 * <uint64_t>self.n_keys > self.mask:   # keep the load below 1/2
            return self._rehash(2 * (self.mask + 1))
        return 0

    cdef int _event(self, int ev) noexcept nogil:
        if ev == TOK_NEWLINE:
            self.total_lines += 1
            return 0
        self.total_words += 1
        if ev == TOK_WORD:
            return self._count(self.t.token, self.t.token_len)
        return 0

    def add(self, const unsigned char[::1] data) -> None:
        """Count the tokens of the next piece of the stream."""
        cdef Py_ssize_t n = data.shape[0]
        cdef int ev, rc = 0
        if n == 0:
            return
        with nogil:
            tok_feed(&self.t, &data[0], n)
            while rc == 0:
                ev = tok_next(&self.t)
                if ev == TOK_MORE:
                    break
                rc = self._event(ev)
            # the buffer is the caller's: a token running past it is in carry, not data
            tok_feed(&self.t, NULL, 0)
        if rc != 0:
            raise MemoryError("out of memory while counting tokens")

    def finish(self) -> None:
        """End the stream: count the token still open."""
        cdef int ev = tok_finish(&self.t)
        if ev != TOK_MORE and self._event(ev) != 0:
            raise MemoryError("out of memory while counting tokens")

    def prune(self, int64_t min_reduce) -> int:
        """Drop every key counted at most ``min_reduce`` times; returns how many."""
        cdef int64_t k, kept = 0, pos = 0, before = self.n_keys
        with nogil:
            for k in range(self.n_keys):
                if self.counts[k] <= min_reduce:
                    continue
                memmove(self.arena + pos, self.arena + self.offsets[k], self.lengths[k])
                self.offsets[kept] = pos
                self.lengths[kept] = self.lengths[k]
                self.counts[kept] = self.counts[k]
                self.hashes[kept] = self.hashes[k]
                pos += self.lengths[k]
                kept += 1
            self.n_keys = kept
            self.arena_len = pos
            if self._rehash(self.mask + 1) != 0:
                with gil:
                    raise MemoryError()
        return before - kept

    def __len__(self) -> int:
        return self.n_keys

    def items(self) -> list:
        """(token bytes, count) for every key, in first-seen order."""
        return [(self.arena[self.offsets[k]:self.offsets[k] + self.lengths[k]], self.counts[k])
                for k in range(self.n_keys)]


# ---------------------------------------------------------------------------------------
# Corpus encoding for the iterable path (holds the GIL, but no per-token Python frames)
# ---------------------------------------------------------------------------------------

def encode_sentences(list sentences, dict key_to_index):
    """Map token lists to one int32 array of known-word indices plus sentence end offsets.

    Returns (words, sentence_ends, raw_word_count). Unknown tokens are dropped.
    Raises TypeError for a sentence that is a str/bytes rather than a list of tokens.
    """
    cdef int64_t total = 0, n = 0, s = 0, raw = 0, cap
    cdef PyObject* hit
    for sent in sentences:
        if isinstance(sent, (str, bytes)):
            raise TypeError(
                "each sentence must be a list of tokens (str), got a "
                f"{type(sent).__name__}: {str(sent)[:40]!r}; split it first, e.g. text.split()")
        total += len(sent)
    # len() only sizes the first guess: what is copied is counted, so a sentence whose
    # __len__ under-reports cannot write past the buffer
    cap = total if total > 0 else 16
    words = np.empty(cap, dtype=np.int32)
    ends = np.empty(len(sentences), dtype=np.int64)
    cdef int32_t[::1] w = words
    cdef int64_t[::1] e = ends
    for sent in sentences:
        for tok in sent:
            raw += 1
            hit = PyDict_GetItem(key_to_index, tok)
            if hit != NULL:
                if n == cap:
                    cap *= 2
                    grown = np.empty(cap, dtype=np.int32)
                    grown[:n] = words[:n]
                    words = grown
                    w = words
                w[n] = <int32_t><object>hit
                n += 1
        if s == e.shape[0]:
            raise RuntimeError("the list of sentences changed while it was encoded")
        e[s] = n
        s += 1
    return words[:n], ends[:s], raw


# ---------------------------------------------------------------------------------------
# Packed jobs: an encoded job kept between epochs (training.CorpusCache)
#
# Word indices are varints (7 bits a byte, low bits first, the high bit set on every byte
# but the last). A frequency-sorted vocabulary gives the common words the small indices,
# so a word takes 1-2 bytes on average (int32: 4). Layout: n_words, n_sentences, the
# words, then each sentence's length, all varints.
# ---------------------------------------------------------------------------------------

cdef inline Py_ssize_t put_varint(unsigned char* out, Py_ssize_t at, uint64_t v) noexcept nogil:
    while v >= 0x80:
        out[at] = <unsigned char>(v & 0x7F) | 0x80
        at += 1
        v >>= 7
    out[at] = <unsigned char>v
    return at + 1


cdef inline Py_ssize_t get_varint(const unsigned char* data, Py_ssize_t at, Py_ssize_t n,
                                  uint64_t* v) noexcept nogil:
    """Read one varint at data[at]; returns the next position, or -1 if it runs past n or
    past 64 bits."""
    cdef uint64_t x = 0
    cdef int shift = 0
    cdef unsigned char b
    while at < n and shift < 64:
        b = data[at]
        at += 1
        x |= <uint64_t>(b & 0x7F) << shift
        if b < 0x80:
            v[0] = x
            return at
        shift += 7
    return -1


def pack_job(const int32_t[::1] words, const int64_t[::1] sentence_ends) -> bytes:
    """One job's (words, sentence_ends) as bytes for :func:`unpack_job`. Word indices must
    be >= 0 and the ends non-decreasing offsets into ``words`` (ValueError otherwise)."""
    cdef Py_ssize_t nw = words.shape[0], ns = sentence_ends.shape[0], i, at = 0
    cdef int64_t prev = 0
    cdef unsigned char* out
    for i in range(nw):
        if words[i] < 0:
            raise ValueError(f"word index {words[i]} at {i} is negative")
    for i in range(ns):
        if sentence_ends[i] < prev or sentence_ends[i] > nw:
            raise ValueError(f"sentence end {sentence_ends[i]} at {i} is out of order or past the words")
        prev = sentence_ends[i]
    buf = bytearray(10 * 2 + 5 * nw + 10 * ns)   # varints: 10 bytes for 64 bits, 5 for 31
    out = buf
    prev = 0
    with nogil:
        at = put_varint(out, at, <uint64_t>nw)
        at = put_varint(out, at, <uint64_t>ns)
        for i in range(nw):
            at = put_varint(out, at, <uint64_t>words[i])
        for i in range(ns):
            at = put_varint(out, at, <uint64_t>(sentence_ends[i] - prev))
            prev = sentence_ends[i]
    return bytes(memoryview(buf)[:at])   # one copy (a bytearray slice would be a second)


def unpack_job(const unsigned char[::1] data):
    """(words int32, sentence_ends int64) from :func:`pack_job`'s bytes; ValueError if they
    are truncated or malformed (nothing is read past their end)."""
    cdef Py_ssize_t n = data.shape[0], at = 0, i
    cdef uint64_t nw = 0, ns = 0, v = 0
    cdef int64_t end = 0
    cdef const unsigned char* p = &data[0] if n > 0 else NULL
    at = get_varint(p, at, n, &nw)
    if at >= 0:
        at = get_varint(p, at, n, &ns)
    # every varint takes at least a byte: counts beyond the bytes left are malformed
    if at < 0 or nw > <uint64_t>(n - at) or ns > <uint64_t>(n - at) - nw:
        raise ValueError("packed job is truncated or malformed")
    words = np.empty(nw, dtype=np.int32)
    ends = np.empty(ns, dtype=np.int64)
    cdef int32_t[::1] w = words
    cdef int64_t[::1] e = ends
    cdef bint ok = 1
    with nogil:
        for i in range(<Py_ssize_t>nw):
            at = get_varint(p, at, n, &v)
            if at < 0 or v > 0x7FFFFFFF:
                ok = 0
                break
            w[i] = <int32_t>v
        if ok:
            for i in range(<Py_ssize_t>ns):
                at = get_varint(p, at, n, &v)
                if at < 0 or v > nw - <uint64_t>end:
                    ok = 0
                    break
                end += <int64_t>v
                e[i] = end
    if not ok or at != n:
        raise ValueError("packed job is truncated or malformed")
    return words, ends


# ---------------------------------------------------------------------------------------
# Recorded file pieces: what a corpus_file worker trained on, kept between epochs
# (training.FileCache)
#
# Per trained sentence, varints: its word count n, the raw words read since the previous
# sentence, twice the bytes of the piece consumed when it ended (plus 1 for the piece's
# tail, which trains at the piece's last learning rate), then its n word indices. A replay
# trains the same sentences at the learning rates the reading would have given them.
# ---------------------------------------------------------------------------------------

cdef struct Recording:
    unsigned char* data
    size_t size, cap
    int64_t raw           # the piece's raw words (known or not), set when it is complete
    int64_t piece_bytes   # its length in the file (its learning rates' span)
    int failed            # out of memory: what was recorded is of no use


cdef int record_sentence(Recording* r, const int32_t* words, int n, int64_t raw_since,
                         int64_t consumed, bint tail) noexcept nogil:
    """Append one sentence; -1 (and r.failed) if memory ran out."""
    cdef size_t need = r.size + 30 + 5 * <size_t>n   # three 64-bit varints, n 31-bit ones
    cdef size_t cap = r.cap if r.cap else 1 << 16
    cdef int i
    if r.failed:
        return -1
    if need > r.cap:
        while cap < need:
            cap *= 2
        if grow(<void**>&r.data, cap) != 0:
            r.failed = 1
            return -1
        r.cap = cap
    r.size = put_varint(r.data, r.size, <uint64_t>n)
    r.size = put_varint(r.data, r.size, <uint64_t>raw_since)
    r.size = put_varint(r.data, r.size, 2 * <uint64_t>consumed + tail)
    for i in range(n):
        r.size = put_varint(r.data, r.size, <uint64_t>words[i])
    return 0


cdef inline Py_ssize_t get_sentence_head(const unsigned char* data, Py_ssize_t at,
                                         Py_ssize_t size, uint64_t* n, uint64_t* raw_since,
                                         uint64_t* position) noexcept nogil:
    """Read what record_sentence wrote before the words; the words' position, or -1."""
    at = get_varint(data, at, size, n)
    if at >= 0:
        at = get_varint(data, at, size, raw_since)
    if at >= 0:
        at = get_varint(data, at, size, position)
    return at


cdef class PieceRecord:
    """One piece of a corpus file as a worker trained on it (see above); filled by
    ``Worker.train_file_range(..., record)`` and replayed by ``Worker.train_recorded``."""
    cdef Recording rec
    cdef bint whole      # the reading ran to the piece's end (not stopped, memory held)

    def __dealloc__(self):
        free(self.rec.data)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self.rec.cap

    @property
    def complete(self) -> bool:
        """Whether it holds the whole piece (a replay of anything less is refused)."""
        return self.whole

    def sentences(self) -> list:
        """What was recorded, for tests: per sentence (its word indices, the raw words read
        since the previous one, the bytes of the piece consumed when it ended, whether it
        is the piece's tail)."""
        cdef Py_ssize_t at = 0, size = <Py_ssize_t>self.rec.size
        cdef uint64_t n, raw_since, position, v, i
        out = []
        while at < size:
            at = get_sentence_head(self.rec.data, at, size, &n, &raw_since, &position)
            words = []
            for i in range(n):
                if at < 0:
                    break
                at = get_varint(self.rec.data, at, size, &v)
                words.append(v)
            if at < 0:
                raise ValueError("the record is malformed")
            out.append((words, raw_since, position >> 1, bool(position & 1)))
        return out

    cdef void finish(self, int64_t raw, int64_t piece_bytes, bint ran_to_end) noexcept nogil:
        self.rec.raw = raw
        self.rec.piece_bytes = piece_bytes
        self.whole = ran_to_end and not self.rec.failed
        if self.whole and self.rec.size and grow(<void**>&self.rec.data, self.rec.size) == 0:
            self.rec.cap = self.rec.size   # a piece is recorded once and read every epoch


# ---------------------------------------------------------------------------------------
# Huffman tree
# ---------------------------------------------------------------------------------------

def build_huffman(const int64_t[::1] counts, int max_code_length=MAX_CODE_LEN):
    """Huffman codes for hierarchical softmax from word counts, in O(V log V).

    Returns (offsets, codes, points): word w's path is [offsets[w], offsets[w+1]), listed
    root first; points are inner-node indices in [0, V-2] (rows of syn1) and codes the
    branch bits (1 = the heavier child). V = 1 gives an empty path.
    """
    cdef int64_t V = counts.shape[0]
    cdef int64_t i, a, b, leaf, node, inner, total, k, nxt_leaf, nxt_inner, n_inner
    if V < 1:
        raise ValueError("Huffman tree needs at least one word")
    if np.any(np.asarray(counts) < 0):
        raise ValueError("counts must be non-negative")
    if sum(int(c) for c in np.asarray(counts)[np.asarray(counts) > 0]) >= 2 ** 62:
        raise ValueError("total count too large for the Huffman tree (>= 2**62)")
    order_np = np.argsort(np.asarray(counts), kind="stable").astype(np.int64)   # ascending
    cdef int64_t[::1] order = order_np
    # nodes 0..V-1 are leaves (word ids), V..2V-2 inner nodes in creation order
    weight_np = np.zeros(2 * V, dtype=np.int64)
    parent_np = np.full(2 * V, -1, dtype=np.int64)
    bit_np = np.zeros(2 * V, dtype=np.uint8)
    depth_np = np.zeros(2 * V, dtype=np.int64)
    cdef int64_t[::1] weight = weight_np
    cdef int64_t[::1] parent = parent_np
    cdef uint8_t[::1] bit = bit_np
    cdef int64_t[::1] depth = depth_np
    cdef int64_t pick[2]
    for i in range(V):
        weight[i] = counts[i]
    with nogil:
        # Two-queue merge: leaves in ascending order, inner nodes created in ascending order.
        nxt_leaf = 0
        nxt_inner = V
        for inner in range(V, 2 * V - 1):
            for k in range(2):
                if nxt_leaf < V and (nxt_inner >= inner or weight[order[nxt_leaf]] <= weight[nxt_inner]):
                    pick[k] = order[nxt_leaf]
                    nxt_leaf += 1
                else:
                    pick[k] = nxt_inner
                    nxt_inner += 1
            weight[inner] = weight[pick[0]] + weight[pick[1]]
            parent[pick[0]] = inner
            parent[pick[1]] = inner
            bit[pick[1]] = 1
        # depth, top-down: parents are created after their children
        for node in range(2 * V - 3, -1, -1):
            depth[node] = depth[parent[node]] + 1
    lengths = depth_np[:V]
    max_len = int(lengths.max()) if V > 1 else 0
    if max_len > max_code_length:
        raise ValueError(f"Huffman code of length {max_len} exceeds the bound "
                         f"{max_code_length}: the counts are too skewed (Fibonacci-like)")
    offsets_np = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets_np[1:])
    total = offsets_np[V]
    codes_np = np.zeros(total, dtype=np.uint8)
    points_np = np.zeros(total, dtype=np.int32)
    cdef int64_t[::1] offsets = offsets_np
    cdef uint8_t[::1] codes = codes_np
    cdef int32_t[::1] points = points_np
    with nogil:
        for leaf in range(V):
            k = offsets[leaf + 1] - 1   # fill from the leaf upwards, so root ends first
            node = leaf
            while parent[node] >= 0:
                codes[k] = bit[node]
                points[k] = <int32_t>(parent[node] - V)
                node = parent[node]
                k -= 1
    return offsets_np, codes_np, points_np
