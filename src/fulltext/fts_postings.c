/*
 * fts_postings.c — the postings engine of the BM25 index (fts_postings.h,
 * docs/bm25-format.md).  Stub: every entry point fails with
 * FTSP_BAD_ARGUMENT until the implementation lands.
 */
#include <stdio.h>
#include <string.h>

#include "fulltext/fts_postings.h"

static void
stub_error(FtsPostingsError *err)
{
	if (err)
	{
		err->code = FTSP_BAD_ARGUMENT;
		snprintf(err->message, sizeof(err->message), "the postings engine is not built yet");
	}
}

FtsPostingsBuilder *
fts_postings_builder_create(const FtsAlloc *a, int nfields, const double *field_weights,
							size_t mem_limit, FtsPostingsError *err)
{
	stub_error(err);
	return NULL;
}

int
fts_postings_begin_doc(FtsPostingsBuilder *b, uint64_t ref, FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}

int
fts_postings_add_token(FtsPostingsBuilder *b, const char *term, size_t len, uint32_t position,
					   FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}

int
fts_postings_end_doc(FtsPostingsBuilder *b, uint32_t doclen, FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}

uint64_t
fts_postings_builder_ndocs(const FtsPostingsBuilder *b)
{
	return 0;
}

size_t
fts_postings_builder_memory(const FtsPostingsBuilder *b)
{
	return 0;
}

int
fts_postings_builder_finish(FtsPostingsBuilder *b, uint8_t **image, size_t *size,
							FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}

void
fts_postings_builder_free(FtsPostingsBuilder *b)
{
}

FtsPostingsReader *
fts_postings_open(const FtsAlloc *a, const uint8_t *image, size_t size, int flags,
				  FtsPostingsError *err)
{
	stub_error(err);
	return NULL;
}

FtsSource *
fts_postings_source(FtsPostingsReader *r)
{
	return NULL;
}

FtsPostingsReader *
fts_postings_source_reader(FtsSource *s)
{
	return NULL;
}

void
fts_postings_set_error_callback(FtsPostingsReader *r, FtsPostingsErrorCallback cb, void *arg)
{
}

const FtsPostingsError *
fts_postings_reader_error(const FtsPostingsReader *r)
{
	return NULL;
}

uint64_t
fts_postings_ndocs(const FtsPostingsReader *r)
{
	return 0;
}

uint64_t
fts_postings_nterms(const FtsPostingsReader *r)
{
	return 0;
}

double
fts_postings_ntokens(const FtsPostingsReader *r)
{
	return 0;
}

int
fts_postings_nfields(const FtsPostingsReader *r)
{
	return 0;
}

const double *
fts_postings_field_weights(const FtsPostingsReader *r)
{
	return NULL;
}

int
fts_postings_validate_all(FtsPostingsReader *r, FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}

const char *
fts_postings_term(const FtsPostingsReader *r, uint64_t i, size_t *len, uint64_t *df)
{
	return NULL;
}

void
fts_postings_close(FtsPostingsReader *r)
{
}

int
fts_postings_merge(const FtsAlloc *a, FtsPostingsReader **inputs, int ninputs,
				   FtsPostingsDeleted deleted, void *deleted_arg, size_t mem_limit,
				   uint8_t **image, size_t *size, FtsPostingsError *err)
{
	stub_error(err);
	return FTSP_BAD_ARGUMENT;
}
