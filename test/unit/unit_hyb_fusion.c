/*
 * unit_hyb_fusion — tests of the fusion core of hybrid retrieval
 * (src/planner/hyb_fusion.c, docs/hybrid.md) against brute-force fusion.
 *
 *   - randomized (seeded) cases: 1..4 branches, overlapping rankings with
 *     ties in scores, empty branches, filtered-out rows, k from 1 to 50,
 *     weights (zero included), RRF and the normalised weighted sum, both
 *     score directions, declared bounds that some scores violate; the core
 *     is driven batch by batch as the scan will drive it, and its final
 *     top-k must equal the oracle's: every row scored over the complete
 *     rankings, sorted by (score desc, key asc);
 *   - the same with the driver ignoring hyb_next_branch() (any deepening
 *     order must stay exact);
 *   - typical correlated rankings: the core must stop long before the
 *     branches end (the depths are printed);
 *   - a worked example from docs/hybrid.md, and every input error.
 * Exit status 0 = pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/hyb_fusion.h"

static int	failures = 0;

#define CHECK(cond, ...) do { \
	if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); printf("\n"); } } while (0)

static void *
t_alloc(void *arg, size_t n)
{
	(*(int64_t *) arg)++;
	return malloc(n);
}

static void
t_free(void *arg, void *p)
{
	(*(int64_t *) arg)--;
	free(p);
}

static int64_t live_allocs = 0;

static uint64_t
rnd(uint64_t *s)
{
	uint64_t	z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
unif(uint64_t *s)
{
	return (rnd(s) >> 11) / 9007199254740992.0;
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((rnd(s) >> 11) + 1.0) / 9007199254740993.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * unif(s));
}

/* One branch's complete ranking, best first. */
typedef struct Ranking
{
	int			n;
	uint64_t   *keys;
	double	   *scores;
} Ranking;

typedef struct Case
{
	HybSpec		spec;
	Ranking		rank[HYB_MAX_BRANCHES];
	int			nuniverse;
	uint64_t   *universe;
} Case;

typedef struct Scored
{
	uint64_t	key;
	double		score;
} Scored;

