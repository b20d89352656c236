/* match: normalisation of text for keyword matching (generated Unicode
 * tables in match_tables.h) and an Aho-Corasick automaton over the bytes of
 * normalised UTF-8, compiled to a DFA over byte classes. Knows nothing of
 * rules or mail; no I/O, no logging, no state outside struct matcher. */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "match_tables.h"
#include "text.h"

/* Limits of the compiled automaton (bounds.h holds the limits on input;
 * these follow from the design). States are uint16_t, so at most 65,535
 * of them; the transition table (states x 2^shift classes x 2 bytes) may
 * take at most MATCH_MAX_TABLE bytes, a quarter of the daemon's 32 MB
 * budget. 2,000 realistic keywords (half English words and phrases, half
 * Chinese words) need about 13,000 states and 64 classes: 1.7 MB. */
#define MATCH_MAX_STATES 65535u
#define MATCH_MAX_TABLE (8u * 1024 * 1024)
/* Keywords longer than this are refused by match_compile(). */
/* Largest id + 1 (match.h: ids < 1,000,000). */
#define MATCH_MAX_IDS 1000000u

/* match_scan_bits() runs this many walks of the automaton over equal
 * parts of a text at once, interleaved, so that their table look-ups
 * overlap instead of waiting for each other (the table of a large keyword
 * set does not fit the L1 cache), when each part is at least
 * MATCH_STREAM_MIN and 4 keyword lengths long. */
#define MATCH_STREAMS 8
#define MATCH_STREAM_MIN 4096u
/* Bytes per stream whose states are kept before accepting ones are
 * handled. */
#define SCAN_BLOCK 64

#define REPLACEMENT 0xFFFDu

/* Boundary flags of an accepting state's keyword. */
enum match_flags {
	MATCH_WORD_START = 1 << 0, /* first code point is a word character */
	MATCH_WORD_END = 1 << 1,   /* last code point is a word character */
};

/* A keyword as added: its bytes are kw_data[off..off+len). */
struct match_kw {
	size_t off, len;
	unsigned id;
	int prefix; /* no word boundary needed after it */
};

/* What an accepting state reports: the ids of the keyword ending there
 * (ids[first..first+count)), its length and flags, and the next accepting
 * state along the failure chain (0: none; the root never accepts). */
struct match_acc {
	uint32_t first;
	uint32_t count;
	uint32_t len;
	uint16_t link;
	uint8_t flags;
};

struct matcher {
	/* Collected by match_add(), freed by match_compile(). */
	char *kw_data;
	size_t kw_len, kw_cap;
	struct match_kw *kws;
	size_t nkw, kw_alloc;
	size_t nids; /* largest id + 1 */
	int compiled;

	/* The automaton: next state = table[(s << shift) | cls[byte]]. States
	 * >= acc_min accept; acc[s - acc_min] says what. */
	uint8_t cls[256];
	unsigned nclasses;
	unsigned shift;
	uint16_t *table;
	size_t nstates;
	size_t acc_min;
	size_t max_len;	       /* of the keywords: the depth of the trie */
	struct match_acc *acc; /* nstates - acc_min entries */
	uint32_t *ids;	       /* ids of all accepting states */
	size_t nout;
};

/* ------------------------------------------------------ character tests */

