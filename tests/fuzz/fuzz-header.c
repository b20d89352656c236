/* fuzz-header: the header encoder. Any bytes pass text_header_safe (as
 * every customer-derived value does) and then tmpl_header as a Subject:
 * the result must be CRLF-folded lines of at most 78 octets (encoded
 * words per RFC 2047), with no bare CR/LF or NUL, and libetpan's RFC 2047
 * decoder must give back exactly the safe value. */
#include "config.h"

#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "text.h"
#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *safe = text_header_safe((const char *)data, size, 400);
	struct buf out;
	size_t i = 0;
	char *decoded = NULL, *unfolded;
	const char *p, *end;

	buf_init(&out, 1 << 16);
	if (tmpl_header(&out, "Subject", safe) < 0)
		abort();
	p = out.data;
	end = out.data + out.len;
	if (out.len < 2 || end[-2] != '\r' || end[-1] != '\n' ||
	    memchr(out.data, '\0', out.len))
		abort();
	/* Lines: CRLF ends, <= 78 octets, continuation lines folded. */
	unfolded = malloc(out.len + 1);
	size_t u = 0;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len;
		if (!lf || lf == p || lf[-1] != '\r')
			abort();
		len = (size_t)(lf - 1 - p);
		if (memchr(p, '\r', len) || len > 78)
			abort();
		if (p != out.data && *p != ' ' && *p != '\t')
			abort();
		memcpy(unfolded + u, p, len);
		u += len;
		p = lf + 1;
	}
	unfolded[u] = '\0';
	if (strncmp(unfolded, "Subject: ", 9) != 0)
		abort();
	/* Round trip. */
	if (mailmime_encoded_phrase_parse("utf-8", unfolded + 9, u - 9, &i,
					  "utf-8",
					  &decoded) != MAILIMF_NO_ERROR)
		abort();
	if (strcmp(decoded, safe) != 0)
		abort();
	free(decoded);
	free(unfolded);
	buf_release(&out);
	free(safe);
	return 0;
}
