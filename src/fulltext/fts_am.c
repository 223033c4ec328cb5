/*
 * fts_am.c — the vlake_bm25 index access method: handler, reloptions,
 * settings and cost estimate (docs/bm25.md).  Build and insert are
 * fts_am_build.c, scans fts_am_scan.c, VACUUM and merge fts_am_vacuum.c,
 * the metapage and logs fts_am_meta.c.
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"

#include "commands/defrem.h"
#include "fulltext/fts_am_internal.h"
#include "fulltext/fts_config.h"
#include "fulltext/fts_query.h"
#include "optimizer/optimizer.h"
#include "vector/vector.h"

static relopt_kind fts_relopt_kind;

static relopt_enum_elt_def idf_values[] = {
	{"fts5", FTS_IDF_FTS5},
	{"lucene", FTS_IDF_LUCENE},
	{NULL}
};

static void
validate_location(const char *value)
{
	if (value && value[0] != '\0')
		lake_location_check(value, "vlake_bm25 index location");
}

/* "2, 1, 0.5": finite weights >= 0, at most FTS_MAX_FIELDS. */
static int
parse_weights(const char *value, double *out)
{
	const char *p = value;
	int			n = 0;

	while (*p)
	{
		char	   *end;
		double		w;

		while (*p == ' ')
			p++;
		w = strtod(p, &end);
		if (end == p || !isfinite(w) || w < 0 || n >= FTS_MAX_FIELDS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for vlake_bm25 option \"weights\": \"%s\"", value),
					 errdetail("Expected up to %d comma-separated numbers >= 0, one per field.",
							   FTS_MAX_FIELDS)));
		if (out)
			out[n] = w;
		n++;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for vlake_bm25 option \"weights\": \"%s\"", value)));
	}
	return n;
}

static void
validate_weights(const char *value)
{
	if (value && value[0] != '\0')
		parse_weights(value, NULL);
}

static void
validate_config(const char *value)
{
	if (value && value[0] != '\0')
	{
		if (strlen(value) >= FTS_CONFIG_NAME_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("full-text configuration name \"%s\" is too long", value)));
		(void) fts_config_analyzer(value);
	}
}

void
fts_am_init_reloptions(void)
{
	fts_relopt_kind = add_reloption_kind();
	add_string_reloption(fts_relopt_kind, "config",
						 "Full-text configuration: 'simple' (SQLite FTS5 tokens) or a Snowball language",
						 "english", validate_config, AccessExclusiveLock);
	add_real_reloption(fts_relopt_kind, "k1", "BM25 k1 (term frequency saturation)",
					   1.2, 0.0, 1000.0, ShareUpdateExclusiveLock);
	add_real_reloption(fts_relopt_kind, "b", "BM25 b (document length normalisation)",
					   0.75, 0.0, 1.0, ShareUpdateExclusiveLock);
	add_enum_reloption(fts_relopt_kind, "idf", "IDF variant: fts5 (SQLite FTS5's bm25()) or lucene",
					   idf_values, FTS_IDF_FTS5, "Valid values are \"fts5\" and \"lucene\".",
					   ShareUpdateExclusiveLock);
	add_string_reloption(fts_relopt_kind, "weights",
						 "Weights of the fields (elements of an indexed text[]), comma-separated",
						 NULL, validate_weights, AccessExclusiveLock);
	add_string_reloption(fts_relopt_kind, "location",
						 "Root URI of the index's lake files (default vlake.default_location)",
						 NULL, validate_location, AccessExclusiveLock);
}

static bytea *
fts_am_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"config", RELOPT_TYPE_STRING, offsetof(FtsIndexOptions, config_offset)},
		{"k1", RELOPT_TYPE_REAL, offsetof(FtsIndexOptions, k1)},
		{"b", RELOPT_TYPE_REAL, offsetof(FtsIndexOptions, b)},
		{"idf", RELOPT_TYPE_ENUM, offsetof(FtsIndexOptions, idf)},
		{"weights", RELOPT_TYPE_STRING, offsetof(FtsIndexOptions, weights_offset)},
		{"location", RELOPT_TYPE_STRING, offsetof(FtsIndexOptions, location_offset)},
	};

	return (bytea *) build_reloptions(reloptions, validate, fts_relopt_kind,
									  sizeof(FtsIndexOptions), tab, lengthof(tab));
}

