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

#include "sigv4.h"

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
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