static int
cmp_scored(const void *a, const void *b)
{
	const Scored *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * The oracle: fusion over the complete rankings, written from the formulas
 * of docs/hybrid.md without the core's code: every row of every ranking
 * scored over full lists (terms summed in branch order), sorted.
 */
static int
oracle(const Case *c, Scored *out)
{
	int			n = 0;

	for (int u = 0; u < c->nuniverse; u++)
	{
		uint64_t	key = c->universe[u];
		double		s = 0.0;
		bool		present = false;

		for (int b = 0; b < c->spec.nbranches; b++)
		{
			const Ranking *r = &c->rank[b];
			const HybBranchSpec *bs = &c->spec.branch[b];
			int			pos = -1;
			double		term = 0.0;

			for (int i = 0; i < r->n; i++)
				if (r->keys[i] == key)
					pos = i;
			if (pos >= 0)
			{
				present = true;
				if (c->spec.method == HYB_RRF)
					term = bs->weight / (c->spec.rrf_k + (double) (pos + 1));
				else
				{
					/* larger = better; min-max between the bound and the best */
					double		sign = bs->ascending ? -1.0 : 1.0;
					double		lo = sign * bs->bound;
					double		top = fmax(sign * r->scores[0], lo);
					double		v = fmax(sign * r->scores[pos], lo);

					term = top > lo ? bs->weight * ((v - lo) / (top - lo)) : 0.0;
				}
			}
			s += term;
		}
		if (present)
		{
			out[n].key = key;
			out[n].score = s;
			n++;
		}
	}
	qsort(out, n, sizeof(Scored), cmp_scored);
	return n;
}

static int
cmp_double_desc(const void *a, const void *b)
{
	double		x = ((const double *) a)[0],
				y = ((const double *) b)[0];

	return x > y ? -1 : x < y;
}

/*
 * A random case.  correlated: scores follow a latent relevance plus noise
 * (what real branches over the same query look like); else independent.
 */
static void
make_case(Case *c, uint64_t *s, bool correlated, int nrows_max)
{
	int			nb = 1 + (int) (rnd(s) % 4);
	int			n = (int) (rnd(s) % (nrows_max + 1));
	double	   *rel;
	int			levels = (rnd(s) % 3 == 0) ? 1 + (int) (rnd(s) % 6) : 0;	/* ties */

	memset(c, 0, sizeof(Case));
	c->spec.method = (rnd(s) & 1) ? HYB_RRF : HYB_WSUM;
	c->spec.nbranches = nb;
	c->spec.k = 1 + (int) (rnd(s) % 50);
	{
		static const double rk[] = {60, 60, 0, 1, 10.5};

		c->spec.rrf_k = rk[rnd(s) % 5];
	}
	c->spec.exact_scores = rnd(s) % 3 == 0;
	c->spec.alloc = t_alloc;
	c->spec.free = t_free;
	c->spec.alloc_arg = &live_allocs;

	/* a universe of distinct keys: small ones (key order decides ties) or random */
	c->nuniverse = n;
	c->universe = malloc(sizeof(uint64_t) * (n + 1));
	rel = malloc(sizeof(double) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		c->universe[i] = (rnd(s) & 1) ? (uint64_t) i * 7 + 3 : (rnd(s) | ((uint64_t) 1 << 63)) ^ (uint64_t) i;
		rel[i] = gauss(s);
	}

	for (int b = 0; b < nb; b++)
	{
		HybBranchSpec *bs = &c->spec.branch[b];
		Ranking    *r = &c->rank[b];
		double		keep = (rnd(s) % 8 == 0) ? 0.0 : 0.2 + 0.8 * unif(s);	/* filters, empty */
		double		noise = correlated ? 0.3 + unif(s) : 100.0;
		double	   *tmp = malloc(sizeof(double) * 2 * (n + 1));
		double		lo = INFINITY,
					hi = -INFINITY;

		bs->weight = (rnd(s) % 6 == 0) ? 0.0 : (rnd(s) & 1) ? 1.0 : 0.1 + 3 * unif(s);
		bs->ascending = rnd(s) & 1;
		r->n = 0;
		for (int i = 0; i < n; i++)
		{
			double		v;

			if (unif(s) >= keep)
				continue;
			v = rel[i] + noise * gauss(s);
			if (levels)
				v = floor(v * levels / 3.0);
			tmp[2 * r->n] = v;
			tmp[2 * r->n + 1] = (double) i;
			r->n++;
		}
		/* random order among ties: shuffle, then a stable sort by score */
		for (int i = r->n - 1; i > 0; i--)
		{
			int			j = (int) (rnd(s) % (i + 1));
			double		a = tmp[2 * i],
						bb = tmp[2 * i + 1];

			tmp[2 * i] = tmp[2 * j];
			tmp[2 * i + 1] = tmp[2 * j + 1];
			tmp[2 * j] = a;
			tmp[2 * j + 1] = bb;
		}
		for (int i = 1; i < r->n; i++)	/* insertion sort: stable */
			for (int j = i; j > 0 && cmp_double_desc(&tmp[2 * (j - 1)], &tmp[2 * j]) > 0; j--)
			{
				double		a = tmp[2 * j],
							bb = tmp[2 * j + 1];

				tmp[2 * j] = tmp[2 * (j - 1)];
				tmp[2 * j + 1] = tmp[2 * (j - 1) + 1];
				tmp[2 * (j - 1)] = a;
				tmp[2 * (j - 1) + 1] = bb;
			}
		r->keys = malloc(sizeof(uint64_t) * (r->n + 1));
		r->scores = malloc(sizeof(double) * (r->n + 1));
		for (int i = 0; i < r->n; i++)
		{
			double		v = tmp[2 * i];

			lo = fmin(lo, v);
			hi = fmax(hi, v);
			r->keys[i] = c->universe[(int) tmp[2 * i + 1]];
			/* distances: ascending, e.g. 10 - relevance */
			r->scores[i] = bs->ascending ? 10.0 - v : v;
		}
		/* the declared worst score: usually beyond every score, sometimes
		 * inside the range (scores beyond it count as the bound) */
		if (r->n == 0)
			lo = hi = 0;
		{
			double		worst = (rnd(s) % 4 == 0) ? lo + (hi - lo) * unif(s) : lo - 3 * unif(s);

			bs->bound = bs->ascending ? 10.0 - worst : worst;
		}
		free(tmp);
	}
	free(rel);
}

static void
free_case(Case *c)
{
	for (int b = 0; b < c->spec.nbranches; b++)
	{
		free(c->rank[b].keys);
		free(c->rank[b].scores);
	}
	free(c->universe);
}

typedef struct DriveStats
{
	int64_t		depth;			/* rows pulled, all branches */
	int64_t		total;			/* rows in all rankings */
	int			batches;
} DriveStats;

/*
 * Drive the core as the scan will: ask for a branch, pull a batch (sizes
 * random, or doubling from 8 as the scan will), report the end with the
 * last batch or in an empty one; stop when final.  wild: pick any branch
 * not ended instead of the suggested one.
 */
static HybState *
drive(const Case *c, uint64_t *s, bool wild, DriveStats *ds)
{
	HybState   *st;
	int			cursor[HYB_MAX_BRANCHES] = {0};
	int			batch[HYB_MAX_BRANCHES];
	bool		doubling = rnd(s) & 1;
	HybStatus	rc;

	memset(ds, 0, sizeof(DriveStats));
	rc = hyb_create(&c->spec, &st);
	CHECK(rc == HYB_OK, "create: %s", hyb_status_message(rc));
	if (rc != HYB_OK)
		return NULL;
	for (int b = 0; b < c->spec.nbranches; b++)
	{
		batch[b] = 8;
		ds->total += c->rank[b].n;
	}
	for (int guard = 0; guard < 1000000; guard++)
	{
		int			b = hyb_next_branch(st);
		const Ranking *r;
		int			m;
		bool		end;

		if (b < 0)
			break;
		CHECK(!hyb_exhausted(st, b), "suggested branch %d has ended", b);
		if (wild)
		{
			int			open[HYB_MAX_BRANCHES],
						no = 0;

			for (int x = 0; x < c->spec.nbranches; x++)
				if (!hyb_exhausted(st, x))
					open[no++] = x;
			b = open[rnd(s) % no];
		}
		r = &c->rank[b];
		m = doubling ? batch[b] : 1 + (int) (rnd(s) % 16);
		if (doubling)
			batch[b] *= 2;
		if (m > r->n - cursor[b])
			m = r->n - cursor[b];
		end = cursor[b] + m == r->n && (m == 0 || rnd(s) % 4 != 0);
		rc = hyb_add(st, b, r->keys + cursor[b], r->scores + cursor[b], m, end);
		CHECK(rc == HYB_OK, "add: %s", hyb_status_message(rc));
		if (rc != HYB_OK)
			break;
		cursor[b] += m;
		ds->depth += m;
		ds->batches++;
	}
	CHECK(hyb_final(st), "driver stopped before the top-k was final");
	return st;
}

/* The core's final top-k against the oracle; returns true when equal. */
static bool
compare(const Case *c, HybState *st, const char *what, int caseno)
{
	Scored	   *want = malloc(sizeof(Scored) * (c->nuniverse + 1));
	HybResult  *got = malloc(sizeof(HybResult) * (c->spec.k + 1));
	int			nw = oracle(c, want);
	int			ng = hyb_topk(st, got);
	int			expect = nw < c->spec.k ? nw : c->spec.k;
	bool		ok = true;

	if (ng != expect)
	{
		CHECK(false, "%s case %d: %d rows, want %d", what, caseno, ng, expect);
		ok = false;
	}
	for (int i = 0; ok && i < ng; i++)
	{
		if (got[i].key != want[i].key)
		{
			CHECK(false, "%s case %d: row %d is key %llu (%.17g), want %llu (%.17g)", what, caseno, i,
				  (unsigned long long) got[i].key, got[i].score,
				  (unsigned long long) want[i].key, want[i].score);
			ok = false;
		}
		else if (!(got[i].score <= want[i].score && want[i].score <= got[i].upper))
		{
			CHECK(false, "%s case %d: row %d score %.17g outside [%.17g, %.17g]", what, caseno, i,
				  want[i].score, got[i].score, got[i].upper);
			ok = false;
		}
		else if (c->spec.exact_scores && got[i].score != want[i].score)
		{
			CHECK(false, "%s case %d: row %d score %.17g, want exactly %.17g", what, caseno, i,
				  got[i].score, want[i].score);
			ok = false;
		}
	}
	free(want);
	free(got);
	return ok;
}

static void
random_cases(int ncases, bool correlated, bool wild, int nrows_max, const char *what)
{
	uint64_t	s = 0x5eed0000 + (correlated ? 1 : 0) + (wild ? 2 : 0);
	int			bad = 0;
	int64_t		depth = 0,
				total = 0;

	for (int i = 0; i < ncases; i++)
	{
		Case		c;
		DriveStats	ds;
		HybState   *st;

		make_case(&c, &s, correlated, nrows_max);
		st = drive(&c, &s, wild, &ds);
		if (st)
		{
			if (!compare(&c, st, what, i))
				bad++;
			depth += ds.depth;
			total += ds.total;
			hyb_destroy(st);
		}
		free_case(&c);
		if (bad > 5)
			break;
	}
	CHECK(live_allocs == 0, "%s: %lld allocations not freed", what, (long long) live_allocs);
	printf("%s: %d cases, rows pulled %lld of %lld (%.1f%%)\n", what, ncases,
		   (long long) depth, (long long) total, total ? 100.0 * depth / total : 0.0);
}

/*
 * Typical retrieval: 10,000 rows, branches that agree on relevance up to
 * noise, k = 10; the core must stop far before the ends.
 */
static void
typical(HybMethod method, int nb, bool exact)
{
	uint64_t	s = 0x7e1 + method * 10 + nb + exact * 100;
	Case		c;
	DriveStats	ds;
	HybState   *st;
	int			n = 10000;
	double	   *rel = malloc(sizeof(double) * n);

	memset(&c, 0, sizeof(c));
	c.spec.method = method;
	c.spec.nbranches = nb;
	c.spec.k = 10;
	c.spec.rrf_k = HYB_RRF_K_DEFAULT;
	c.spec.exact_scores = exact;
	c.spec.alloc = t_alloc;
	c.spec.free = t_free;
	c.spec.alloc_arg = &live_allocs;
	c.nuniverse = n;
	c.universe = malloc(sizeof(uint64_t) * n);
	for (int i = 0; i < n; i++)
	{
		c.universe[i] = (uint64_t) i;
		/* a heavy-tailed relevance: a few rows stand out, as for a real query */
		rel[i] = exp(1.5 * gauss(&s));
	}
	for (int b = 0; b < nb; b++)
	{
		Ranking    *r = &c.rank[b];
		Scored	   *tmp = malloc(sizeof(Scored) * n);

		/* branch 0: a cosine distance in [0, 2]; others: BM25-like, >= 0 */
		c.spec.branch[b].weight = 1.0;
		c.spec.branch[b].ascending = b == 0;
		c.spec.branch[b].bound = b == 0 ? 2.0 : 0.0;
		for (int i = 0; i < n; i++)
		{
			tmp[i].key = (uint64_t) i;
			tmp[i].score = rel[i] * exp(0.3 * gauss(&s));
		}
		qsort(tmp, n, sizeof(Scored), cmp_scored);
		r->n = b == 0 ? n : n / 4;	/* text matches only part of the rows */
		r->keys = malloc(sizeof(uint64_t) * n);
		r->scores = malloc(sizeof(double) * n);
		for (int i = 0; i < r->n; i++)
		{
			r->keys[i] = tmp[i].key;
			r->scores[i] = b == 0 ? 2.0 / (1.0 + tmp[i].score) : tmp[i].score;
		}
		free(tmp);
	}
	st = drive(&c, &s, false, &ds);
	if (st)
	{
		char		what[64];

		snprintf(what, sizeof(what), "typical %s B=%d%s", method == HYB_RRF ? "rrf" : "wsum", nb,
				 exact ? " exact" : "");
		compare(&c, st, what, 0);
		printf("%s: k=10 over %d rows: depths", what, n);
		for (int b = 0; b < nb; b++)
			printf(" %lld/%d", (long long) hyb_depth(st, b), c.rank[b].n);
		printf(" (%d batches)\n", ds.batches);
		CHECK(ds.depth * 5 < ds.total, "%s: pulled %lld of %lld rows: no early termination",
			  what, (long long) ds.depth, (long long) ds.total);
		hyb_destroy(st);
	}
	free(rel);
	free_case(&c);
}

/* The worked example of docs/hybrid.md. */
static void
worked_example(void)
{
	HybSpec		spec = {0};
	HybState   *st;
	HybResult	res[2];
	uint64_t	k0[] = {1, 2, 3},
				k1[] = {3, 4};
	double		s0[] = {0.10, 0.20, 0.30},
				s1[] = {9.0, 8.0};

	spec.method = HYB_RRF;
	spec.nbranches = 2;
	spec.k = 2;
	spec.rrf_k = 60;
	spec.branch[0].weight = 1;
	spec.branch[0].ascending = true;
	spec.branch[1].weight = 1;
	spec.alloc = t_alloc;
	spec.free = t_free;
	spec.alloc_arg = &live_allocs;
	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_next_branch(st) == 0, "first branch: ties go to the lowest number");
	CHECK(hyb_add(st, 0, k0, s0, 3, true) == HYB_OK, "add 0");
	CHECK(!hyb_final(st), "final with branch 1 unread");
	CHECK(hyb_next_branch(st) == 1, "next is branch 1");
	CHECK(hyb_add(st, 1, k1, s1, 2, true) == HYB_OK, "add 1");
	CHECK(hyb_final(st), "all ended: final");
	CHECK(hyb_topk(st, res) == 2, "2 rows");
	/* row 3: 1/63 + 1/61; row 1: 1/61 */
	CHECK(res[0].key == 3 && res[0].score == 1.0 / 63 + 1.0 / 61, "first is row 3 (%llu %.17g)",
		  (unsigned long long) res[0].key, res[0].score);
	/* then row 1 (1/61) before rows 2 and 4 (1/62 each) */
	CHECK(res[1].key == 1 && res[1].score == 1.0 / 61, "second is row 1");
	hyb_destroy(st);
	CHECK(live_allocs == 0, "worked example leaks");
}

