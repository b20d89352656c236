/* tls: GnuTLS trust-list verification of a peer's certificate chain,
 * including the host name (DNS or IP SAN) and TLS server key purpose. */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

static void describe(unsigned status, char *out, size_t size)
{
	static const struct {
		unsigned bit;
		const char *text;
	} reasons[] = {
	    {GNUTLS_CERT_SIGNER_NOT_FOUND,
	     "issuer unknown (self-signed or not signed by a trusted CA)"},
	    {GNUTLS_CERT_UNEXPECTED_OWNER, "not valid for this host name"},
	    {GNUTLS_CERT_EXPIRED, "expired"},
	    {GNUTLS_CERT_NOT_ACTIVATED, "not yet valid"},
	    {GNUTLS_CERT_REVOKED, "revoked"},
	    {GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature"},
	    {GNUTLS_CERT_INSECURE_ALGORITHM, "insecure algorithm"},
	    {GNUTLS_CERT_SIGNER_NOT_CA, "issuer is not a CA"},
	    {GNUTLS_CERT_PURPOSE_MISMATCH, "not for TLS servers"},
	};
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
		if (!(status & reasons[i].bit))
			continue;
		int w = snprintf(out + off, size - off, "%s%s", off ? "; " : "",
				 reasons[i].text);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
	if (!out[0])
		snprintf(out, size, "status 0x%x", status);
}

int tls_verify_chain(const struct tls_der *chain, size_t n, const char *host,
		     const char *ca_file, struct xerr *err)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts = NULL;
	size_t ncrts = 0;
	unsigned status = 0;
	int r, ret = -1;
	char why[256];
	gnutls_typed_vdata_st vdata[2] = {
	    {.type = GNUTLS_DT_DNS_HOSTNAME,
	     .data = (unsigned char *)(uintptr_t)host,
	     .size = 0},
	    {.type = GNUTLS_DT_KEY_PURPOSE_OID,
	     .data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER,
	     .size = 0},
	};

	if (n == 0)
		return xerr_set(err, XERR_TEMP,
				"tls: the server sent no certificate");
	crts = xcalloc(n, sizeof(*crts));
	for (; ncrts < n; ncrts++) {
		gnutls_datum_t d = {
		    .data = (unsigned char *)(uintptr_t)chain[ncrts].data,
		    .size = (unsigned)chain[ncrts].len};
		if (gnutls_x509_crt_init(&crts[ncrts]) < 0)
			goto fail_alloc;
		r = gnutls_x509_crt_import(crts[ncrts], &d,
					   GNUTLS_X509_FMT_DER);
		if (r < 0) {
			ncrts++;
			xerr_set(
			    err, XERR_TEMP,
			    "tls: cannot read the server's certificate: %s",
			    gnutls_strerror(r));
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		goto fail_alloc;
	if (ca_file) {
		r = gnutls_x509_trust_list_add_trust_file(
		    tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			xerr_set(err, XERR_CONFIG,
				 "tls: no CA certificate loaded from '%s'%s%s",
				 ca_file, r < 0 ? ": " : "",
				 r < 0 ? gnutls_strerror(r) : "");
			goto out;
		}
	} else {
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (r <= 0) {
			xerr_set(err, XERR_CONFIG,
				 "tls: the system trust store is empty "
				 "(install ca-certificates or set ca_file)");
			goto out;
		}
	}
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrts, vdata,
					       2, 0, &status, NULL);
	if (r < 0) {
		xerr_set(err, XERR_TEMP, "tls: verification failed: %s",
			 gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		describe(status, why, sizeof(why));
		xerr_set(err, XERR_TEMP, "tls: certificate of '%s' refused: %s",
			 host, why);
		goto out;
	}
	ret = 0;
	goto out;
fail_alloc:
	xerr_set(err, XERR_TEMP, "tls: out of memory");
out:
	for (size_t i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	return ret;
}

void tls_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	static const char hex[] = "0123456789abcdef";

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0)
		fatal(70, "gnutls: sha256 failed");
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
