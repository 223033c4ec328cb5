/*
 * vlindex_am.c — the vlake index access method handler, its reloptions,
 * operator-class introspection and cost estimate.
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "nodes/pathnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "access/htup_details.h"
#include "utils/syscache.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/varbit.h"

#include "index/vlindex.h"
#include "vector/half.h"
#include "vector/vector.h"

static relopt_kind vlindex_relopt_kind;

static void
validate_location(const char *value)
{
	if (value && value[0] != '\0')
		lake_location_check(value, "vlake index location");
}

void
vlindex_init_reloptions(void)
{
	vlindex_relopt_kind = add_reloption_kind();
	add_int_reloption(vlindex_relopt_kind, "lists",
					  "Number of IVF lists (0 = square root of the row count)",
					  0, 0, 1 << 20, AccessExclusiveLock);
	add_int_reloption(vlindex_relopt_kind, "hierarchy_threshold",
					  "Build a second level (groups of lists) when the lists exceed this number",
					  VLINDEX_HIERARCHY_THRESHOLD_DEFAULT, 1, 1 << 20, AccessExclusiveLock);
	add_string_reloption(vlindex_relopt_kind, "location",
						 "Root URI of the index's lake files (default vlake.default_location)",
						 NULL, validate_location, AccessExclusiveLock);
}

bytea *
vlindex_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(VlIndexOptions, lists)},
		{"location", RELOPT_TYPE_STRING, offsetof(VlIndexOptions, location_offset)},
		{"hierarchy_threshold", RELOPT_TYPE_INT, offsetof(VlIndexOptions, hierarchy_threshold)},
	};

	return (bytea *) build_reloptions(reloptions, validate, vlindex_relopt_kind,
									  sizeof(VlIndexOptions), tab, lengthof(tab));
}

/* Lists above which a build or merge writes a second level. */
int
vlindex_hierarchy_threshold(Relation index)
{
	VlIndexOptions  *opts = (VlIndexOptions *) index->rd_options;

	return (opts && opts->hierarchy_threshold > 0) ?
		opts->hierarchy_threshold : VLINDEX_HIERARCHY_THRESHOLD_DEFAULT;
}

/*
 * Lists a scan probes first: vlake.probes, or with the automatic setting the
 * floor of the adaptive rule (vlindex_auto_probes).  Rounds of
 * vlake.iterative_scan = rounds and the cost model use this count.
 */
int
vlindex_default_probes(int lists)
{
	int			floor,
				ceiling;

	if (vlindex_probes > 0)
		return Min(vlindex_probes, lists);
	vlindex_auto_probes(lists, &floor, &ceiling);
	return floor;
}

/*
 * vlake.probes = 0: a query probes at least floor lists and at most
 * ceiling, stopping in between by the patience rule (ivf_probe_stop_*).
 * floor = max(8, ceil(0.55 sqrt(lists))): the share of the lists a query
 * needs for a given recall falls as the index grows (its neighbours lie in
 * a region of roughly fixed size while the lists shrink); measured, recall
 * 0.99 took ~8.5 of 245 lists on Fashion-MNIST and ~19 of 1,000 on the 1M x
 * 128 blended-image set (0.54 and 0.60 sqrt(lists)).  The old automatic
 * count, max(8, lists / 16), grew linearly: 62 lists at 1,000 (recall
 * 0.999 at 2.7x the codes needed for 0.99).  ceiling = 4 x floor, for
 * queries whose neighbourhood spans more lists.
 */
void
vlindex_auto_probes(int lists, int *floor, int *ceiling)
{
	int			f = Max(8, (int) ceil(0.55 * sqrt((double) Max(lists, 1))));

	*floor = Min(f, lists);
	*ceiling = Min(4 * f, lists);
}

/* Metric of the index's operator class, from its ORDER BY strategy. */
typedef struct VlIndexAmCache
{
	IvfMetric	metric;
	VlIndexElemType	elemtype;
	VlIndexDist	dist;
} VlIndexAmCache;

static VlIndexDist vlindex_dist_lookup(Relation index, VlIndexElemType *elemtype);

