/* tls: certificate-chain and host-name verification with GnuTLS for
 * connections whose TLS library does not verify (libetpan), and SHA-256
 * digests. No sockets: callers hand over the DER chain the peer sent. */
#ifndef PEAKQ_TLS_H
#define PEAKQ_TLS_H

#include <stddef.h>

#include "xerr.h"

struct tls_der {
	const unsigned char *data;
	size_t len;
};

/* Verify chain (leaf first) for host against ca_file, or the system trust
 * store when ca_file is NULL. host may be a DNS name or an IP address.
 * Returns 0 when the chain is valid for host, else -1 with XERR_TEMP and a
 * message naming the reason ("certificate is self-signed", "certificate is
 * not valid for host 'x'", ...). */
int tls_verify_chain(const struct tls_der *chain, size_t n, const char *host,
		     const char *ca_file, struct xerr *err) WARN_UNUSED;

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void tls_sha256_hex(const void *data, size_t len, char out[65]);

#endif
