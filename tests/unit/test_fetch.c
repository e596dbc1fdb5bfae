/*
 * test_fetch.c - pcap-fetch's pieces: AWS Signature Version 4.
 *
 * The vectors are AWS's: the Signature Version 4 test suite (get-vanilla,
 * get-vanilla-query-order-key-case, post-vanilla, get-utf8; credentials
 * AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") and the
 * S3 examples of "Authenticating Requests: Using the Authorization Header"
 * (GET object with Range, list objects, GET ?lifecycle; credentials
 * AKIAIOSFODNN7EXAMPLE, 2013-05-24, us-east-1, s3).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "capture.h"
#include "filter.h"
#include "merge.h"
#include "msg.h"
#include "dl.h"
#include "store.h"
#include "merge.h"
#include "sigv4.h"

static const char *
noenv(const char *name)
{
	(void)name;
	return NULL;
}

#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static const struct pk_sigv4_header suite_h[] = {
	{ "Host", "example.amazonaws.com" },
	{ "X-Amz-Date", "20150830T123600Z" },
};

static void
suite_sign(const char *method, const char *path, const char *query,
    char *out, size_t n)
{
	struct pk_sigv4_req r = {
		.method = method, .path = path, .query = query,
		.headers = suite_h, .nheaders = 2,
		.payload_sha256 = PK_SIGV4_EMPTY_SHA256,
		.region = "us-east-1", .service = "service",
		.access_key = SUITE_AK, .secret_key = SUITE_SK
	};
	ck_assert_int_eq(pk_sigv4_sign(&r, out, n), 0);
}

static const char *
sig_of(const char *auth)
{
	const char *s = strstr(auth, "Signature=");

	ck_assert_ptr_nonnull(s);
	return s + 10;
}

START_TEST(suite_get_vanilla)
{
	char a[512];

	suite_sign("GET", "/", NULL, a, sizeof(a));
	ck_assert_str_eq(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
	    "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
	    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1"
	    "d763fbf31");
}
END_TEST

START_TEST(suite_query_order)
{
	char a[512];

	suite_sign("GET", "/", "Param2=value2&Param1=value1", a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "b97d918cfa904a5beff61c982a1b6f458b79922164"
	    "6efd99d3219ec94cdf2500");
}
END_TEST

START_TEST(suite_post_vanilla)
{
	char a[512];

	suite_sign("POST", "/", NULL, a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "5da7c1a2acd57cee7505fc6676e4e544621c308629"
	    "66e37dddb68e92efbe5d6b");
}
END_TEST

START_TEST(suite_get_utf8)
{
	char a[512], path[64];

	ck_assert_int_eq(pk_sigv4_uri_encode("/\xe1\x88\xb4", 1, path,
	    sizeof(path)), 10);
	ck_assert_str_eq(path, "/%E1%88%B4");
	suite_sign("GET", path, NULL, a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "8318018e0b0f223aa2bbf98705b62bb787dc9c0e67"
	    "8f255a891fd03141be5d85");
}
END_TEST

START_TEST(suite_canonical_request)
{
	struct pk_sigv4_req r = {
		.method = "GET", .path = "/", .headers = suite_h, .nheaders = 2,
		.region = "us-east-1", .service = "service",
		.access_key = SUITE_AK, .secret_key = SUITE_SK
	};
	char *c = pk_sigv4_canonical_request(&r), *s;

	ck_assert_str_eq(c, "GET\n/\n\nhost:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	    PK_SIGV4_EMPTY_SHA256);
	s = pk_sigv4_string_to_sign(&r);
	ck_assert_str_eq(s, "AWS4-HMAC-SHA256\n20150830T123600Z\n"
	    "20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	free(c);
	free(s);
}
END_TEST

static void
s3_sign(const char *path, const char *query,
    const struct pk_sigv4_header *h, size_t nh, char *out, size_t n)
{
	struct pk_sigv4_req r = {
		.method = "GET", .path = path, .query = query,
		.headers = h, .nheaders = nh,
		.payload_sha256 = PK_SIGV4_EMPTY_SHA256,
		.region = "us-east-1", .service = "s3",
		.access_key = S3_AK, .secret_key = S3_SK
	};
	ck_assert_int_eq(pk_sigv4_sign(&r, out, n), 0);
}

START_TEST(s3_get_object_range)
{
	static const struct pk_sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", PK_SIGV4_EMPTY_SHA256 },
		{ "x-amz-date", "20130524T000000Z" },
	};
	char a[512];

	s3_sign("/test.txt", NULL, h, 4, a, sizeof(a));
	ck_assert_ptr_nonnull(strstr(a, "SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date,"));
	ck_assert_str_eq(sig_of(a), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170"
	    "aba48dd91039c6036bdb41");
}
END_TEST

static const struct pk_sigv4_header s3_list_h[] = {
	{ "x-amz-date", "20130524T000000Z" },	/* any order in */
	{ "Host", "examplebucket.s3.amazonaws.com" },
	{ "x-amz-content-sha256", PK_SIGV4_EMPTY_SHA256 },
};