static VlIndexAmCache *
vlindex_am_cache(Relation index)
{
	VlIndexAmCache  *c = (VlIndexAmCache *) index->rd_amcache;

	if (c == NULL)
	{
		VlIndexElemType	et;
		VlIndexDist	d = vlindex_dist_lookup(index, &et);

		c = MemoryContextAlloc(index->rd_indexcxt, sizeof(VlIndexAmCache));
		c->dist = d;
		/* the geometry of codes and lists: see VlIndexDist */
		c->metric = d == VLINDEX_DIST_IP ? IVF_IP :
			d == VLINDEX_DIST_COSINE ? IVF_COSINE : IVF_L2;
		c->elemtype = et;
		index->rd_amcache = c;
	}
	return c;
}

/* Metric of the codes and element type, cached in the relcache entry. */
IvfMetric
vlindex_metric(Relation index, VlIndexElemType *elemtype)
{
	VlIndexAmCache  *c = vlindex_am_cache(index);

	if (elemtype)
		*elemtype = c->elemtype;
	return c->metric;
}

/* The distance the index's operator class orders by. */
VlIndexDist
vlindex_dist(Relation index)
{
	return vlindex_am_cache(index)->dist;
}

const char *
vlindex_dist_name(VlIndexDist d)
{
	switch (d)
	{
		case VLINDEX_DIST_L2:
			return "l2";
		case VLINDEX_DIST_IP:
			return "inner_product";
		case VLINDEX_DIST_COSINE:
			return "cosine";
		case VLINDEX_DIST_L1:
			return "l1";
		case VLINDEX_DIST_HAMMING:
			return "hamming";
		case VLINDEX_DIST_JACCARD:
			return "jaccard";
	}
	return "?";
}

static VlIndexDist
vlindex_dist_lookup(Relation index, VlIndexElemType *elemtype)
{
	static const struct
	{
		int			strategy;
		VlIndexDist	dist;
	}			strategies[] = {
		{VLINDEX_STRATEGY_L2, VLINDEX_DIST_L2},
		{VLINDEX_STRATEGY_IP, VLINDEX_DIST_IP},
		{VLINDEX_STRATEGY_COSINE, VLINDEX_DIST_COSINE},
		{VLINDEX_STRATEGY_L1, VLINDEX_DIST_L1},
		{VLINDEX_STRATEGY_HAMMING, VLINDEX_DIST_HAMMING},
		{VLINDEX_STRATEGY_JACCARD, VLINDEX_DIST_JACCARD},
	};
	bool		is_bit;
	Oid			family = index->rd_opfamily[0];
	Oid			type = index->rd_opcintype[0];
	char	   *typname = NULL;
	HeapTuple	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));

	if (HeapTupleIsValid(tp))
	{
		typname = pstrdup(NameStr(((Form_pg_type) GETSTRUCT(tp))->typname));
		ReleaseSysCache(tp);
	}

	is_bit = type == BITOID;
	if (is_bit)
		*elemtype = VLINDEX_ELEM_BIT;
	else if (typname && strcmp(typname, "halfvec") == 0)
		*elemtype = VLINDEX_ELEM_HALF;
	else if (typname && strcmp(typname, "vector") == 0)
		*elemtype = VLINDEX_ELEM_FLOAT4;
	else if (typname && strcmp(typname, "sparsevec") == 0)
		*elemtype = VLINDEX_ELEM_SPARSE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vlake indexes support the vector, halfvec, sparsevec and bit types, not %s",
						typname ? typname : "?")));
	for (int i = 0; i < lengthof(strategies); i++)
	{
		bool		bit_dist = strategies[i].dist == VLINDEX_DIST_HAMMING ||
			strategies[i].dist == VLINDEX_DIST_JACCARD;

		if (!OidIsValid(get_opfamily_member(family, type, type, strategies[i].strategy)))
			continue;
		if (bit_dist != is_bit)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator class of index \"%s\" orders %s by a %s distance",
							RelationGetRelationName(index), typname ? typname : "?",
							vlindex_dist_name(strategies[i].dist))));
		return strategies[i].dist;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			 errmsg("operator class of index \"%s\" has no vlake distance operator",
					RelationGetRelationName(index))));
	return VLINDEX_DIST_L2;		/* keep compiler quiet */
}

