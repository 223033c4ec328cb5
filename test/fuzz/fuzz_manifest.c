/*
 * fuzz_manifest.c — libFuzzer harness for the dataset manifest decoder
 * (src/manifest/manifest_json.c), built without the backend (pg_standin.c
 * supplies palloc and ereport; ERROR longjmps back here).
 *
 * The input is a manifest document.  An ERROR is a normal outcome; a
 * crash, a sanitizer report, memory beyond the decoder's documented bound,
 * or a document that decodes but whose canonical encoding does not decode
 * to the same bytes again is a failure.
 *
 * Build: make build/bin/fuzz_manifest (clang -fsanitize=fuzzer,address).
 * Run:   build/bin/unit_fuzz_manifest (bounded time, seeded with the spec's
 *        example).
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "manifest/manifest.h"
#include "pg_standin.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Manifest   *volatile m = NULL;
	char	   *volatile e1 = NULL;
	char	   *volatile e2 = NULL;
	size_t		l1 = 0,
				l2 = 0;

	if (!STANDIN_CATCH(m = manifest_decode((const char *) data, size, "fuzz")))
	{
		/* what decoded is valid: it must encode, and round-trip exactly */
		if (STANDIN_CATCH(e1 = manifest_encode(m, &l1)) ||
			STANDIN_CATCH(m = manifest_decode(e1, l1, "fuzz re-encoded")) ||
			STANDIN_CATCH(e2 = manifest_encode(m, &l2)) ||
			l1 != l2 || memcmp(e1, e2, l1) != 0)
		{
			fprintf(stderr, "round trip failed: %s\n", standin_last_error);
			abort();
		}
	}
	if (standin_peak_allocated() > MANIFEST_DECODE_MEMORY_FACTOR * size + 65536 + 4 * l1)
	{
		fprintf(stderr, "decoding %zu bytes allocated %zu bytes\n", size, standin_peak_allocated());
		abort();
	}
	standin_reset();
	return 0;
}
