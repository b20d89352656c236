/* fuzz-render: the template renderer and header encoder with hostile
 * customer text, as an acknowledgement is built: the customer's name,
 * subject, order id, address, In-Reply-To and References come from the
 * input (NUL-separated fields) and go through tmpl_render with each
 * shipped template. Checked on every message rendered: the header block
 * has only the headers we write, each once, CRLF line ends, no bare CR or
 * LF, no NUL, lines of at most 998 octets; the body has no NUL. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tmpl.h"

static struct tmpl_set *tmpls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct xerr err = {0};
	const char *dir = getenv("PQ_FUZZ_TEMPLATES");

	(void)argc;
	(void)argv;
	if (tmpl_load_dir(dir ? dir : FUZZ_SRCDIR "/templates", &tmpls, &err) <
	    0)
		abort();
	return 0;
}

static const char *const allowed[] = {
    "From",	      "To",
    "Reply-To",	      "Subject",
    "Date",	      "Message-ID",
    "In-Reply-To",    "References",
    "Auto-Submitted", "X-Auto-Response-Suppress",
    "Precedence",     "MIME-Version",
    "Content-Type",   "Content-Transfer-Encoding",
    "X-Peakq-Loop",   NULL};

/* Say which line broke the rule, then abort (a finding). */
static void bad(const char *why, const char *line, size_t len)
{
	fprintf(stderr, "fuzz-render: %s: '%.*s'\n", why,
		(int)(len > 200 ? 200 : len), line);
	abort();
}

static void check(const char *m, size_t n)
{
	const char *end = m + n, *p = m;
	int seen[32] = {0};

	if (memchr(m, '\0', n))
		bad("NUL in the message", m, 0);
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len;
		if (!lf || lf == p || lf[-1] != '\r')
			bad("bare LF or no line end", p, (size_t)(end - p));
		len = (size_t)(lf - 1 - p);
		if (memchr(p, '\r', len) || len > 998)
			bad("bare CR or line over 998 octets", p, len);
		if (len == 0)
			return; /* end of the header block */
		if (*p != ' ' && *p != '\t') {
			const char *colon = memchr(p, ':', len);
			size_t i;
			if (!colon)
				bad("header line without a colon", p, len);
			for (i = 0; allowed[i]; i++)
				if (strlen(allowed[i]) == (size_t)(colon - p) &&
				    strncmp(allowed[i], p,
					    (size_t)(colon - p)) == 0)
					break;
			if (!allowed[i] || seen[i]++)
				bad("a header we never write, or twice", p,
				    len);
		}
		p = lf + 1;
	}
	bad("no end of the header block", m, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *f[8] = {0};
	size_t nf = 0;
	struct buf out;
	struct xerr err = {0};
	const struct tmpl *t;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; nf < 8 && p <= copy + size; p += strlen(p) + 1)
		f[nf++] = p;
	for (size_t i = nf; i < 8; i++)
		f[i] = "";
	t = tmpl_at(tmpls, size % tmpl_count(tmpls));
	const char *refs[2] = {f[6], f[7]};
	struct tmpl_vars v = {.case_id = 1234,
			      .order_id = *f[2] ? f[2] : NULL,
			      .customer_name = f[0],
			      .original_subject = f[1],
			      .category = "late_delivery",
			      .team_name = "Holiday Desk",
			      .notice = size & 2 ? f[3] : NULL,
			      .sla_hours = 4,
			      .reply_by = 1798000000};
	struct tmpl_mail mail = {.from_name = "Holiday Desk",
				 .from_addr = "support@example.test",
				 .to_addr = *f[4] ? f[4] : "buyer@example.org",
				 .to_name = f[3],
				 .message_id = "peakq-ack-1.x@example.test",
				 .in_reply_to = *f[5] ? f[5] : NULL,
				 .refs = refs,
				 .nrefs = size & 4 ? 2 : 0,
				 .subject_tag = "[Case #{{case_id}}]",
				 .date = 1798000000};
	buf_init(&out, 1 << 20);
	if (tmpl_render(t, &v, &mail, &out, &err) == 0)
		check(out.data, out.len);
	buf_release(&out);
	free(copy);
	return 0;
}