static const char *
opt_string(Relation index, int offset)
{
	FtsIndexOptions *o = (FtsIndexOptions *) index->rd_options;

	if (o == NULL || offset == 0)
		return NULL;
	return (const char *) o + offset;
}

/*
 * The settings of an index: config and field weights as the build fixed
 * them (meta; NULL during the build: from the reloptions), k1, b and the
 * IDF variant from the reloptions now (they change no stored byte).
 */
void
fts_am_settings(Relation index, const FtsMetaData *meta, FtsIndexSettings *s)
{
	FtsIndexOptions *o = (FtsIndexOptions *) index->rd_options;

	memset(s, 0, sizeof(*s));
	if (fts_am_is_sparse(index))
	{
		/* inner products: one field of weight 1, impacts; no analyzer */
		s->params.impact = true;
		strlcpy(s->config, "simple", sizeof(s->config));
		s->nfields = 1;
		s->weights[0] = 1.0;
		return;
	}
	s->params.k1 = o ? o->k1 : 1.2;
	s->params.b = o ? o->b : 0.75;
	s->params.idf = o ? o->idf : FTS_IDF_FTS5;
	if (meta)
	{
		strlcpy(s->config, meta->config, sizeof(s->config));
		s->nfields = meta->nfields;
		memcpy(s->weights, meta->weights, sizeof(double) * meta->nfields);
		return;
	}
	strlcpy(s->config, opt_string(index, o ? o->config_offset : 0) ?
			opt_string(index, o->config_offset) : "english", sizeof(s->config));
	if (opt_string(index, o ? o->weights_offset : 0) &&
		opt_string(index, o->weights_offset)[0] != '\0')
		s->nfields = parse_weights(opt_string(index, o->weights_offset), s->weights);
	else
	{
		/* a text column: one field; a text[] without weights: every element 1 */
		s->nfields = FTS_MAX_FIELDS;
		for (int i = 0; i < FTS_MAX_FIELDS; i++)
			s->weights[i] = 1.0;
	}
	if (s->nfields < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vlake_bm25 option \"weights\" of index \"%s\" names no field",
						RelationGetRelationName(index))));
}

bool
fts_am_is_sparse(Relation index)
{
	Oid			sparse = vector_extension_type_oid("sparsevec");

	return OidIsValid(sparse) && TupleDescAttr(RelationGetDescr(index), 0)->atttypid == sparse;
}

bool
fts_am_is_ours(Oid amoid)
{
	return OidIsValid(amoid) &&
		(amoid == get_index_am_oid(FTS_AM_NAME, true) ||
		 amoid == get_index_am_oid(FTS_SPARSE_AM_NAME, true));
}

char *
fts_am_location(Relation index)
{
	FtsIndexOptions *o = (FtsIndexOptions *) index->rd_options;
	const char *loc = opt_string(index, o ? o->location_offset : 0);

	return lake_location_choose(loc && loc[0] ? loc : NULL);
}

/*
 * Costs.  An ordered scan (ORDER BY <@> … LIMIT k) costs the top-k search,
 * which reads a few posting blocks per query term: far less than a sort of
 * every match, so it wins for LIMIT queries.  A match scan (@@@) returns
 * the estimated matches.
 */
static void
fts_am_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *startup, Cost *total, Selectivity *selectivity,
					double *correlation, double *pages)
{
	GenericCosts costs;
	double		tuples = Max(path->indexinfo->tuples, 1);

	if (path->indexorderbys == NIL && path->indexclauses == NIL)
	{
		*startup = *total = disable_cost;
		*selectivity = 1;
		*correlation = 0;
		*pages = 0;
		return;
	}
	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);
	if (path->indexorderbys != NIL)
	{
		double		want = root->limit_tuples > 0 ? root->limit_tuples : tuples;

		/*
		 * The top-k search decodes a few posting blocks per query term and
		 * scores a few candidates per returned row (bench-bm25: about 1 ms for
		 * a top 10 of 60,000 documents, whatever the matches): far below a
		 * sort of every match, up to LIMITs of a few hundred rows.
		 */
		*startup = costs.indexStartupCost + cpu_operator_cost * (4 * sqrt(tuples) + 10 * Min(want, tuples));
		/* with a @@@ condition only matches come back (numIndexTuples) */
		*total = *startup + Max(costs.numIndexTuples, 1) * cpu_index_tuple_cost;
	}
	else
	{
		*startup = costs.indexStartupCost + tuples * 0.01 * cpu_operator_cost;
		*total = costs.indexTotalCost;
	}
	*selectivity = costs.indexSelectivity;
	*correlation = 0;
	*pages = costs.numIndexPages;
}