static unsigned fold_cp(unsigned cp)
{
	size_t lo = 0, hi = ARRAY_SIZE(match_fold_astral);

	if (cp <= 0xFFFF) {
		unsigned v =
		    match_fold_stage2[match_fold_stage1[cp >> 8]][cp & 0xFF];
		if (v != 0xFFFF)
			return v ? v : cp;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (match_fold_astral[mid][0] == cp)
			return match_fold_astral[mid][1];
		if (match_fold_astral[mid][0] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

int match_is_word_cp(unsigned cp)
{
	size_t lo = 0, hi = ARRAY_SIZE(match_word_ranges);

	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < match_word_ranges[mid][0])
			hi = mid;
		else if (cp > match_word_ranges[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* The code point that ends just before t[i] (i > 0): step back over at
 * most three continuation bytes. */
static unsigned cp_before(const unsigned char *t, size_t i)
{
	size_t j = i - 1;
	unsigned cp;

	while (j > 0 && i - j < 4 && (t[j] & 0xC0) == 0x80)
		j--;
	if (text_utf8_decode((const char *)t + j, i - j, &cp) != i - j)
		return REPLACEMENT;
	return cp;
}

static int word_before(const unsigned char *t, size_t i)
{
	if (i == 0)
		return 0;
	if (t[i - 1] < 0x80)
		return match_is_word_cp(t[i - 1]);
	return match_is_word_cp(cp_before(t, i));
}

static int word_at(const unsigned char *t, size_t n, size_t i)
{
	unsigned cp;

	if (i >= n)
		return 0;
	if (t[i] < 0x80)
		return match_is_word_cp(t[i]);
	text_utf8_decode((const char *)t + i, n - i, &cp);
	return match_is_word_cp(cp);
}

/* -------------------------------------------------------- normalisation */

/* Fold the ASCII bytes p[0..k) onto the end of out. Each byte gives at
 * most one byte, so they are appended as they are and folded in place:
 * lower case, NUL dropped, white space collapsed into the ' ' already
 * written (none at out[start]). */
static int fold_ascii(struct buf *out, size_t start, const char *p, size_t k)
{
	size_t r, w, end;
	int full = 0;
	unsigned char *d;
	unsigned prev_space;

	if (buf_add(out, p, k) < 0) {
		/* Keep the prefix that fits. */
		k = out->max > out->len ? out->max - out->len : 0;
		if (k == 0 || buf_add(out, p, k) < 0)
			return -1;
		full = 1;
	}
	d = (unsigned char *)out->data;
	w = r = out->len - k;
	end = out->len;
	prev_space = w == start || d[w - 1] == ' ';
	/* Arithmetic, not branches: spaces come too irregularly for a
	 * branch to be predicted. */
	for (; r < end; r++) {
		unsigned c = match_ascii_fold[d[r]];
		unsigned space = c == ' ';
		unsigned keep = (c != 0) & ~(space & prev_space);

		d[w] = (unsigned char)c;
		w += keep;
		prev_space = (prev_space & ~keep) | (space & keep);
	}
	buf_truncate(out, w);
	return full ? -1 : 0;
}

/* Append the valid UTF-8 p[0..k) unchanged. */
static int copy_run(struct buf *out, const char *p, size_t k)
{
	if (k == 0)
		return 0;
	return text_append_utf8(out, p, k);
}

int match_normalize(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = out->len, i = 0;
	int r = -1;

	while (i < n) {
		size_t j = i, run;
		uint64_t w8;

		/* The ASCII run, 8 bytes at a time. */
		while (j + 8 <= n) {
			memcpy(&w8, u + j, 8);
			if (w8 & 0x8080808080808080ull)
				break;
			j += 8;
		}
		while (j < n && u[j] < 0x80)
			j++;
		if (j > i && fold_ascii(out, start, s + i, j - i) < 0)
			goto out;
		/* Non-ASCII: unchanged characters are copied in runs. */
		i = run = j;
		while (i < n && u[i] >= 0x80) {
			unsigned cp, to = 0;
			size_t k = text_utf8_decode(s + i, n - i, &cp);
			char enc[4];

			if (k > 1 && (to = fold_cp(cp)) == cp) {
				i += k;
				continue;
			}
			if (copy_run(out, s + run, i - run) < 0)
				goto out;
			if (k == 1) {
				/* Invalid: U+FFFD per maximal subpart, as
				 * text_utf8_repair() does. */
				size_t e = i + 1;

				while (e < n && u[e] >= 0x80 &&
				       text_utf8_decode(s + e, n - e, &cp) == 1)
					e++;
				if (text_utf8_repair(s + i, e - i, out) < 0)
					goto out;
				i = run = e;
				continue;
			}
			i += k;
			run = i;
			if (to == ' ') {
				if (out->len > start &&
				    out->data[out->len - 1] != ' ' &&
				    buf_addc(out, ' ') < 0)
					goto out;
				continue;
			}
			if (buf_add(out, enc, text_utf8_encode(to, enc)) < 0)
				goto out;
		}
		if (copy_run(out, s + run, i - run) < 0)
			goto out;
	}
	r = 0;
out:
	if (out->len > start && out->data[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
	return r;
}

/* -------------------------------------------------------------- matcher */

struct matcher *match_new(void)
{
	return xcalloc(1, sizeof(struct matcher));
}

static void drop_keywords(struct matcher *m)
{
	free(m->kw_data);
	free(m->kws);
	m->kw_data = NULL;
	m->kws = NULL;
	m->kw_len = m->kw_cap = m->nkw = m->kw_alloc = 0;
}

void match_free(struct matcher **mp)
{
	struct matcher *m = *mp;

	if (!m)
		return;
	drop_keywords(m);
	free(m->table);
	free(m->acc);
	free(m->ids);
	free(m);
	*mp = NULL;
}

static void add_kw(struct matcher *m, const char *kw, size_t len, unsigned id,
		   int prefix)
{
	struct match_kw *k;

	assert(!m->compiled);
	assert(len > 0);
	assert(id < MATCH_MAX_IDS);
	if (m->kw_len + len > m->kw_cap) {
		size_t cap = m->kw_cap ? m->kw_cap : 1024;

		while (cap < m->kw_len + len)
			cap *= 2;
		m->kw_data = xrealloc(m->kw_data, cap);
		m->kw_cap = cap;
	}
	memcpy(m->kw_data + m->kw_len, kw, len);
	if (m->nkw == m->kw_alloc) {
		m->kw_alloc = m->kw_alloc ? 2 * m->kw_alloc : 64;
		m->kws = xreallocarray(m->kws, m->kw_alloc, sizeof(*m->kws));
	}
	k = &m->kws[m->nkw++];
	k->off = m->kw_len;
	k->len = len;
	k->id = id;
	k->prefix = prefix;
	m->kw_len += len;
	if (id + 1 > m->nids)
		m->nids = id + 1;
}

void match_add(struct matcher *m, const char *kw, size_t len, unsigned id)
{
	add_kw(m, kw, len, id, 0);
}

void match_add_prefix(struct matcher *m, const char *kw, size_t len,
		      unsigned id)
{
	add_kw(m, kw, len, id, 1);
}

static unsigned kw_flags(const char *kw, size_t len)
{
	const unsigned char *u = (const unsigned char *)kw;
	unsigned flags = 0, cp;

	text_utf8_decode(kw, len, &cp);
	if (match_is_word_cp(cp))
		flags |= MATCH_WORD_START;
	if (match_is_word_cp(u[len - 1] < 0x80 ? u[len - 1]
					       : cp_before(u, len)))
		flags |= MATCH_WORD_END;
	return flags;
}

/* A keyword's terminal state in the trie (sorted by state, then id, to
 * drop repeated pairs). */
struct term {
	uint32_t state;
	uint32_t id;
	uint32_t kw;
};

static int term_cmp(const void *a, const void *b)
{
	const struct term *x = a, *y = b;

	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->kw < y->kw ? -1 : x->kw > y->kw;
}

/* The automaton under construction. States 1-3 are the "mid-character
 * roots": no keyword prefix seen, 1-3 continuation bytes still to come. */
#define MID_ROOTS 3

struct build {
	uint16_t *trie; /* rows of 2^shift entries */
	size_t nstates, alloc, max_states;
	unsigned nclass_a;
	uint8_t lead_rem[256]; /* boundary class -> continuation bytes */
	uint16_t *fail, *link, *queue, *renum;
	uint8_t *own;  /* a keyword ends here */
	uint8_t *done; /* row moved (renumbering) */
	uint16_t *row;
	struct term *terms;
};

static void build_release(struct build *b)
{
	free(b->trie);
	free(b->fail);
	free(b->link);
	free(b->queue);
	free(b->renum);
	free(b->own);
	free(b->terms);
	free(b->done);
	free(b->row);
}

/* Continuation bytes that follow a lead byte. */
static unsigned lead_rem(unsigned byte)
{
	return byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : 1;
}

/* Byte classes. Normalised text is valid UTF-8, so every state knows
 * whether the next byte starts a character (ASCII or lead byte) or
 * continues one, and the two kinds of byte can share class numbers:
 * boundary classes are 0 (bytes in no keyword, invalid bytes), one per
 * ASCII or lead byte in a keyword, and one per length for lead bytes in no
 * keyword; continuation classes are one per byte in a keyword, plus 0 for
 * the others unless all 64 occur. With CJK keywords that halves the rows
 * (64 classes instead of ~110). */
static int assign_classes(struct matcher *m, struct build *b, struct xerr *err)
{
	unsigned char used[256] = {0};
	unsigned na = 1, nb = 0, unused_lead[4], c;

	for (size_t i = 0; i < m->nkw; i++) {
		const char *kw = m->kw_data + m->kws[i].off;

		if (m->kws[i].len > MATCH_MAX_KEYWORD)
			return xerr_set(err, XERR_CONFIG,
					"keyword too long: %zu bytes (at most "
					"%u)",
					m->kws[i].len, MATCH_MAX_KEYWORD);
		if (!text_utf8_valid(kw, m->kws[i].len))
			return xerr_set(err, XERR_CONFIG,
					"keyword %zu is not valid UTF-8",
					i + 1);
	}
	for (size_t i = 0; i < m->kw_len; i++)
		used[(unsigned char)m->kw_data[i]] = 1;
	m->max_len = 0;
	for (size_t i = 0; i < m->nkw; i++)
		if (m->kws[i].len > m->max_len)
			m->max_len = m->kws[i].len;
	memset(b->lead_rem, 0, sizeof(b->lead_rem));
	memset(m->cls, 0, sizeof(m->cls));
	for (c = 0; c < 0x80; c++)
		if (used[c])
			m->cls[c] = (uint8_t)na++;
	for (c = 0xC2; c <= 0xF4; c++)
		if (used[c]) {
			b->lead_rem[na] = (uint8_t)lead_rem(c);
			m->cls[c] = (uint8_t)na++;
		}
	for (c = 1; c <= 3; c++) {
		b->lead_rem[na] = (uint8_t)c;
		unused_lead[c] = na++;
	}
	for (c = 0xC2; c <= 0xF4; c++)
		if (!used[c])
			m->cls[c] = (uint8_t)unused_lead[lead_rem(c)];
	for (c = 0x80; c < 0xC0; c++)
		nb += used[c];
	if (nb == 64) {
		for (c = 0x80; c < 0xC0; c++)
			m->cls[c] = (uint8_t)(c - 0x80);
	} else {
		nb = 1;
		for (c = 0x80; c < 0xC0; c++)
			m->cls[c] = used[c] ? (uint8_t)nb++ : 0;
	}
	b->nclass_a = na;
	m->nclasses = na > nb ? na : nb;
	m->shift = 0;
	while ((1u << m->shift) < m->nclasses)
		m->shift++;
	return 0;
}

/* Insert every keyword into a trie of dense rows (0 = no child: the root
 * and the mid-character roots are nobody's child). */
static int build_trie(struct matcher *m, struct build *b, struct xerr *err)
{
	size_t width = (size_t)1 << m->shift;

	b->max_states = MATCH_MAX_TABLE / (width * sizeof(*b->trie));
	if (b->max_states > MATCH_MAX_STATES)
		b->max_states = MATCH_MAX_STATES;
	b->nstates = 1 + MID_ROOTS;
	b->alloc = 256;
	b->trie = xcalloc(b->alloc * width, sizeof(*b->trie));
	b->terms = xreallocarray(NULL, m->nkw, sizeof(*b->terms));
	for (size_t i = 0; i < m->nkw; i++) {
		const struct match_kw *kw = &m->kws[i];
		const unsigned char *p =
		    (const unsigned char *)m->kw_data + kw->off;
		size_t s = 0;

		for (size_t k = 0; k < kw->len; k++) {
			size_t e = (s << m->shift) | m->cls[p[k]];

			if (b->trie[e]) {
				s = b->trie[e];
				continue;
			}
			if (b->nstates >= b->max_states)
				return xerr_set(
				    err, XERR_CONFIG,
				    "keyword automaton too large: more than "
				    "%zu states with %u byte classes (at most "
				    "%u KiB); use fewer or shorter keywords",
				    b->max_states, m->nclasses,
				    MATCH_MAX_TABLE / 1024);
			if (b->nstates >= b->alloc) {
				/* Rows are cleared when used: pages of a
				 * large allocation not used yet stay
				 * unmapped. */
				b->alloc = 2 * b->alloc < b->max_states
					       ? 2 * b->alloc
					       : b->max_states;
				b->trie =
				    xreallocarray(b->trie, b->alloc * width,
						  sizeof(*b->trie));
			}
			memset(b->trie + (b->nstates << m->shift), 0,
			       width * sizeof(*b->trie));
			b->trie[e] = (uint16_t)b->nstates;
			s = b->nstates++;
		}
		b->terms[i].state = (uint32_t)s;
		b->terms[i].id = kw->id;
		b->terms[i].kw = (uint32_t)i;
	}
	return 0;
}

/* Failure links, dictionary links and the DFA, breadth first: a row is
 * completed from its failure state's row, which is shallower (or a root)
 * and so complete already. Where no keyword prefix is left in the middle
 * of a character, the failure state is the mid-character root that
 * counts the character's remaining continuation bytes. */
static void build_links(struct matcher *m, struct build *b)
{
	size_t width = (size_t)1 << m->shift, nq = 0;
	uint16_t *row;

	b->own = xcalloc(b->nstates, 1);
	for (size_t i = 0; i < m->nkw; i++)
		b->own[b->terms[i].state] = 1;
	b->fail = xcalloc(b->nstates, sizeof(*b->fail));
	b->link = xcalloc(b->nstates, sizeof(*b->link));
	b->queue = xmalloc(b->nstates * sizeof(*b->queue));
	for (unsigned k = 0; k <= MID_ROOTS; k++)
		b->queue[nq++] = (uint16_t)k;
	for (unsigned k = 1; k <= MID_ROOTS; k++) {
		row = b->trie + ((size_t)k << m->shift);
		for (size_t c = 0; c < width; c++)
			row[c] = (uint16_t)(k - 1);
	}
	row = b->trie;
	for (size_t c = 0; c < width; c++) {
		uint16_t u = row[c];
		uint16_t rem = c < b->nclass_a ? b->lead_rem[c] : 0;

		if (u) {
			b->fail[u] = rem;
			b->queue[nq++] = u;
		} else {
			row[c] = rem;
		}
	}
	for (size_t q = 1 + MID_ROOTS; q < nq; q++) {
		size_t s = b->queue[q];
		const uint16_t *frow;

		row = b->trie + (s << m->shift);
		frow = b->trie + ((size_t)b->fail[s] << m->shift);
		for (size_t c = 0; c < width; c++) {
			uint16_t u = row[c], f;

			if (!u) {
				row[c] = frow[c];
				continue;
			}
			f = frow[c];
			b->fail[u] = f;
			b->link[u] = b->own[f] ? f : b->link[f];
			b->queue[nq++] = u;
		}
	}
	assert(nq == b->nstates);
}

/* Renumber the states (non-accepting first, then accepting, each in
 * breadth-first order so that the hot shallow rows lie together) into
 * m->table, and lay out the outputs. */
static void build_finish(struct matcher *m, struct build *b)
{
	size_t width = (size_t)1 << m->shift, next = 0, nacc, i, j;

	b->renum = xmalloc(b->nstates * sizeof(*b->renum));
	for (i = 0; i < b->nstates; i++) {
		size_t s = b->queue[i];

		if (!b->own[s] && !b->link[s])
			b->renum[s] = (uint16_t)next++;
	}
	m->acc_min = next;
	for (i = 0; i < b->nstates; i++) {
		size_t s = b->queue[i];

		if (b->own[s] || b->link[s])
			b->renum[s] = (uint16_t)next++;
	}
	assert(b->renum[0] == 0);
	m->nstates = b->nstates;
	nacc = b->nstates - m->acc_min;

	/* Renumber in place (the table is the largest allocation): the
	 * entries, then the rows, cycle by cycle of the permutation, using
	 * the queue, no longer needed, as the inverse permutation. */
	for (i = 0; i < b->nstates * width; i++)
		b->trie[i] = b->renum[b->trie[i]];
	for (i = 0; i < b->nstates; i++)
		b->queue[b->renum[i]] = (uint16_t)i;
	b->done = xcalloc(b->nstates, 1);
	b->row = xmalloc(width * sizeof(*b->row));
	for (i = 0; i < b->nstates; i++) {
		size_t p = i, from;

		if (b->done[i] || b->queue[i] == i)
			continue;
		/* Position p gets the row of state queue[p]. */
		memcpy(b->row, b->trie + (i << m->shift),
		       width * sizeof(*b->row));
		for (;;) {
			b->done[p] = 1;
			from = b->queue[p];
			if (from == i) {
				memcpy(b->trie + (p << m->shift), b->row,
				       width * sizeof(*b->row));
				break;
			}
			memcpy(b->trie + (p << m->shift),
			       b->trie + (from << m->shift),
			       width * sizeof(*b->row));
			p = from;
		}
	}
	m->table =
	    xreallocarray(b->trie, b->nstates * width, sizeof(*m->table));
	b->trie = NULL;

	m->acc = xcalloc(nacc ? nacc : 1, sizeof(*m->acc));
	m->ids = xreallocarray(NULL, m->nkw, sizeof(*m->ids));
	m->nout = 0;
	for (i = 0; i < b->nstates; i++)
		if (b->renum[i] >= m->acc_min && b->link[i])
			m->acc[b->renum[i] - m->acc_min].link =
			    b->renum[b->link[i]];
	qsort(b->terms, m->nkw, sizeof(*b->terms), term_cmp);
	for (i = 0; i < m->nkw; i = j) {
		const struct match_kw *kw = &m->kws[b->terms[i].kw];
		struct match_acc *a =
		    &m->acc[b->renum[b->terms[i].state] - m->acc_min];

		a->first = (uint32_t)m->nout;
		a->len = (uint32_t)kw->len; /* <= MATCH_MAX_KEYWORD */
		a->flags = (uint8_t)kw_flags(m->kw_data + kw->off, kw->len);
		for (j = i;
		     j < m->nkw && b->terms[j].state == b->terms[i].state;
		     j++) {
			if (j == i || b->terms[j].id != b->terms[j - 1].id)
				m->ids[m->nout++] = b->terms[j].id;
			/* a prefix keyword ending here relaxes the state */
			if (m->kws[b->terms[j].kw].prefix)
				a->flags &= (uint8_t)~MATCH_WORD_END;
		}
		a->count = (uint32_t)m->nout - a->first;
	}
}

int match_compile(struct matcher *m, struct xerr *err)
{
	struct build b = {0};
	int r = -1;

	assert(!m->compiled);
	m->compiled = 1;
	if (m->nkw == 0) {
		r = 0;
		goto out;
	}
	if (assign_classes(m, &b, err) < 0 || build_trie(m, &b, err) < 0)
		goto out;
	build_links(m, &b);
	build_finish(m, &b);
	r = 0;
out:
	build_release(&b);
	drop_keywords(m);
	return r;
}

size_t match_ids(const struct matcher *m)
{
	return m->nids;
}

size_t match_memory(const struct matcher *m)
{
	size_t nacc = m->nstates - m->acc_min;

	return sizeof(*m) +
	       m->nstates * ((size_t)1 << m->shift) * sizeof(*m->table) +
	       nacc * sizeof(*m->acc) + m->nout * sizeof(*m->ids);
}

/* ----------------------------------------------------------------- scan */

/* Is the keyword of accepting state a, ending at t[end], delimited as its
 * flags require? *after caches whether a word character follows (-1:
 * unknown). */
static int bounded(const struct match_acc *a, const unsigned char *t, size_t n,
		   size_t end, int *after)
{
	if (a->flags & MATCH_WORD_END) {
		if (*after < 0)
			*after = word_at(t, n, end);
		if (*after)
			return 0;
	}
	if ((a->flags & MATCH_WORD_START) && word_before(t, end - a->len))
		return 0;
	return 1;
}

void match_scan(const struct matcher *m, const char *t, size_t n,
		int (*cb)(unsigned id, size_t start, size_t end, void *ctx),
		void *ctx)
{
	const unsigned char *u = (const unsigned char *)t;
	const uint16_t *table = m->table;
	size_t s = 0;

	if (!table)
		return;
	for (size_t i = 0; i < n; i++) {
		int after = -1;

		s = table[(s << m->shift) | m->cls[u[i]]];
		if (s < m->acc_min)
			continue;
		for (size_t a = s; a; a = m->acc[a - m->acc_min].link) {
			const struct match_acc *acc = &m->acc[a - m->acc_min];

			if (!acc->count || !bounded(acc, u, n, i + 1, &after))
				continue;
			for (uint32_t k = 0; k < acc->count; k++)
				if (cb(m->ids[acc->first + k], i + 1 - acc->len,
				       i + 1, ctx))
					return;
		}
	}
}

/* State of one match_scan_bits(). States whose keywords, and those of
 * their dictionary links, are all found are marked done and skipped from
 * then on. */
struct scan {
	const struct matcher *m;
	const unsigned char *t;
	size_t n;
	uint64_t *bits;
	size_t start[MATCH_STREAMS]; /* of each stream's part */
	/* The state of each stream after each byte of a block, and the
	 * indexes of those that accept. */
	uint16_t hist[SCAN_BLOCK * MATCH_STREAMS];
	uint16_t ev[SCAN_BLOCK * MATCH_STREAMS];
	uint64_t done[(MATCH_MAX_STATES + 63) / 64];
};

static int bit(const uint64_t *bits, size_t i)
{
	return bits[i >> 6] >> (i & 63) & 1;
}

static void set_bit(uint64_t *bits, size_t i)
{
	bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

/* Set the bits of the keywords that accepting state s reports at
 * t[end]. */
static void accept_bits(struct scan *c, size_t end, size_t s)
{
	const struct matcher *m = c->m;
	int after = -1, all = 1;

	if (bit(c->done, s - m->acc_min))
		return;
	for (size_t a = s; a; a = m->acc[a - m->acc_min].link) {
		const struct match_acc *acc = &m->acc[a - m->acc_min];
		const uint32_t *ids = m->ids + acc->first;

		if (a != s && bit(c->done, a - m->acc_min))
			break;
		if (acc->count == 0)
			continue;
		if (acc->count == 1 && bit(c->bits, ids[0]))
			continue;
		if (bounded(acc, c->t, c->n, end, &after)) {
			for (uint32_t k = 0; k < acc->count; k++)
				set_bit(c->bits, ids[k]);
			continue;
		}
		for (uint32_t k = 0; k < acc->count; k++)
			all &= bit(c->bits, ids[k]);
	}
	if (all)
		set_bit(c->done, s - m->acc_min);
}

/* Handle the accepting states in c->hist, the block at byte i of every
 * stream's part (nb bytes each). Picked out without a branch: with many
 * keywords too many bytes accept for a branch to be predicted. Out of
 * line, so that the scan loop keeps its registers. */
__attribute__((noinline)) static void flush(struct scan *c, size_t i, size_t nb)
{
	size_t acc_min = c->m->acc_min, ne = 0;

	for (size_t j = 0; j < nb * MATCH_STREAMS; j++) {
		c->ev[ne] = (uint16_t)j;
		ne += c->hist[j] >= acc_min;
	}
	for (size_t e = 0; e < ne; e++) {
		size_t j = c->ev[e];

		accept_bits(
		    c, c->start[j % MATCH_STREAMS] + i + j / MATCH_STREAMS + 1,
		    c->hist[j]);
	}
}

/* Run the automaton over t[from..to) from state s; report only if c. */
static size_t walk(const struct matcher *m, struct scan *c,
		   const unsigned char *t, size_t from, size_t to, size_t s)
{
	for (size_t i = from; i < to; i++) {
		s = m->table[(s << m->shift) | m->cls[t[i]]];
		if (c && s >= m->acc_min)
			accept_bits(c, i + 1, s);
	}
	return s;
}

/* Scan t[0..n) as MATCH_STREAMS interleaved walks over equal parts. Each
 * starts in the state the text before its part leaves the automaton in,
 * found by a walk over the max_len bytes before it (from a character
 * boundary): the state depends on those bytes only. */
static void scan_streams(const struct matcher *m, struct scan *c)
{
	const unsigned char *u = c->t;
	const uint16_t *table = m->table;
	const uint8_t *cls = m->cls;
	unsigned shift = m->shift;
	size_t q = c->n / MATCH_STREAMS, s[MATCH_STREAMS] = {0}, i;

	for (size_t k = 0; k < MATCH_STREAMS; k++) {
		size_t from;

		c->start[k] = k * q;
		if (k == 0)
			continue;
		from = c->start[k] - m->max_len;
		while (from > 0 && (u[from] & 0xC0) == 0x80)
			from--;
		s[k] = walk(m, NULL, u, from, c->start[k], 0);
	}
	for (i = 0; i < q;) {
		size_t end = i + SCAN_BLOCK < q ? i + SCAN_BLOCK : q, blk = i;
		uint16_t *h = c->hist;

		for (; i < end; i++, h += MATCH_STREAMS) {
#pragma GCC unroll 8
			for (size_t k = 0; k < MATCH_STREAMS; k++) {
				s[k] = table[(s[k] << shift) |
					     cls[u[c->start[k] + i]]];
				h[k] = (uint16_t)s[k];
			}
		}
		flush(c, blk, end - blk);
	}
	/* The last part goes on to the end (< MATCH_STREAMS bytes). */
	walk(m, c, u, MATCH_STREAMS * q, c->n, s[MATCH_STREAMS - 1]);
}

void match_scan_bits(const struct matcher *m, const char *t, size_t n,
		     uint64_t *bits)
{
	struct scan *c;

	if (!m->table)
		return;
	c = xmalloc(sizeof(*c));
	c->m = m;
	c->t = (const unsigned char *)t;
	c->n = n;
	c->bits = bits;
	memset(c->done, 0, (m->nstates - m->acc_min + 63) / 64 * 8);
	if (n / MATCH_STREAMS >= MATCH_STREAM_MIN &&
	    n / MATCH_STREAMS >= 4 * m->max_len)
		scan_streams(m, c);
	else
		walk(m, c, c->t, 0, n, 0);
	free(c);
}