static void
errors(void)
{
	HybSpec		spec = {0};
	HybState   *st;
	uint64_t	keys[] = {1, 2, 1};
	double		sc[] = {3, 2, 1},
				bad[] = {1, 2, 3},
				nan[] = {NAN};

	spec.method = HYB_WSUM;
	spec.nbranches = 2;
	spec.k = 5;
	spec.branch[0].weight = 1;
	spec.branch[1].weight = 1;
	spec.alloc = t_alloc;
	spec.free = t_free;
	spec.alloc_arg = &live_allocs;

	{
		HybSpec		b = spec;

		b.nbranches = 9;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC && st == NULL, "9 branches");
		b = spec;
		b.k = 0;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "k = 0");
		b = spec;
		b.branch[1].weight = -1;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "negative weight");
		b = spec;
		b.branch[0].weight = NAN;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "NaN weight");
		b = spec;
		b.branch[0].bound = INFINITY;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "infinite bound");
		b = spec;
		b.method = HYB_RRF;
		b.rrf_k = -1;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "negative rrf k");
		b = spec;
		b.alloc = NULL;
		CHECK(hyb_create(&b, &st) == HYB_ERR_SPEC, "no allocator");
	}

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 2, keys, sc, 1, false) == HYB_ERR_BRANCH, "branch 2 of 2");
	hyb_destroy(st);

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 0, keys, sc, 3, false) == HYB_ERR_DUPLICATE, "key 1 twice");
	CHECK(hyb_add(st, 1, keys, sc, 1, false) == HYB_ERR_DUPLICATE, "errors are sticky");
	CHECK(!hyb_final(st) && hyb_next_branch(st) == -1 && hyb_topk(st, NULL) == 0, "broken state answers nothing");
	hyb_destroy(st);

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 0, keys, bad, 2, false) == HYB_ERR_ORDER, "descending branch going up");
	hyb_destroy(st);

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 0, keys, sc, 1, false) == HYB_OK, "first row");
	{
		uint64_t	k7[] = {7},
					k8[] = {8};
		double		four[] = {4};

		CHECK(hyb_add(st, 0, k7, sc, 1, false) == HYB_OK, "a tie is in order");
		CHECK(hyb_add(st, 0, k8, four, 1, false) == HYB_ERR_ORDER, "order across batches");
	}
	hyb_destroy(st);

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 1, keys, nan, 1, false) == HYB_ERR_SCORE, "NaN score");
	hyb_destroy(st);

	{
		double		inf[] = {INFINITY},
					huge[] = {1e308};
		HybSpec		b = spec;

		CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
		CHECK(hyb_add(st, 1, keys, inf, 1, false) == HYB_ERR_SCORE, "infinite best score (wsum)");
		hyb_destroy(st);
		b.branch[0].bound = -1e308;
		CHECK(hyb_create(&b, &st) == HYB_OK, "create");
		CHECK(hyb_add(st, 0, keys, huge, 1, false) == HYB_ERR_SCORE, "score range overflows");
		hyb_destroy(st);
		b = spec;
		b.method = HYB_RRF;
		b.rrf_k = 60;
		CHECK(hyb_create(&b, &st) == HYB_OK, "create");
		CHECK(hyb_add(st, 1, keys, inf, 1, false) == HYB_OK, "rrf takes infinite scores (ranks only)");
		hyb_destroy(st);
	}

	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 0, keys, sc, 2, true) == HYB_OK, "ended");
	CHECK(hyb_add(st, 0, keys, sc, 0, true) == HYB_OK, "ending again with no rows is harmless");
	CHECK(hyb_add(st, 0, keys + 2, sc + 2, 1, false) == HYB_ERR_BRANCH, "rows after the end");
	hyb_destroy(st);

	/* nothing anywhere: final at once, zero rows */
	CHECK(hyb_create(&spec, &st) == HYB_OK, "create");
	CHECK(hyb_add(st, 0, NULL, NULL, 0, true) == HYB_OK && !hyb_final(st), "one of two ended");
	CHECK(hyb_add(st, 1, NULL, NULL, 0, true) == HYB_OK && hyb_final(st), "both ended");
	CHECK(hyb_topk(st, NULL) == 0 && hyb_next_branch(st) == -1, "no rows");
	hyb_destroy(st);
	CHECK(live_allocs == 0, "errors: %lld allocations not freed", (long long) live_allocs);
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? atoi(argv[1]) : 3000;

	worked_example();
	errors();
	random_cases(n, false, false, 120, "independent rankings");
	random_cases(n, true, false, 400, "correlated rankings");
	random_cases(n / 2, true, true, 200, "any deepening order");
	for (int nb = 1; nb <= 3; nb++)
	{
		typical(HYB_RRF, nb, false);
		typical(HYB_WSUM, nb, false);
	}
	typical(HYB_RRF, 2, true);
	typical(HYB_WSUM, 2, true);
	if (failures)
	{
		printf("%d failures\n", failures);
		return 1;
	}
	printf("unit_hyb_fusion: all passed\n");
	return 0;
}