static bool
fts_am_validate(Oid opclassoid)
{
	return true;
}

static IndexAmRoutine *fts_am_routine(void);

PG_FUNCTION_INFO_V1(vlake_bm25_handler);
Datum
vlake_bm25_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(fts_am_routine());
}

/*
 * vlake_sparse: the same routine; build, insert and scan branch on the
 * column type (fts_am_is_sparse), its only operator is ORDER BY <#>.
 */
PG_FUNCTION_INFO_V1(vlake_sparse_handler);
Datum
vlake_sparse_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(fts_am_routine());
}

static IndexAmRoutine *
fts_am_routine(void)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 2;
	am->amsupport = 0;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = true;
	am->amparallelvacuumoptions = VACUUM_OPTION_NO_PARALLEL;
	am->amkeytype = InvalidOid;

	am->ambuild = fts_am_build;
	am->ambuildempty = fts_am_buildempty;
	am->aminsert = fts_am_insert;
	am->ambulkdelete = fts_am_bulkdelete;
	am->amvacuumcleanup = fts_am_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = fts_am_costestimate;
	am->amoptions = fts_am_options;
	am->amproperty = NULL;
	am->ambuildphasename = NULL;
	am->amvalidate = fts_am_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = fts_am_beginscan;
	am->amrescan = fts_am_rescan;
	am->amgettuple = fts_am_gettuple;
	am->amgetbitmap = fts_am_getbitmap;
	am->amendscan = fts_am_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;
	return am;
}

static void *
sel_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, Max(size, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
sel_free(void *arg, void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/*
 * Selectivity of doc @@@ q: when q names an index (to_bm25query), the
 * largest document frequency of the query's terms over the index's
 * documents — exact for one term, an upper bound for an AND, a lower
 * bound for an OR of rare terms; else PostgreSQL's default for
 * containment (0.1%).  Good enough for the planner to see that a frequent
 * term matches thousands of rows (so LIMIT 100 of the ordered scan beats
 * sorting them all) and a rare one a handful.
 */
PG_FUNCTION_INFO_V1(vlake_bm25_matchsel);
Datum
vlake_bm25_matchsel(PG_FUNCTION_ARGS)
{
	List	   *args = (List *) PG_GETARG_POINTER(2);
	Node	   *right;
	FtsQueryDatum *qd;
	FtsIndexSettings set;
	FtsSource **src;
	int			nsrc;
	FtsQuery   *q;
	char		err[256];
	double		maxdf = 0,
				ndocs = 0;
	MemoryContext cxt,
				old;
	FtsAllocator mem;

	if (list_length(args) != 2)
		PG_RETURN_FLOAT8(0.001);
	right = estimate_expression_value((PlannerInfo *) PG_GETARG_POINTER(0), lsecond(args));
	if (!IsA(right, Const) || ((Const *) right)->constisnull)
		PG_RETURN_FLOAT8(0.001);
	qd = DatumGetFtsQueryP(((Const *) right)->constvalue);
	if (!OidIsValid(qd->indexoid))
		PG_RETURN_FLOAT8(0.001);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vlake_bm25 selectivity", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	mem.alloc = sel_alloc;
	mem.free = sel_free;
	mem.arg = cxt;
	nsrc = fts_am_sources(qd->indexoid, &set, &src);
	if (fts_query_parse(qd->query, strlen(qd->query), fts_config_analyzer(set.config), &mem, &q,
						err, sizeof(err)) == FTS_QUERY_OK)
	{
		for (int i = 0; i < nsrc; i++)
			ndocs += src[i]->ndocs;
		for (int p = 0; p < q->nphrases; p++)
			for (int t = 0; t < q->phrases[p].nterms; t++)
			{
				double		df = 0;

				for (int i = 0; i < nsrc; i++)
					df += src[i]->term_df(src[i], q->phrases[p].terms[t].text, q->phrases[p].terms[t].len);
				maxdf = Max(maxdf, df);
			}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	if (ndocs <= 0)
		PG_RETURN_FLOAT8(0.001);
	PG_RETURN_FLOAT8(Max(maxdf, 1.0) / ndocs);
}
