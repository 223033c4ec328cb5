/*
 * unit_s3_sigv4 — checks src/objstore/s3_sigv4.c against the worked
 * examples of the AWS S3 documentation ("Signature Calculations for the
 * Authorization Header", examplebucket, 20130524), an independent oracle,
 * and the RFC 3986 encodings against hand-written expectations.
 */
#include "postgres.h"

#include "objstore/s3_sigv4.h"

static int	failures = 0;

static void
expect_str(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
	{
		fprintf(stderr, "FAIL %s\n  got:  %s\n  want: %s\n", what, got, want);
		failures++;
	}
	else
		printf("ok %s\n", what);
}

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"

static void
test_get_object(void)
{
	S3Header	h[] = {
		{"x-amz-date", DATE},
		{"range", "bytes=0-9"},
		{"host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", S3_EMPTY_SHA256},
	};
	S3SignRequest r = {"GET", "/test.txt", "", h, 4, S3_EMPTY_SHA256, DATE,
	"us-east-1", AK, SK};
	StringInfoData out;

	initStringInfo(&out);
	s3_sigv4_authorization(&r, &out, NULL);
	expect_str("GET object example", out.data,
			   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
			   "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
			   "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void
test_put_object(void)
{
	const char *body = "Welcome to Amazon S3.";
	char		hash[65];
	StringInfoData uri;
	StringInfoData out;

	s3_sha256_hex(body, strlen(body), hash);
	expect_str("payload hash", hash,
			   "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	initStringInfo(&uri);
	appendStringInfoChar(&uri, '/');
	s3_uri_encode(&uri, "test$file.text", true);
	expect_str("key encoding", uri.data, "/test%24file.text");
	{
		S3Header	h[] = {
			{"host", "examplebucket.s3.amazonaws.com"},
			{"date", "Fri, 24 May 2013 00:00:00 GMT"},
			{"x-amz-date", DATE},
			{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
			{"x-amz-content-sha256", hash},
		};
		S3SignRequest r = {"PUT", uri.data, "", h, 5, hash, DATE, "us-east-1", AK, SK};

		initStringInfo(&out);
		s3_sigv4_authorization(&r, &out, NULL);
		expect_str("PUT object example", out.data,
				   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
				   "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
				   "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	}
}

static void
test_get_lifecycle(void)
{
	S3QueryParam q[] = {{"lifecycle", ""}};
	StringInfoData qs;
	StringInfoData out;

	initStringInfo(&qs);
	s3_canonical_query(&qs, q, 1);
	expect_str("empty query value", qs.data, "lifecycle=");
	{
		S3Header	h[] = {
			{"host", "examplebucket.s3.amazonaws.com"},
			{"x-amz-date", DATE},
			{"x-amz-content-sha256", S3_EMPTY_SHA256},
		};
		S3SignRequest r = {"GET", "/", qs.data, h, 3, S3_EMPTY_SHA256, DATE, "us-east-1", AK, SK};

		initStringInfo(&out);
		s3_sigv4_authorization(&r, &out, NULL);
		expect_str("GET bucket lifecycle example", out.data,
				   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
				   "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
				   "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	}
}

static void
test_list_objects(void)
{
	/* given out of order: the canonical form sorts them */
	S3QueryParam q[] = {{"prefix", "J"}, {"max-keys", "2"}};
	StringInfoData qs;
	StringInfoData out;

	initStringInfo(&qs);
	s3_canonical_query(&qs, q, 2);
	expect_str("sorted query", qs.data, "max-keys=2&prefix=J");
	{
		S3Header	h[] = {
			{"host", "examplebucket.s3.amazonaws.com"},
			{"x-amz-date", DATE},
			{"x-amz-content-sha256", S3_EMPTY_SHA256},
		};
		S3SignRequest r = {"GET", "/", qs.data, h, 3, S3_EMPTY_SHA256, DATE, "us-east-1", AK, SK};

		initStringInfo(&out);
		s3_sigv4_authorization(&r, &out, NULL);
		expect_str("GET bucket (list objects) example", out.data,
				   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
				   "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
				   "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	}
}

static void
test_encodings(void)
{
	StringInfoData s;
	S3QueryParam q[] = {
		{"prefix", "a b/c+d=e&f"},
		{"continuation-token", "1/+x=="},
		{"list-type", "2"},
		{"Z", ""},
	};
	char		md5[25];
	char		md5hex[33];

	initStringInfo(&s);
	s3_uri_encode(&s, "dir/ünï code~*'()!.txt", true);
	expect_str("path encoding keeps / and unreserved, escapes UTF-8 upper-case",
			   s.data, "dir/%C3%BCn%C3%AF%20code~%2A%27%28%29%21.txt");
	resetStringInfo(&s);
	s3_uri_encode(&s, "a/b", false);
	expect_str("query encoding escapes /", s.data, "a%2Fb");
	resetStringInfo(&s);
	s3_canonical_query(&s, q, 4);
	/* upper-case names sort before lower-case ones (byte order) */
	expect_str("canonical query", s.data,
			   "Z=&continuation-token=1%2F%2Bx%3D%3D&list-type=2&prefix=a%20b%2Fc%2Bd%3De%26f");
	s3_md5_base64("", 0, md5);
	expect_str("Content-MD5 of empty", md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
	s3_md5_hex("hello\n", 6, md5hex);
	expect_str("md5 hex", md5hex, "b1946ac92492d2347c6235b4d2611184");
}

int
main(void)
{
	test_get_object();
	test_put_object();
	test_get_lifecycle();
	test_list_objects();
	test_encodings();
	if (failures)
	{
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("all SigV4 checks passed\n");
	return 0;
}
