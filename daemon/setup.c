/* setup: configuration, rules, templates and notices as one counted,
 * immutable unit. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "setup.h"
#include "util.h"

static void setup_free(struct setup *s)
{
	conf_free(&s->conf);
	rules_free(&s->rules);
	tmpl_free(&s->tmpls);
	notices_free(&s->notices);
	free(s);
}

static int template_exists(const char *name, void *ctx)
{
	const struct tmpl *t = tmpl_find(ctx, "en", name);

	return t && strcmp(tmpl_lang(t), "en") == 0;
}

/* Password files every user can read: refused with strict_permissions,
 * else a warning. */
static int check_secrets(const struct conf *c, struct xerr *err)
{
	for (size_t i = 0; i <= c->naccounts; i++) {
		const char *f = i < c->naccounts ? c->accounts[i].password_file
						 : c->smtp.password_file;
		struct xerr e = {0};

		if (!f || conf_secret_private(f, &e) == 0)
			continue;
		if (c->strict_permissions)
			return xerr_set(err, XERR_CONFIG,
					"%s (strict_permissions is on)", e.msg);
		log_warn("%s", e.msg);
	}
	return 0;
}

int setup_load(const char *path, struct setup **s_r, struct xerr *err)
{
	struct setup *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->refs, 1);
	if (conf_load(path, &s->conf, err) < 0 ||
	    check_secrets(s->conf, err) < 0 ||
	    rules_load_dir(s->conf->rules_dir, &s->rules, err) < 0 ||
	    tmpl_load_dir(s->conf->templates_dir, &s->tmpls, err) < 0 ||
	    rules_check_templates(s->rules, template_exists, s->tmpls, err) <
		0 ||
	    (s->conf->notices_file &&
	     notices_load(s->conf->notices_file, &s->notices, err) < 0)) {
		setup_free(s);
		return -1;
	}
	*s_r = s;
	return 0;
}

struct setup *setup_ref(struct setup *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void setup_unref(struct setup **sp)
{
	struct setup *s = *sp;

	*sp = NULL;
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		setup_free(s);
}

const struct conf_account *setup_account(const struct setup *s,
					 const char *name)
{
	for (size_t i = 0; i < s->conf->naccounts; i++)
		if (strcmp(s->conf->accounts[i].name, name) == 0)
			return &s->conf->accounts[i];
	return NULL;
}
