/*
 * unit_parquet_prune.c — unit test of page pruning in the Parquet reader
 * (parquet_prune_rows, parquet_match_rows, parquet_scan_restrict,
 * PqPredicate.nan_matches) and
 * of the writer's page index for pages of only NaNs, run without a server
 * (test/fuzz/pg_standin.c).
 *
 * Files are written by parquet_writer into memory with fixed pages of 100
 * rows; oracles: the rows a predicate can match, computed from the values
 * written.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>

#include "lib/stringinfo.h"

#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "pg_standin.h"

static int	failures = 0;

#define CHECK(cond) do { if (!(cond)) { failures++; \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

/* The writer's objstore sink is not used here (objstore.h declares these). */
ObjWriter *
objstore_writer_begin(ObjStore *store, const char *key)
{
	abort();
}

void
objstore_writer_write(ObjWriter *w, const char *data, uint64 len)
{
	abort();
}

void
objstore_writer_finish(ObjWriter *w)
{
	abort();
}

void
objstore_writer_abort(ObjWriter *w)
{
	abort();
}

char *
objstore_uri(ObjStore *store, const char *key)
{
	abort();
}

bool
objstore_head(ObjStore *store, const char *key, ObjStat *st)
{
	abort();
}

/* The writer's lists of row groups and page entries (backend list.c's, reduced). */
List *
lappend(List *list, void *datum)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements) + 16 * sizeof(ListCell));
		list->type = T_List;
		list->length = 0;
		list->max_length = 16;
		list->elements = list->initial_elements;
	}
	else if (list->length == list->max_length)
	{
		ListCell   *e = palloc(sizeof(ListCell) * list->max_length * 2);

		memcpy(e, list->elements, sizeof(ListCell) * list->length);
		list->elements = e;
		list->max_length *= 2;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

typedef struct MemSink
{
	PqSink		base;
	StringInfoData buf;
} MemSink;

static void
mem_write(PqSink *s, const char *data, size_t len)
{
	appendBinaryStringInfo(&((MemSink *) s)->buf, data, (int) len);
	s->offset += len;
}

static void
mem_done(PqSink *s)
{
	s->done = true;
}

/*
 * A file of nrows rows, 100 rows a page, row groups of rg_rows: column "i"
 * INT64 = row number; column "x" DOUBLE = x[row] (NULL when isnull[row]).
 */
static ByteSource *
write_file(int nrows, int rg_rows, const double *x, const bool *isnull)
{
	MemSink    *ms = palloc0(sizeof(MemSink));
	PqWriterColumn cols[2];
	PqWriterOptions opts;
	PqWriter   *w;

	initStringInfo(&ms->buf);
	ms->base.write = mem_write;
	ms->base.finish = mem_done;
	ms->base.abort = mem_done;
	ms->base.name = "mem.parquet";
	memset(cols, 0, sizeof(cols));
	cols[0].name = "i";
	cols[0].elem.has_type = true;
	cols[0].elem.type = PARQUET_INT64;
	cols[1].name = "x";
	cols[1].elem.has_type = true;
	cols[1].elem.type = PARQUET_DOUBLE;
	cols[1].nullable = true;
	cols[0].field_id = cols[1].field_id = -1;
	parquet_writer_default_options(&opts);
	opts.page_rows = 100;
	opts.dictionary = false;
	opts.row_group_rows = rg_rows;
	w = parquet_writer_begin(&ms->base, 2, cols, &opts);
	for (int64 r = 0; r < nrows; r++)
	{
		parquet_writer_value(w, 0, &r, 8);
		if (isnull[r])
			parquet_writer_null(w, 1);
		else
			parquet_writer_value(w, 1, &x[r], 8);
		parquet_writer_end_row(w);
	}
	parquet_writer_finish(w, NIL);
	return parquet_source_from_memory(ms->buf.data, ms->buf.len, "mem.parquet");
}

static PqPredicate
pred(int col, bool has_lo, double lo, bool has_hi, double hi, bool nan_matches)
{
	PqPredicate p;

	memset(&p, 0, sizeof(p));
	p.column = col;
	p.nan_matches = nan_matches;
	if ((p.has_lo = has_lo))
	{
		p.lo.data = palloc(8);
		memcpy(p.lo.data, &lo, 8);
		p.lo.len = 8;
	}
	if ((p.has_hi = has_hi))
	{
		p.hi.data = palloc(8);
		memcpy(p.hi.data, &hi, 8);
		p.hi.len = 8;
	}
	return p;
}

static bool
in_ranges(const PqRowRanges *rr, int64 row)
{
	for (int i = 0; i < rr->n; i++)
		if (row >= rr->start[i] && row < rr->end[i])
			return true;
	return false;
}

/* Every row a predicate matches (NaN: when nan_matches) lies in rr. */
static bool
covers(const PqRowRanges *rr, const PqPredicate *p, int nrows, const double *x, const bool *isnull)
{
	double		lo,
				hi;

	memcpy(&lo, p->has_lo ? p->lo.data : (uint8 *) &(double) {-INFINITY}, 8);
	memcpy(&hi, p->has_hi ? p->hi.data : (uint8 *) &(double) {INFINITY}, 8);
	for (int r = 0; r < nrows; r++)
	{
		bool		match = !isnull[r] &&
			(isnan(x[r]) ? p->nan_matches : (x[r] >= lo && x[r] <= hi));

		if (match && !in_ranges(rr, r))
			return false;
	}
	return true;
}

static int64
kept_rows(const PqRowRanges *rr)
{
	int64		n = 0;

	for (int i = 0; i < rr->n; i++)
	{
		if (rr->start[i] >= rr->end[i] || (i > 0 && rr->start[i] <= rr->end[i - 1]))
			return -1;			/* not sorted, disjoint, merged */
		n += rr->end[i] - rr->start[i];
	}
	return n;
}

/*
 * 1,000 rows in row groups of 400, pages of 100; x = row / 10 with NaNs in
 * rows 200..299 (a page of only NaNs: row group 0's x has no ColumnIndex)
 * and NULLs in 500..599 (a null page).
 */
static void
test_prune_rows(void)
{
	enum
	{
	NROWS = 1000};
	double		x[NROWS];
	bool		isnull[NROWS];
	ByteSource *src;
	PqReader   *r;
	PqScanStats st;
	PqRowRanges *rr;
	PqPredicate p;

	for (int i = 0; i < NROWS; i++)
	{
		x[i] = (i >= 200 && i < 300) ? NAN : i / 10.0;
		isnull[i] = (i >= 500 && i < 600);
	}
	src = write_file(NROWS, 400, x, isnull);
	r = parquet_reader_open(src);

	/* 20 <= x <= 30: row group 0 whole (no ColumnIndex), the others skipped */
	memset(&st, 0, sizeof(st));
	p = pred(1, true, 20, true, 30, false);
	rr = parquet_prune_rows(r, &p, 1, &st);
	CHECK(covers(rr, &p, NROWS, x, isnull));
	CHECK(kept_rows(rr) == 400);
	CHECK(st.row_groups_total == 3 && st.row_groups_skipped == 2);

	/* 65 <= x: row group 0 skipped; of row group 1 its first page and the null page */
	memset(&st, 0, sizeof(st));
	p = pred(1, true, 65, false, 0, false);
	rr = parquet_prune_rows(r, &p, 1, &st);
	CHECK(covers(rr, &p, NROWS, x, isnull));
	CHECK(kept_rows(rr) == 400 && rr->n == 1 && rr->start[0] == 600);
	CHECK(st.row_groups_skipped == 1 && st.pages_skipped == 2 && st.rows_skipped == 600);

	/* the same with nan_matches: float statistics decide nothing (null pages still go) */
	memset(&st, 0, sizeof(st));
	p = pred(1, true, 65, false, 0, true);
	rr = parquet_prune_rows(r, &p, 1, &st);
	CHECK(covers(rr, &p, NROWS, x, isnull));
	CHECK(kept_rows(rr) == NROWS - 100);

	/* i (INT64, no NaN) in [420, 430] and x <= 43: page 400..499 only */
	{
		PqPredicate ps[2];
		int64		lo = 420,
					hi = 430;

		ps[0] = pred(0, false, 0, false, 0, false);
		ps[0].has_lo = ps[0].has_hi = true;
		ps[0].lo.data = (uint8 *) &lo;
		ps[0].lo.len = 8;
		ps[0].hi.data = (uint8 *) &hi;
		ps[0].hi.len = 8;
		ps[1] = pred(1, false, 0, true, 43, false);
		memset(&st, 0, sizeof(st));
		rr = parquet_prune_rows(r, ps, 2, &st);
		CHECK(rr->n == 1 && rr->start[0] == 400 && rr->end[0] == 500);
	}

	/* exact matches inside the kept rows: NULLs never, NaN only when asked */
	{
		PqRowRanges all;
		int64		s0 = 0,
					e0 = NROWS;

		all.n = 1;
		all.start = &s0;
		all.end = &e0;
		memset(&st, 0, sizeof(st));
		p = pred(1, true, 65, true, 70, false);
		rr = parquet_match_rows(r, &p, 1, &all, &st);
		CHECK(rr->n == 1 && rr->start[0] == 650 && rr->end[0] == 701);
		CHECK(st.rows_skipped == NROWS - 51);
		p = pred(1, true, 19.95, false, 0, true);
		rr = parquet_match_rows(r, &p, 1, &all, NULL);
		/* 200..299 NaN, 300..499, 600..999; not 500..599 (NULL) */
		CHECK(rr->n == 2 && rr->start[0] == 200 && rr->end[0] == 500 &&
			  rr->start[1] == 600 && rr->end[1] == 1000);
		p = pred(1, true, 19.95, false, 0, false);
		rr = parquet_match_rows(r, &p, 1, &all, NULL);
		CHECK(rr->n == 2 && rr->start[0] == 300 && rr->end[0] == 500);
	}

	/* a restricted scan returns exactly the rows of the ranges, in order */
	{
		PqRowRanges want;
		int64		starts[] = {50, 420, 990};
		int64		ends[] = {120, 430, 1000};
		int			cols[] = {0, 1};
		PqScan	   *s = parquet_scan_begin(r, 2, cols, NULL, 0, 64);
		PqBatch    *b;
		int64		seen = 0;
		bool		ok = true;

		want.n = 3;
		want.start = starts;
		want.end = ends;
		parquet_scan_restrict(s, &want);
		while ((b = parquet_scan_next(s)) != NULL && b->nrows > 0)
			for (int64 k = 0; k < b->nrows; k++)
			{
				int64		v;

				memcpy(&v, b->cols[0].fixed + 8 * k, 8);
				if (!in_ranges(&want, b->row_numbers[k]) || v != b->row_numbers[k])
					ok = false;
				seen++;
			}
		CHECK(ok);
		CHECK(seen == 70 + 10 + 10);
		CHECK(parquet_scan_stats(s)->pages_read < 10);
		parquet_scan_end(s);
	}
}

int
main(void)
{
	if (STANDIN_CATCH(test_prune_rows()))
	{
		fprintf(stderr, "unexpected ERROR: %s\n", standin_last_error);
		failures++;
	}
	if (failures)
	{
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("parquet prune: all checks passed\n");
	return 0;
}