START_TEST(s3_list_objects)
{
	char a[512];

	s3_sign("/", "max-keys=2&prefix=J", s3_list_h, 3, a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc5"
	    "9db6670ed5711ef69dc6f7");
	s3_sign("/", "prefix=J&max-keys=2", s3_list_h, 3, a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc5"
	    "9db6670ed5711ef69dc6f7");
	s3_sign("/", "prefix=K&max-keys=2", s3_list_h, 3, a, sizeof(a));
	ck_assert_str_ne(sig_of(a), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc5"
	    "9db6670ed5711ef69dc6f7");
}
END_TEST

START_TEST(s3_bare_query_name)
{
	char a[512];

	s3_sign("/", "lifecycle", s3_list_h, 3, a, sizeof(a));
	ck_assert_str_eq(sig_of(a), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e"
	    "0f91ac7a200a0136783543");
}
END_TEST

START_TEST(header_values_are_folded)
{
	static const struct pk_sigv4_header h[] = {
		{ "Host", "  example.amazonaws.com " },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "My-Header1", "  a   b   c  " },
	};
	struct pk_sigv4_req r = {
		.method = "GET", .path = "/", .headers = h, .nheaders = 3,
		.region = "us-east-1", .service = "service",
		.access_key = SUITE_AK, .secret_key = SUITE_SK
	};
	char *c = pk_sigv4_canonical_request(&r);

	ck_assert_ptr_nonnull(strstr(c, "\nhost:example.amazonaws.com\n"
	    "my-header1:a b c\nx-amz-date:20150830T123600Z\n\n"
	    "host;my-header1;x-amz-date\n"));
	free(c);
}
END_TEST

START_TEST(refuses_bad_requests)
{
	static const struct pk_sigv4_header nodate[] = {
		{ "Host", "example.amazonaws.com" },
	};
	static const struct pk_sigv4_header baddate[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "2015-08-30T12:36:00Z" },
	};
	struct pk_sigv4_req r = {
		.method = "GET", .path = "/", .headers = nodate, .nheaders = 1,
		.region = "us-east-1", .service = "s3",
		.access_key = SUITE_AK, .secret_key = SUITE_SK
	};
	char a[512];

	ck_assert_int_eq(pk_sigv4_sign(&r, a, sizeof(a)), -1);
	r.headers = baddate;
	r.nheaders = 2;
	ck_assert_int_eq(pk_sigv4_sign(&r, a, sizeof(a)), -1);
	r.headers = suite_h;
	ck_assert_int_eq(pk_sigv4_sign(&r, a, 40), -1);	/* too small */
}
END_TEST

START_TEST(uri_encoding)
{
	char o[64];

	ck_assert_int_eq(pk_sigv4_uri_encode("a-b_c.d~e", 0, o, sizeof(o)), 9);
	ck_assert_str_eq(o, "a-b_c.d~e");
	pk_sigv4_uri_encode("a b/c+d=\xc3\xa9!'()*", 0, o, sizeof(o));
	ck_assert_str_eq(o, "a%20b%2Fc%2Bd%3D%C3%A9%21%27%28%29%2A");
	pk_sigv4_uri_encode("dir/pcap_1.pcap", 1, o, sizeof(o));
	ck_assert_str_eq(o, "dir/pcap_1.pcap");
	ck_assert_int_eq(pk_sigv4_uri_encode("abc", 1, o, 3), -1);
	ck_assert_int_eq(pk_sigv4_uri_encode(" ", 1, o, 3), -1);
}
END_TEST