/*
 * Sample position j (0 <= j < VLINDEX_BITS_SAMPLE) of an n-bit string: one
 * bit of each of VLINDEX_BITS_SAMPLE equal runs, at an offset hashed from j
 * so that a period in the data does not line up with the sample.
 */
static inline int
bits_sample_pos(int j, int n)
{
	int64		lo = (int64) j * n / VLINDEX_BITS_SAMPLE,
				hi = (int64) (j + 1) * n / VLINDEX_BITS_SAMPLE;

	return (int) (lo + ((uint32) j * 2654435761u >> 8) % (uint64) (hi - lo));
}

StaticAssertDecl(VLINDEX_BITS_FLOATS(VLINDEX_MAX_BITS) <= VLINDEX_MAX_DIM,
				 "a wide bit string's index vector fits the buffers of VLINDEX_MAX_DIM floats");
StaticAssertDecl((UINT64_C(1) << VLINDEX_BITS_PER_FLOAT) <= (UINT64_C(1) << 24),
				 "packed groups are integers a float holds exactly");

/* 2^-VLINDEX_BITS_SCALE and its inverse: multiplying by a power of two is
 * exact (no libm call in the re-rank's unpack loop) */
#define BITS_DOWN	(1.0f / (float) (UINT64_C(1) << VLINDEX_BITS_SCALE))
#define BITS_UP		((float) (UINT64_C(1) << VLINDEX_BITS_SCALE))

/* A wide bit string as its index vector (vlindex.h, VLINDEX_BITS_WIDE). */
static void
bits_to_wide(const bits8 *bx, int n, float *out)
{
	float		one = (float) sqrt((double) n / VLINDEX_BITS_SAMPLE);
	int			nbytes = (n + 7) / 8;
	float	   *packed = out + VLINDEX_BITS_SAMPLE;

	for (int j = 0; j < VLINDEX_BITS_SAMPLE; j++)
	{
		int			i = bits_sample_pos(j, n);

		out[j] = (bx[i / 8] >> (7 - i % 8)) & 1 ? one : 0.0f;
	}
	/* three bytes per float, big-endian, as the bit type orders them */
	for (int g = 0; g * 3 < nbytes; g++)
	{
		uint32		k = 0;

		for (int b = 0; b < 3; b++)
			k = (k << 8) | (g * 3 + b < nbytes ? bx[g * 3 + b] : 0);
		packed[g] = (float) k * BITS_DOWN;
	}
}

/*
 * The string a wide index vector packs, as VLINDEX_BITS_WORDS(bitlen)
 * words of 24 bits each (the top byte zero): the bit-string kernels count
 * the same Hamming and Jaccard over these words' bytes as over the string's
 * (a bijection of the bits, zeros added on both sides), and each word is
 * one multiply and one float-to-int conversion, no byte shuffling.
 */
void
vlindex_bits_unpack(const float *v, int bitlen, uint32 *out)
{
	int			words = VLINDEX_BITS_WORDS(bitlen);
	const float *packed = v + VLINDEX_BITS_SAMPLE;

	for (int g = 0; g < words; g++)
		out[g] = (uint32) (int32) (packed[g] * BITS_UP);
}

/*
 * Copy a vector / halfvec / sparsevec / bit datum into out[] as the index's
 * float vector (normalised for cosine; a wide bit string as vlindex.h
 * describes).  expect_dim > 0 checks the dimension users see (for bits,
 * the length).  *dim_out gets the floats written; the return value is the
 * dimension users see.  out[] must hold VLINDEX_MAX_DIM floats.
 */
