/* test-yml: located errors for malformed YAML and typed accessors. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yml.h"
#include "../tap.h"

static const struct {
	const char *yaml, *error; /* error: expected "t.yaml:L:C: ..." prefix */
} bad[] = {
    {"a: [1, 2\n", "t.yaml:2:1: "},
    {"a: 1\na: 2\n", "t.yaml:2:1: duplicate key 'a' (first at line 1)"},
    {"a: &x 1\nb: *x\n", "t.yaml:2:4: aliases (*x) are not supported"},
    {"a: !!python/object 1\n", "t.yaml:1:4: unsupported tag"},
    {"--- 1\n--- 2\n", "t.yaml:2:1: only one YAML document per file"},
    {"a:\n  - b\n c: d\n", "t.yaml:3:2: "},
    {"\"unterminated\n", "t.yaml:"},
    {"? [1, 2]\n: x\n", "t.yaml:1:3: a key must be a plain word"},
};

int main(void)
{
	struct yml_doc *doc = NULL;
	struct xerr err = {0};
	long long v;
	int b;
	char *s = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = yml_load_mem("t.yaml", bad[i].yaml, strlen(bad[i].yaml),
				     &doc, &err);
		ok(r == -1 && strncmp(err.msg, bad[i].error,
				      strlen(bad[i].error)) == 0,
		   "bad yaml %zu gives '%s'", i, bad[i].error);
		if (r == 0 ||
		    strncmp(err.msg, bad[i].error, strlen(bad[i].error)))
			diag("got: %s", r == 0 ? "(loaded)" : err.msg);
		yml_doc_free(&doc);
	}

	const char *good = "name: support\n"
			   "port: 993\n"
			   "on: yes\n"
			   "every: 5m\n"
			   "size: 2M\n"
			   "list: [a, 'b', \"c\"]\n"
			   "empty:\n";
	ok(yml_load_mem("g.yaml", good, strlen(good), &doc, &err) == 0,
	   "good yaml loads");
	is_int(doc->root->type, YML_MAP, "root is a map");
	ok(yml_str(doc, yml_get(doc->root, "name"), "name", 0, &s, &err) == 0,
	   "string read");
	is_str(s, "support", "string value");
	ok(yml_int(doc, yml_get(doc->root, "port"), "port", 1, 65535, &v,
		   &err) == 0 &&
	       v == 993,
	   "int read");
	ok(yml_int(doc, yml_get(doc->root, "port"), "port", 1, 100, &v, &err) ==
	       -1,
	   "int out of range refused");
	is_str(err.msg,
	       "g.yaml:2:7: port must be a whole number from 1 to 100, not "
	       "'993'",
	       "range error is located");
	ok(yml_bool(doc, yml_get(doc->root, "on"), "on", &b, &err) == 0 &&
	       b == 1,
	   "bool yes");
	ok(yml_duration(doc, yml_get(doc->root, "every"), "every", 1, 86400, &v,
			&err) == 0 &&
	       v == 300,
	   "duration 5m = 300 s");
	ok(yml_size(doc, yml_get(doc->root, "size"), "size", 1, 1LL << 40, &v,
		    &err) == 0 &&
	       v == 2 * 1024 * 1024,
	   "size 2M");
	ok(yml_str(doc, yml_get(doc->root, "empty"), "empty", 0, &s, &err) ==
	       -1,
	   "empty value refused");
	is_str(err.msg, "g.yaml:7:7: empty must not be empty",
	       "empty value error located");
	ok(yml_str(doc, yml_get(doc->root, "list"), "list", 0, &s, &err) == -1,
	   "list is not a string");
	is_str(err.msg, "g.yaml:6:7: list must be a value, not a list",
	       "type error located");
	static const char *const allowed[] = {"name", NULL};
	ok(yml_check_keys(doc, doc->root, allowed, &err) == -1,
	   "unknown keys refused");
	is_str(err.msg,
	       "g.yaml:2:1: unknown key 'port' (expected one of: name)",
	       "unknown key error located");
	yml_doc_free(&doc);
	free(s);

	ok(yml_load_mem("e.yaml", "", 0, &doc, &err) == 0 && !doc->root,
	   "empty file is an empty document");
	yml_doc_free(&doc);
	ok(yml_load_file("/nonexistent/x.yaml", &doc, &err) == -1 &&
	       strstr(err.msg, "/nonexistent/x.yaml: cannot read"),
	   "missing file names the file");
	return done_testing();
}
