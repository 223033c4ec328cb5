/*
 * fts_am.h — what the vlake_bm25 index access method offers the rest of the
 * fulltext layer: the bm25query type's layout, an index's settings and its
 * document sources (lake part + delta) for scoring outside an index scan.
 * (The access method's own internals are fts_am_internal.h.)
 */
#ifndef VLAKE_FTS_AM_H
#define VLAKE_FTS_AM_H

#include "postgres.h"

#include "fmgr.h"

#include "fulltext/fts_bm25.h"
#include "lake/lake_part.h"

/*
 * A bm25query value: the query text (SQLite FTS5 query syntax) and the
 * index whose configuration and statistics it uses (InvalidOid: none named;
 * an index scan then uses its own).  Text I/O is the query text only.
 */
typedef struct FtsQueryDatum
{
	int32		vl_len_;
	Oid			indexoid;
	char		query[FLEXIBLE_ARRAY_MEMBER];	/* NUL-terminated */
} FtsQueryDatum;

#define DatumGetFtsQueryP(d) ((FtsQueryDatum *) PG_DETOAST_DATUM(d))
#define PG_GETARG_FTSQUERY_P(n) DatumGetFtsQueryP(PG_GETARG_DATUM(n))

extern FtsQueryDatum *fts_query_datum_make(const char *query, size_t len, Oid indexoid);

/* The full-text configuration a query naming no index uses (vlake.fts_config). */
extern char *fts_default_config;

/* The settings of a vlake_bm25 index. */
#define FTS_CONFIG_NAME_MAX 64
typedef struct FtsIndexSettings
{
	char		config[FTS_CONFIG_NAME_MAX];
	FtsBm25		params;			/* k1, b, idf; ndocs and avgdl over every source */
	int			nfields;
	double		weights[FTS_MAX_FIELDS];
} FtsIndexSettings;

/*
 * The sources of index indexoid as of now (its lake part and its delta;
 * 0, 1 or 2) into *sources, and its settings.  ERROR (42809) when indexoid
 * is not a vlake_bm25 index.  Takes AccessShareLock on the index until the
 * end of the transaction.  The sources live in a per-backend cache and stay
 * valid until the next call for the same index.
 */
extern int	fts_am_sources(Oid indexoid, FtsIndexSettings *settings, FtsSource ***sources);

/*
 * The lake parts of vlake_bm25 indexes (dir "vlake_bm25"): the database
 * workers' GC passes collect them with the vector index's.
 */
extern const LakePartKind fts_part_kind;

#endif							/* VLAKE_FTS_AM_H */