int
vlindex_datum_to_floats(Datum d, VlIndexElemType et, IvfMetric metric, int expect_dim,
				   float *out, int *dim_out, Relation index)
{
	int			dim,
				floats;
	int			limit = et == VLINDEX_ELEM_BIT ? VLINDEX_MAX_BITS : VLINDEX_MAX_DIM;

	if (et == VLINDEX_ELEM_BIT)
	{
		VarBit	   *v = DatumGetVarBitP(d);
		const bits8 *bx = VARBITS(v);

		dim = VARBITLEN(v);
		if (dim < 1 || dim > VLINDEX_MAX_BITS || (expect_dim > 0 && dim != expect_dim))
			goto bad;
		if (VLINDEX_BITS_WIDE(dim))
			bits_to_wide(bx, dim, out);
		else
			for (int i = 0; i < dim; i++)
				out[i] = (bx[i / 8] >> (7 - i % 8)) & 1;
		floats = VLINDEX_BITS_FLOATS(dim);
	}
	else if (et == VLINDEX_ELEM_HALF)
	{
		HalfVector *v = DatumGetHalfVector(d);

		dim = v->dim;
		if (dim < 1 || dim > VLINDEX_MAX_DIM || (expect_dim > 0 && dim != expect_dim))
			goto bad;
		for (int i = 0; i < dim; i++)
			out[i] = vec_half_to_float(v->x[i]);
		floats = dim;
	}
	else if (et == VLINDEX_ELEM_SPARSE)
	{
		/*
		 * Densified: the lists, codes and re-rank vectors are those of the
		 * dense vector, whose L2, inner product, cosine and L1 equal the
		 * sparse operators' (the zeros add nothing).  So the index takes
		 * sparse vectors of up to VLINDEX_MAX_DIM dimensions; vlake_sparse
		 * indexes any dimension, for inner product.
		 */
		SparseVector *v = DatumGetSparseVector(d);
		const float *vx = SPARSEVEC_VALUES(v);

		dim = v->dim;
		if (dim < 1 || dim > VLINDEX_MAX_DIM || (expect_dim > 0 && dim != expect_dim))
			goto bad;
		memset(out, 0, sizeof(float) * dim);
		for (int i = 0; i < v->nnz; i++)
		{
			if (v->indices[i] < 0 || v->indices[i] >= dim)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("sparsevec value has index %d outside its %d dimensions",
								v->indices[i], dim)));
			out[v->indices[i]] = vx[i];
		}
		floats = dim;
	}
	else
	{
		Vector	   *v = DatumGetVector(d);

		dim = v->dim;
		if (dim < 1 || dim > VLINDEX_MAX_DIM || (expect_dim > 0 && dim != expect_dim))
			goto bad;
		memcpy(out, v->x, sizeof(float) * dim);
		floats = dim;
	}
	if (metric == IVF_COSINE)
		ivf_normalize(out, floats);
	if (dim_out)
		*dim_out = floats;
	return dim;

bad:
	if (dim < 1 || dim > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vlake index \"%s\" supports 1 to %d %s, not %d",
						RelationGetRelationName(index), limit,
						et == VLINDEX_ELEM_BIT ? "bits" : "dimensions", dim)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("%s has %d dimensions, index \"%s\" has %d",
					et == VLINDEX_ELEM_BIT ? "bit string" : "vector",
					dim, RelationGetRelationName(index), expect_dim)));
	return 0;					/* keep compiler quiet */
}

/*
 * Cost model.  Startup is what the scan pays before rows flow at a steady
 * rate; the planner adds the heap fetches (one per row returned, random
 * order) and, under a LIMIT, scales the run cost by the fraction of rows
 * needed, so with a WHERE clause of selectivity s a LIMIT k query pays for
 * about k / s rows: the rows the index must return before k pass the filter.
 *   startup  the centroids compared (every list, or with a second level
 *            the groups plus vlake.hierarchy_cover x probes lists; dim/64
 *            operator costs each), the codes of the first probes lists
 *            (one operator cost each), a first batch of exact re-ranks and
 *            the delta; and when k / s rows exceed what the first probes
 *            hold or max(vlake.exhaustive_after, 1/8 of them), the scan
 *            goes exhaustive: the
 *            codes of every other list are scanned before the next row
 *            comes out, so they are startup cost too;
 *   run      one exact re-rank per row returned (and the remaining codes,
 *            when they are not in startup already).
 * A re-rank is a distance (dim/64 operator costs) and a small read at a
 * random offset of vectors.bin, through ObjStore and its caches, outside
 * shared buffers: a quarter of random_page_cost (the reads of one batch go
 * out as one ranged request, so they are cheaper than as many heap page
 * fetches, but not free — a filtered query re-ranks k / s rows).
 * So a very selective filter makes the index as expensive as it is (every
 * code scanned, k / s re-ranks and heap fetches) and a btree on the filter
 * column, or a sequential scan with a top-N sort, wins when it is cheaper;
 * without a LIMIT a sort wins.
 */