/* ---- fetch helpers ------------------------------------------------------ */

START_TEST(crc32c_vectors)
{
	/* RFC 3720 B.4 and the usual check value */
	static const unsigned char zeros[32], ones[32] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t c;

	ck_assert_uint_eq(pm_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(pm_crc32c(0, zeros, 32), 0x8a9136aau);
	ck_assert_uint_eq(pm_crc32c(0, ones, 32), 0x62a8ab43u);
	/* incremental, across the 8-byte stride */
	c = pm_crc32c(0, "1234", 4);
	c = pm_crc32c(c, "56789", 5);
	ck_assert_uint_eq(c, 0xe3069283u);
}
END_TEST

START_TEST(safe_paths)
{
	char e[128];

	ck_assert_int_eq(pk_safe_relpath("pcap_1.pcap", e, sizeof(e)), 0);
	ck_assert_int_eq(pk_safe_relpath("a/b/pcap_1.pcap", e, sizeof(e)), 0);
	ck_assert_int_eq(pk_safe_relpath("..pcap", e, sizeof(e)), 0);
	ck_assert_int_eq(pk_safe_relpath("", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("/etc/passwd", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("../x", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a/../../x", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a/./x", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a//x", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a/", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("..", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a\nb", e, sizeof(e)), -1);
	ck_assert_int_eq(pk_safe_relpath("a\x7f", e, sizeof(e)), -1);
}
END_TEST

START_TEST(retry_after)
{
	/* 1994-11-06T08:49:37Z = 784111777 */
	ck_assert_int_eq(pk_retry_after_ms("120", 0), 120000);
	ck_assert_int_eq(pk_retry_after_ms(" 0\r\n", 0), 0);
	ck_assert_int_eq(pk_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
	    784111770), 7000);
	ck_assert_int_eq(pk_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
	    784111800), 0);
	ck_assert_int_eq(pk_retry_after_ms("", 0), -1);
	ck_assert_int_eq(pk_retry_after_ms("soon", 0), -1);
	ck_assert_int_eq(pk_retry_after_ms("12x", 0), -1);
	ck_assert_int_eq(pk_retry_after_ms("-1", 0), -1);
}
END_TEST

START_TEST(retry_delays)
{
	struct pk_retry r;
	uint64_t x;
	int a;

	pk_retry_defaults(&r);
	/* full jitter: within [0, min(cap, base * 2^(n-2))] */
	for (x = 0; x < 2000; x += 7) {
		for (a = 2; a < 12; a++) {
			int64_t ceil = 500LL << (a - 2), d;
			if (ceil > 30000)
				ceil = 30000;
			d = pk_retry_delay_ms(&r, a, -1, x * 2654435761u);
			ck_assert(d >= 0 && d <= ceil);
		}
	}
	ck_assert_int_eq(pk_retry_delay_ms(&r, 2, -1, 500), 500);
	/* Retry-After is a floor, capped at max_wait_ms */
	ck_assert_int_ge(pk_retry_delay_ms(&r, 2, 4000, 0), 4000);
	ck_assert_int_eq(pk_retry_delay_ms(&r, 2, 3600000, 0), 300000);
}
END_TEST

START_TEST(s3_listing_xml)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Name>b</Name><Prefix>caps/</Prefix><KeyCount>2</KeyCount>"
	    "<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
	    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	    "<Contents><Key>caps/pcap_a.pcap</Key><Size>1234</Size>"
	    "<ETag>&quot;D41D8CD98F00B204E9800998ECF8427E&quot;</ETag></Contents>"
	    "<Contents><Key>caps/a&amp;b.pcap</Key><Size>99</Size>"
	    "<ETag>\"6805f2cfc46c0f04559748bb039d69ae-2\"</ETag></Contents>"
	    "</ListBucketResult>";
	struct pk_objlist l = { 0 };
	char *next = NULL, err[PK_ERRLEN];
	int tr = 0;

	ck_assert_int_eq(pk_s3_parse_list(xml, sizeof(xml) - 1, &l, &tr, &next,
	    err), 0);
	ck_assert_int_eq(tr, 1);
	ck_assert_str_eq(next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].key, "caps/pcap_a.pcap");
	ck_assert_uint_eq(l.v[0].size, 1234);
	ck_assert_str_eq(l.v[0].md5, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_str_eq(l.v[1].key, "caps/a&b.pcap");
	ck_assert_str_eq(l.v[1].md5, "");	/* multipart: not an MD5 */
	free(next);
	pk_objlist_free(&l);

	/* hostile: an entity bomb is refused, not expanded */
	ck_assert_int_eq(pk_s3_parse_list("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>"
	    "<ListBucketResult><Contents><Key>&a;</Key></Contents>"
	    "</ListBucketResult>", 95, &l, &tr, &next, err), -1);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(pk_s3_parse_list("<ListBucketResult><Contents>",
	    28, &l, &tr, &next, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad XML"));
	pk_objlist_free(&l);
}
END_TEST

START_TEST(checksums_and_reasons)
{
	char md5[33], r[200];
	uint32_t crc;

	pk_etag_md5("\"D41D8CD98F00B204E9800998ECF8427E\"", md5);
	ck_assert_str_eq(md5, "d41d8cd98f00b204e9800998ecf8427e");
	/* non-hex after valid digits: no checksum, and md5 stays a string */
	memset(md5, 'x', sizeof(md5));
	pk_etag_md5("\"d41d8zd98f00b204e9800998ecf8427e\"", md5);
	ck_assert_str_eq(md5, "");
	pk_etag_md5("\"6805f2cfc46c0f04559748bb039d69ae-2\"", md5);
	ck_assert_str_eq(md5, "");
	pk_md5_from_b64("JfnnlDI7RTiF9RgfG2JNCw==", md5);
	ck_assert_str_eq(md5, "25f9e794323b453885f5181f1b624d0b");
	ck_assert_int_eq(pk_crc32c_from_b64("4waSgw==", &crc), 0);
	ck_assert_uint_eq(crc, 0xe3069283u);
	ck_assert_int_eq(pk_crc32c_from_b64("4wa", &crc), -1);

#define REASON(body) pk_error_reason(body, strlen(body), r, sizeof(r))
	REASON("<Error><Code>NoSuchKey</Code><Message>No &amp; key"
	    "</Message></Error>");
	ck_assert_str_eq(r, ": NoSuchKey: No & key");
	REASON("{\"success\":false,\"errors\":[{\"code\":1,"
	    "\"message\":\"bad\"}]}");
	ck_assert_str_eq(r, ": bad");
	REASON("{\"error\":{\"code\":404,\"message\":\"gone\"}}");
	ck_assert_str_eq(r, ": gone");
	REASON("up\nstream");
	ck_assert_str_eq(r, ": up stream");
#undef REASON
	pk_error_reason(NULL, 0, r, sizeof(r));
	ck_assert_str_eq(r, "");
}
END_TEST

START_TEST(gcs_listing_json)
{
	static const char js[] = "{\"kind\":\"storage#objects\","
	    "\"nextPageToken\":\"CgVhYmMuZA==\",\"items\":["
	    "{\"name\":\"caps/pcap_x.pcap\",\"size\":\"9\","
	    "\"md5Hash\":\"JfnnlDI7RTiF9RgfG2JNCw==\",\"crc32c\":\"4waSgw==\"},"
	    "{\"name\":\"caps/y\",\"size\":\"7\"}]}";
	struct pk_objlist l = { 0 };
	char *next = NULL, err[PK_ERRLEN];

	ck_assert_int_eq(pk_gcs_parse_list(js, sizeof(js) - 1, &l, &next, err),
	    0);
	ck_assert_str_eq(next, "CgVhYmMuZA==");
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.v[0].size, 9);
	/* md5("123456789"), crc32c("123456789") */
	ck_assert_str_eq(l.v[0].md5, "25f9e794323b453885f5181f1b624d0b");
	ck_assert_int_eq(l.v[0].have_crc32c, 1);
	ck_assert_uint_eq(l.v[0].crc32c, 0xe3069283u);
	ck_assert_int_eq(l.v[1].have_crc32c, 0);
	ck_assert_str_eq(l.v[1].md5, "");
	free(next);
	pk_objlist_free(&l);
	ck_assert_int_eq(pk_gcs_parse_list("[1]", 3, &l, &next, err), -1);
	ck_assert_int_eq(pk_gcs_parse_list("{\"items\":5}", 11, &l, &next,
	    err), -1);
}
END_TEST

START_TEST(store_urls)
{
	struct pk_store st;
	char err[PK_ERRLEN];

	ck_assert_int_eq(pk_store_open(&st, "s3://pcaps/dir/sub?region=eu-west-1",
	    0, noenv, err), 0);
	ck_assert_str_eq(st.bucket, "pcaps");
	ck_assert_str_eq(st.prefix, "dir/sub/");
	ck_assert_str_eq(st.region, "eu-west-1");
	ck_assert_str_eq(st.endpoint, "https://s3.eu-west-1.amazonaws.com");
	ck_assert_int_eq(st.path_style, 0);
	pk_store_close(&st);
	ck_assert_int_eq(pk_store_open(&st, "s3://pcaps", 0, noenv, err), 0);
	ck_assert_str_eq(st.prefix, "");
	ck_assert_str_eq(st.region, "us-east-1");
	pk_store_close(&st);
	ck_assert_int_eq(pk_store_open(&st,
	    "r2://bkt/d?account-id=023e105f4ecef8ad9ca31a8372d0c353", 0, noenv,
	    err), 0);
	ck_assert_str_eq(st.endpoint,
	    "https://023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com");
	ck_assert_str_eq(st.region, "auto");
	ck_assert_int_eq(st.path_style, 1);
	pk_store_close(&st);
	ck_assert_int_eq(pk_store_open(&st, "r2://bkt/d", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "r2://bkt?account-id=abc123", 0,
	    noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "r2://bkt?account-id=a/../x", 0,
	    noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "gs://gcs/x/", 0, noenv, err), 0);
	ck_assert_int_eq(st.gcs_json, 1);
	ck_assert_str_eq(st.prefix, "x/");
	ck_assert_str_eq(st.endpoint, "https://storage.googleapis.com");
	pk_store_close(&st);
	ck_assert_int_eq(pk_store_open(&st, "http://x/y", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3:///y", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://a b/y", 0, noenv, err), -1);
	/* What a server's destination_conf may not smuggle into a host. */
	ck_assert_int_eq(pk_store_open(&st,
	    "s3://bkt/dir?region=x@127.0.0.1:9/", 0, noenv, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad region"));
	ck_assert_int_eq(pk_store_open(&st, "s3://bkt/dir?region=eu-west-1&x=y",
	    0, noenv, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown ?parameter"));
	ck_assert_int_eq(pk_store_open(&st, "gs://bkt/dir?x=1", 0, noenv, err),
	    -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://Bkt/d", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://b@h:1/d", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://10.0.0.1/d", 0, noenv, err),
	    -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://a..b/d", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://-ab/d", 0, noenv, err), -1);
	ck_assert_int_eq(pk_store_open(&st, "s3://under_score/d", 0, noenv,
	    err), -1);
	ck_assert_int_eq(pk_store_open(&st, "gs://under_score/d", 0, noenv,
	    err), 0);
	pk_store_close(&st);
}
END_TEST

START_TEST(validation)
{
	char why[160], out[64];

	ck_assert_int_eq(pk_valid_hex32("023e105f4ecef8ad9ca31a8372d0c353"), 1);
	ck_assert_int_eq(pk_valid_hex32("023E105F4ECEF8AD9CA31A8372D0C353"), 0);
	ck_assert_int_eq(pk_valid_hex32("023e105f4ecef8ad9ca31a8372d0c35"), 0);
	ck_assert_int_eq(pk_valid_hex32("023e105f4ecef8ad9ca31a8372d0c3533"), 0);
	ck_assert_int_eq(pk_valid_hex32("../../etc"), 0);
	ck_assert_int_eq(pk_valid_region("eu-west-1"), 1);
	ck_assert_int_eq(pk_valid_region(""), 0);
	ck_assert_int_eq(pk_valid_region("x@127.0.0.1:80/"), 0);
	ck_assert_int_eq(pk_valid_region("abcdefghijabcdefghijabcdefghijabc"), 0);
	ck_assert_int_eq(pk_valid_bucket(0, "my.bucket-1", why, sizeof(why)), 1);
	ck_assert_int_eq(pk_valid_bucket(0, "ab", why, sizeof(why)), 0);
	ck_assert_int_eq(pk_valid_bucket(0, "192.168.5.4", why, sizeof(why)), 0);
	ck_assert_int_eq(pk_valid_bucket(1, "a_b", why, sizeof(why)), 1);
	/* Rendering: controls, escapes, C1, bad UTF-8 and '\' as \xNN. */
	ck_assert_str_eq(pk_render("ok \033[2Jx", out, sizeof(out)),
	    "ok \\x1b[2Jx");
	ck_assert_str_eq(pk_render("a\\b\r\n", out, sizeof(out)),
	    "a\\x5cb\\x0d\\x0a");
	ck_assert_str_eq(pk_render("\xc2\x9b" "1m \xc3\xa9 \xff", out, sizeof(out)),
	    "\\xc2\\x9b1m \xc3\xa9 \\xff");
	ck_assert_str_eq(pk_render("\x7f", out, sizeof(out)), "\\x7f");
	ck_assert_str_eq(pk_render("abcdefghij", out, 8), "abcd...");
	ck_assert_str_eq(pk_render("\033\033", out, 8), "\\x1b...");
	ck_assert_str_eq(pk_render(NULL, out, sizeof(out)), "");
	/* Credentials: https, or http to loopback, or an opt-in. */
	ck_assert_int_eq(pk_secret_transport("https://api.example/x", 0, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(pk_secret_transport("http://127.0.0.1:8/x", 0, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(pk_secret_transport("http://[::1]:8/x", 0, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(pk_secret_transport("http://localhost/x", 0, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(pk_secret_transport("http://api.example/x", 0, why,
	    sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "--allow-plain-http"));
	ck_assert_int_eq(pk_secret_transport("http://127.0.0.1.evil/x", 0, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(pk_secret_transport("http://api.example/x", 1, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(pk_secret_transport("ftp://127.0.0.1/x", 1, why,
	    sizeof(why)), -1);
}
END_TEST

START_TEST(capture_object)
{
	static const char env[] = "{\"success\":true,\"result\":{\"id\":"
	    "\"abc\",\"type\":\"simple\",\"time_limit\":60,"
	    "\"packet_limit\":100,\"submitted\":\"2026-11-23T10:00:00Z\","
	    "\"filter_v1\":{\"protocol\":6}}}";
	struct pk_capture c;
	char err[256];
	json_t *v;

	/* In the API's envelope: the result, its fields and filter_v1. */
	v = json_loads(env, 0, NULL);
	ck_assert_int_eq(pk_capture_parse(&c, v, err, sizeof(err)), 0);
	json_decref(v);
	ck_assert_str_eq(c.id, "abc");
	ck_assert_int_eq(c.simple, 1);
	ck_assert_int_eq(c.has_packet_limit, 1);
	ck_assert_uint_eq(c.packet_limit, 100);
	ck_assert_str_eq(c.start_field, "submitted");
	ck_assert_int_eq(c.has_filter, 0);	/* not parsed yet */
	ck_assert_int_eq(pk_capture_tuple(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.has_filter, 1);
	ck_assert_uint_eq(c.tuple.proto, 6);
	pk_capture_free(&c);
	/* Bare, no filter, type from destination_conf. */
	v = json_loads("{\"id\":\"x\",\"destination_conf\":\"s3://bkt\"}",
	    0, NULL);
	ck_assert_int_eq(pk_capture_parse(&c, v, err, sizeof(err)), 0);
	ck_assert_int_eq(c.full, 1);
	ck_assert_int_eq(pk_capture_tuple(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.has_filter, 0);
	pk_capture_free(&c);
	json_decref(v);
	/* Not a capture; fields of the wrong kind. */
	v = json_loads("{\"x\":1}", 0, NULL);
	ck_assert_int_eq(pk_capture_parse(&c, v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a capture object"));
	json_decref(v);
	v = json_loads("{\"id\":\"x\",\"packet_limit\":-1}", 0, NULL);
	ck_assert_int_eq(pk_capture_parse(&c, v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "packet_limit: not a count"));
	json_decref(v);
	v = json_loads("{\"id\":\"x\",\"filter_v1\":{\"nope\":1}}", 0, NULL);
	ck_assert_int_eq(pk_capture_parse(&c, v, err, sizeof(err)), 0);
	ck_assert_int_eq(pk_capture_tuple(&c, err, sizeof(err)), -1);
	pk_capture_free(&c);
	json_decref(v);
}
END_TEST

START_TEST(one_version)
{
	/* The tools' version is the libraries'; the headers agree. */
	ck_assert_str_eq(PK_VERSION, PM_VERSION_STRING);
	ck_assert_str_eq(PM_VERSION_STRING, PF_VERSION_STRING);
	ck_assert_uint_eq(pm_version_number(), PM_VERSION_NUMBER);
	ck_assert_uint_eq(pf_version_number(), PF_VERSION_NUMBER);
}
END_TEST

START_TEST(listing_cap)
{
	/* More objects than max: refused while parsing, not after. */
	static const char page[] = "<ListBucketResult>"
	    "<Contents><Key>a</Key><Size>1</Size></Contents>"
	    "<Contents><Key>b</Key><Size>1</Size></Contents>"
	    "<Contents><Key>c</Key><Size>1</Size></Contents>"
	    "</ListBucketResult>";
	struct pk_objlist l = { 0 };
	char err[PK_ERRLEN], *next = NULL;
	int tr = 0;

	l.max = 2;
	ck_assert_int_eq(pk_s3_parse_list(page, strlen(page), &l, &tr, &next,
	    err), -1);
	ck_assert_ptr_nonnull(strstr(err, "more than 2 objects"));
	pk_objlist_free(&l);
	l.max = 3;
	ck_assert_int_eq(pk_s3_parse_list(page, strlen(page), &l, &tr, &next,
	    err), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(l.v[0].generation, -1);
	pk_objlist_free(&l);
	free(next);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fetch");
	TCase *t = tcase_create("sigv4");
	SRunner *r;
	int failed;

	tcase_add_test(t, suite_get_vanilla);
	tcase_add_test(t, suite_query_order);
	tcase_add_test(t, suite_post_vanilla);
	tcase_add_test(t, suite_get_utf8);
	tcase_add_test(t, suite_canonical_request);
	tcase_add_test(t, s3_get_object_range);
	tcase_add_test(t, s3_list_objects);
	tcase_add_test(t, s3_bare_query_name);
	tcase_add_test(t, header_values_are_folded);
	tcase_add_test(t, refuses_bad_requests);
	tcase_add_test(t, uri_encoding);
	suite_add_tcase(s, t);
	t = tcase_create("fetch");
	tcase_add_test(t, crc32c_vectors);
	tcase_add_test(t, safe_paths);
	tcase_add_test(t, retry_after);
	tcase_add_test(t, retry_delays);
	tcase_add_test(t, s3_listing_xml);
	tcase_add_test(t, gcs_listing_json);
	tcase_add_test(t, checksums_and_reasons);
	tcase_add_test(t, store_urls);
	tcase_add_test(t, validation);
	tcase_add_test(t, listing_cap);
	tcase_add_test(t, capture_object);
	tcase_add_test(t, one_version);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
