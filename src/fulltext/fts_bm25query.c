/*
 * fts_bm25query.c — the bm25query type: a full-text query (SQLite FTS5
 * query syntax, parsed when it is used) and the index it is scored against
 * (docs/bm25.md).  The text form is the query alone: a value made by
 * to_bm25query(query, index) prints as its query.
 */
#include "postgres.h"

#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "fulltext/fts_am.h"

PG_FUNCTION_INFO_V1(vlake_bm25query_in);
PG_FUNCTION_INFO_V1(vlake_bm25query_out);
PG_FUNCTION_INFO_V1(vlake_bm25query_recv);
PG_FUNCTION_INFO_V1(vlake_bm25query_send);
PG_FUNCTION_INFO_V1(vlake_to_bm25query);

/* Queries are parsed and analyzed per use: keep them to a sane size. */
#define FTS_QUERY_MAX_BYTES (1024 * 1024)

FtsQueryDatum *
fts_query_datum_make(const char *query, size_t len, Oid indexoid)
{
	FtsQueryDatum *q;

	if (len > FTS_QUERY_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("bm25query is too long: %zu bytes", len),
				 errdetail("The limit is %d bytes.", FTS_QUERY_MAX_BYTES)));
	if (memchr(query, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("bm25query cannot contain a NUL byte")));
	q = palloc0(offsetof(FtsQueryDatum, query) + len + 1);
	SET_VARSIZE(q, offsetof(FtsQueryDatum, query) + len + 1);
	q->indexoid = indexoid;
	memcpy(q->query, query, len);
	q->query[len] = '\0';
	return q;
}

Datum
vlake_bm25query_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(fts_query_datum_make(s, strlen(s), InvalidOid));
}

Datum
vlake_bm25query_out(PG_FUNCTION_ARGS)
{
	FtsQueryDatum *q = PG_GETARG_FTSQUERY_P(0);

	PG_RETURN_CSTRING(pstrdup(q->query));
}

/* Binary form: the query text (the text type's binary form). */
Datum
vlake_bm25query_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len;
	char	   *s = pq_getmsgtext(buf, buf->len - buf->cursor, &len);

	PG_RETURN_POINTER(fts_query_datum_make(s, len, InvalidOid));
}

Datum
vlake_bm25query_send(PG_FUNCTION_ARGS)
{
	FtsQueryDatum *q = PG_GETARG_FTSQUERY_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, q->query, strlen(q->query));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* to_bm25query(query, index): ERROR unless index is a vlake_bm25 index. */
Datum
vlake_to_bm25query(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Oid			indexoid = PG_GETARG_OID(1);
	HeapTuple	tup;
	Form_pg_class c;
	bool		ok;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation with OID %u does not exist", indexoid)));
	c = (Form_pg_class) GETSTRUCT(tup);
	ok = c->relkind == RELKIND_INDEX &&
		c->relam == get_index_am_oid("vlake_bm25", true);
	ReleaseSysCache(tup);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vlake_bm25 index", get_rel_name(indexoid)),
				 errhint("to_bm25query(query, index) names the full-text index whose statistics score the query.")));
	PG_RETURN_POINTER(fts_query_datum_make(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), indexoid));
}