void
vlindex_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				Cost *startup, Cost *total, Selectivity *selectivity,
				double *correlation, double *pages)
{
	double		tuples = Max(path->indexinfo->tuples, 1);
	RelOptInfo *rel = path->indexinfo->rel;
	double		lists,
				dim,
				probes,
				first,
				vec_cost,
				rerank_cost,
				centroids,
				sel = 1.0,
				want,
				needed;
	bool		exhaustive;
	VlIndexMetaData	meta;
	Relation	index;
	int			threshold;

	if (path->indexorderbys == NIL)
	{
		/* only ordered scans make sense */
		*startup = disable_cost;
		*total = disable_cost;
		*selectivity = 0;
		*correlation = 0;
		*pages = 0;
		return;
	}
	index = index_open(path->indexinfo->indexoid, NoLock);
	vlindex_meta_read(index, &meta);
	threshold = vlindex_hierarchy_threshold(index);
	index_close(index, NoLock);

	lists = meta.lists > 0 ? meta.lists : 1;
	dim = meta.dim > 0 ? meta.dim : 128;
	vec_cost = dim / 64 * cpu_operator_cost;
	rerank_cost = vec_cost + random_page_cost / 4;
	probes = vlindex_default_probes((int) lists);
	first = Min(1.0, probes / lists) * tuples;
	centroids = lists;
	if (lists > threshold && vlindex_hierarchy_cover > 0 &&
		2 * (ivf_default_groups((int) lists) +
			 ivf_group_cover((int) probes, vlindex_hierarchy_cover)) <= lists)
		centroids = ivf_default_groups((int) lists) +
			ivf_group_cover((int) probes, vlindex_hierarchy_cover);

	/* rows the scan returns before the executor has what it wants */
	if (rel->baserestrictinfo != NIL)
		sel = clauselist_selectivity(root, rel->baserestrictinfo, rel->relid,
									 JOIN_INNER, NULL);
	sel = Max(sel, 1.0 / tuples);
	want = root->limit_tuples > 0 ? root->limit_tuples : tuples * sel;
	needed = Min(tuples, want / sel);
	exhaustive = VLINDEX_ITERATIVE_GOES_EXHAUSTIVE(vlindex_iterative) && needed < tuples * 0.999 + 1 &&
		(needed > first ||
		 (vlindex_exhaustive_after > 0 && needed > Max(vlindex_exhaustive_after, first / 8)));

	*startup = centroids * vec_cost + first * cpu_operator_cost +
		Min(64, tuples) * rerank_cost +
		(double) (meta.delta_count + meta.sealed_count) * vec_cost;
	if (exhaustive)
		*startup += (tuples - first) * cpu_operator_cost;
	*total = *startup + tuples * rerank_cost;
	if (!exhaustive)
		*total += (tuples - first) * cpu_operator_cost;
	*selectivity = 1.0;
	*correlation = 0;
	*pages = Max(1, path->indexinfo->pages);
}

static bool
vlindex_validate(Oid opclassoid)
{
	return true;
}

PG_FUNCTION_INFO_V1(vlake_index_handler);
Datum
vlake_index_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = VLINDEX_NSTRATEGIES;
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
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = vlindex_build;
	am->ambuildempty = vlindex_buildempty;
	am->aminsert = vlindex_insert;
	am->ambulkdelete = vlindex_bulkdelete;
	am->amvacuumcleanup = vlindex_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = vlindex_costestimate;
	am->amoptions = vlindex_options;
	am->amproperty = NULL;
	am->ambuildphasename = vlindex_build_phasename;
	am->amvalidate = vlindex_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = vlindex_beginscan;
	am->amrescan = vlindex_rescan;
	am->amgettuple = vlindex_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = vlindex_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
