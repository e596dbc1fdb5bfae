/*
 * sigv4.h - AWS Signature Version 4 for S3, R2 and GCS's XML API (HMAC
 * keys), over OpenSSL libcrypto.  Written here because curl 7.88's
 * CURLOPT_AWS_SIGV4 signs neither a Range header nor a session token the
 * way pcap-fetch needs.  Pure functions: no I/O, no environment.
 */
#ifndef PCAPKIT_SIGV4_H
#define PCAPKIT_SIGV4_H

#include <stddef.h>

/* SHA-256 of the empty payload, in hex. */
#define PK_SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct pk_sigv4_header {
	const char *name;	/* any case; signed lower-cased */
	const char *value;	/* trimmed, inner runs of spaces folded */
};

struct pk_sigv4_req {
	const char *method;		/* "GET" */
	const char *path;		/* URI-encoded as sent: "/bucket/a%20b" */
	const char *query;		/* as sent, without '?', or NULL */
	const struct pk_sigv4_header *headers;	/* must hold host, x-amz-date */
	size_t nheaders;
	const char *payload_sha256;	/* hex, or "UNSIGNED-PAYLOAD" */
	const char *region, *service;	/* "us-east-1", "s3" */
	const char *access_key, *secret_key;
};

/*
 * Put the value of the Authorization header in out.  Returns 0, or -1 when
 * a required header is missing, the x-amz-date is malformed, or out is too
 * small.  Every header given is signed.
 */
int pk_sigv4_sign(const struct pk_sigv4_req *r, char *out, size_t n);

/*
 * The steps, for tests and for messages on a signature mismatch: the
 * canonical request and the string to sign (malloc'ed; NULL on failure).
 */
char *pk_sigv4_canonical_request(const struct pk_sigv4_req *r);
char *pk_sigv4_string_to_sign(const struct pk_sigv4_req *r);

/*
 * URI-encode s as SigV4 wants: everything but A-Z a-z 0-9 - . _ ~ as %XX
 * (upper-case hex), and '/' too unless keep_slash.  Returns the length, or
 * -1 when out (n bytes) is too small.
 */
int pk_sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t n);

/* The SHA-256 of data, in hex (65 bytes with the NUL). */
void pk_sha256_hex(const void *data, size_t len, char out[65]);

#endif
