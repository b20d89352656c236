/* test-buf: the bounded buffer never exceeds its maximum and stays
 * NUL-terminated and binary-safe. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../tap.h"

int main(void)
{
	struct buf b;
	char *s;
	size_t n;

	buf_init(&b, 10);
	is_str(buf_str(&b), "", "empty buffer reads as empty string");
	ok(buf_adds(&b, "hello") == 0, "add within max");
	ok(buf_add(&b, "\0x", 2) == 0, "binary add");
	is_int(b.len, 7, "length counts NUL bytes");
	ok(buf_adds(&b, "world") == -1, "add beyond max fails");
	is_int(b.len, 7, "failed add leaves buffer unchanged");
	ok(buf_addf(&b, "%d", 123) == 0, "formatted add up to max");
	is_int(b.len, 10, "buffer full at max");
	ok(buf_addc(&b, 'z') == -1, "one more byte fails");
	ok(b.data[b.len] == '\0', "NUL-terminated");
	buf_truncate(&b, 5);
	is_str(buf_str(&b), "hello", "truncate");
	s = buf_detach(&b, &n);
	is_str(s, "hello", "detach hands over contents");
	is_int(n, 5, "detach length");
	ok(b.data == NULL && b.len == 0, "detach resets");
	free(s);
	s = buf_detach(&b, NULL);
	is_str(s, "", "detach of empty buffer gives empty string");
	free(s);
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		if (buf_addf(&b, "%05d", i) < 0)
			break;
	is_int(b.len, 50000, "many appends grow the buffer");
	buf_release(&b);
	return done_testing();
}
