/*
 * ivf.c — backend-independent core of the vlake index (see ivf.h).
 *
 * The estimator follows the RaBitQ construction: the residual o_r = o - c of
 * a vector to its partition centroid is normalised (o_u), randomly rotated
 * (y = P o_u) and quantised to one bit per dimension, x_bar = sign(y)/sqrt(D).
 * For a query residual q_r, <x_bar, P q_r> / <x_bar, y> is an unbiased
 * estimate of <o_u, q_r> whose error is, with high probability, below
 *     |q_r| * sqrt(1 - <x_bar,y>^2) / <x_bar,y> * eps0 / sqrt(D - 1).
 * Distances follow from that inner product, so each code yields an estimate
 * and a lower bound; the scan re-ranks exactly only the candidates whose
 * lower bound can still beat the results already known.
 *
 * The query side quantises P(q - c) to 4 bits per dimension, stored as four
 * bit planes, so <code, query> is four AND+popcount passes over the code.
 */
#include "index/ivf.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "vector/distance.h"

int
ivf_padded_dim(int dim)
{
	int			p = 64;

	while (p < dim)
		p <<= 1;
	return p;
}

uint64_t
ivf_rand(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void
ivf_make_signs(uint64_t seed, int pdim, uint8_t *signs)
{
	uint64_t	st = seed;
	uint64_t	r = 0;

	for (int i = 0; i < 3 * pdim; i++)
	{
		if ((i & 63) == 0)
			r = ivf_rand(&st);
		signs[i] = (uint8_t) ((r >> (i & 63)) & 1);
	}
}

/*
 * In-place normalised fast Walsh-Hadamard transform of x[n], n a power of 2.
 * Cloned per ISA level (chosen at load time) so the butterflies vectorise
 * without building the whole module for one CPU.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define IVF_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), optimize("tree-vectorize")))
#else
#define IVF_CLONES
#endif

IVF_CLONES
static void
fwht(float *x, int n)
{
	float		scale = 1.0f / sqrtf((float) n);

	/* stages h = 1, 2, 4 in registers, 8 elements at a time (n >= 64) */
	for (int i = 0; i < n; i += 8)
	{
		float	   *v = x + i;
		float		a0 = v[0] + v[1],
					a1 = v[0] - v[1],
					a2 = v[2] + v[3],
					a3 = v[2] - v[3],
					a4 = v[4] + v[5],
					a5 = v[4] - v[5],
					a6 = v[6] + v[7],
					a7 = v[6] - v[7];
		float		b0 = a0 + a2,
					b1 = a1 + a3,
					b2 = a0 - a2,
					b3 = a1 - a3,
					b4 = a4 + a6,
					b5 = a5 + a7,
					b6 = a4 - a6,
					b7 = a5 - a7;

		v[0] = b0 + b4;
		v[1] = b1 + b5;
		v[2] = b2 + b6;
		v[3] = b3 + b7;
		v[4] = b0 - b4;
		v[5] = b1 - b5;
		v[6] = b2 - b6;
		v[7] = b3 - b7;
	}
	/* stages h >= 8: contiguous runs, vectorised */
	for (int h = 8; h < n; h <<= 1)
	{
		for (int i = 0; i < n; i += h << 1)
		{
			float	   *lo = x + i,
					   *hi = x + i + h;

			for (int j = 0; j < h; j++)
			{
				float		a = lo[j],
							b = hi[j];

				lo[j] = a + b;
				hi[j] = a - b;
			}
		}
	}
	for (int i = 0; i < n; i++)
		x[i] *= scale;
}

IVF_CLONES
void
ivf_rotate(const IvfRotation *rot, const float *in, float *out)
{
	int			pdim = rot->pdim;

	memcpy(out, in, sizeof(float) * rot->dim);
	memset(out + rot->dim, 0, sizeof(float) * (pdim - rot->dim));
	for (int round = 0; round < 3; round++)
	{
		const uint8_t *s = rot->signs + round * pdim;

		/* branch-free sign flip: s[i] is 0 or 1 */
		for (int i = 0; i < pdim; i++)
			out[i] *= 1.0f - 2.0f * (float) s[i];
		fwht(out, pdim);
	}
}

void
ivf_normalize(float *v, int dim)
{
	double		n = 0;

	for (int i = 0; i < dim; i++)
		n += (double) v[i] * v[i];
	if (n > 0)
	{
		float		inv = (float) (1.0 / sqrt(n));

		for (int i = 0; i < dim; i++)
			v[i] *= inv;
	}
}

int
ivf_nearest(const float *centroids, int k, int dim, const float *v, float *dist)
{
	int			best = 0;
	float		bestd = FLT_MAX;

	for (int c = 0; c < k; c++)
	{
		float		d = vec_l2sq_f32(v, centroids + (size_t) c * dim, dim);

		if (d < bestd)
		{
			bestd = d;
			best = c;
		}
	}
	if (dist)
		*dist = bestd;
	return best;
}

/*
 * Nearest centroids of many vectors: the centroids in blocks of
 * IVF_BLOCK, interleaved by dimension (blocks[b][j][lane]), so that one
 * vector load serves IVF_BLOCK centroids and a tile of IVF_TILE vectors
 * keeps 8 independent sums in registers; the per-centroid loop of
 * ivf_nearest() streams every centroid once per vector and waits on one
 * sum.  Only with AVX-512 (runtime check): on narrower registers the
 * tile's sums do not fit and the loop below is slower than ivf_nearest().
 */
#define IVF_TILE	8

static bool force_generic;		/* ivf_set_generic(): portable paths only */

size_t
ivf_block_floats(int k, int dim)
{
	return (size_t) ((k + IVF_BLOCK - 1) / IVF_BLOCK) * IVF_BLOCK * dim;
}

void
ivf_centroid_blocks(const float *centroids, int k, int dim, float *blocks)
{
	int			nb = (k + IVF_BLOCK - 1) / IVF_BLOCK;

	for (int b = 0; b < nb; b++)
		for (int j = 0; j < dim; j++)
			for (int l = 0; l < IVF_BLOCK; l++)
			{
				int			c = b * IVF_BLOCK + l;

				/* padding lanes (c >= k) are never compared */
				blocks[((size_t) b * dim + j) * IVF_BLOCK + l] =
					c < k ? centroids[(size_t) c * dim + j] : 0;
			}
}

#if defined(__x86_64__) && defined(__GNUC__)
#define IVF_HAVE_TILE 1
typedef float ivf_v16 __attribute__((vector_size(64)));

/* acc[p][lane] = squared L2 of xs[p] to the block's centroid `lane` */
__attribute__((target("avx512f")))
static void
tile_l2(const float *blk, int dim, const float *const *xs, ivf_v16 *acc)
{
	ivf_v16		a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0},
				a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
	const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3],
			   *x4 = xs[4], *x5 = xs[5], *x6 = xs[6], *x7 = xs[7];

	for (int j = 0; j < dim; j++)
	{
		ivf_v16		c,
					d;

		memcpy(&c, blk + (size_t) j * IVF_BLOCK, sizeof(c));
		d = x0[j] - c;
		a0 += d * d;
		d = x1[j] - c;
		a1 += d * d;
		d = x2[j] - c;
		a2 += d * d;
		d = x3[j] - c;
		a3 += d * d;
		d = x4[j] - c;
		a4 += d * d;
		d = x5[j] - c;
		a5 += d * d;
		d = x6[j] - c;
		a6 += d * d;
		d = x7[j] - c;
		a7 += d * d;
	}
	acc[0] = a0;
	acc[1] = a1;
	acc[2] = a2;
	acc[3] = a3;
	acc[4] = a4;
	acc[5] = a5;
	acc[6] = a6;
	acc[7] = a7;
}

static bool
tile_usable(void)
{
	static int	usable = -1;

	if (usable < 0)
		usable = __builtin_cpu_supports("avx512f") ? 1 : 0;
	return usable == 1 && !force_generic;
}
#else
#define IVF_HAVE_TILE 0
#endif

void
ivf_nearest_batch(const float *centroids, const float *blocks, int k, int dim,
				  const float *x, int n, int *assign, float *dist)
{
#if IVF_HAVE_TILE
	if (blocks != NULL && tile_usable())
	{
		int			nb = (k + IVF_BLOCK - 1) / IVF_BLOCK;

		for (int i = 0; i < n; i += IVF_TILE)
		{
			const float *xs[IVF_TILE];
			int			best[IVF_TILE];
			float		bestd[IVF_TILE];

			/* a short last tile repeats its last vector */
			for (int p = 0; p < IVF_TILE; p++)
			{
				xs[p] = x + (size_t) (i + p < n ? i + p : n - 1) * dim;
				best[p] = 0;
				bestd[p] = FLT_MAX;
			}
			for (int b = 0; b < nb; b++)
			{
				ivf_v16		acc[IVF_TILE];
				int			lanes = k - b * IVF_BLOCK;

				if (lanes > IVF_BLOCK)
					lanes = IVF_BLOCK;
				tile_l2(blocks + (size_t) b * dim * IVF_BLOCK, dim, xs, acc);
				/* ascending centroids, strict <: ties go to the first, as in ivf_nearest */
				for (int p = 0; p < IVF_TILE; p++)
					for (int l = 0; l < lanes; l++)
						if (acc[p][l] < bestd[p])
						{
							bestd[p] = acc[p][l];
							best[p] = b * IVF_BLOCK + l;
						}
			}
			for (int p = 0; p < IVF_TILE && i + p < n; p++)
			{
				assign[i + p] = best[p];
				if (dist)
					dist[i + p] = bestd[p];
			}
		}
		return;
	}
#endif
	for (int i = 0; i < n; i++)
		assign[i] = ivf_nearest(centroids, k, dim, x + (size_t) i * dim,
								dist ? &dist[i] : NULL);
}

/*
 * k-means++ seeding: each next centre drawn with probability ~ D(x)^2.
 * near[i] is the centre nearest to x_i so far; a new centre c at
 * |c - near|^2 >= 4 D(x)^2 cannot be nearer (triangle inequality), so x_i
 * is skipped without reading it: after the first centres most points are.
 * cc[k] is scratch for the new centre's distances to the earlier ones.
 *
 * The seeds are drawn from every stride-th point (IVF_SEED_PER_CENTRE per
 * centre): each centre costs a pass over the candidates, which is the
 * serial part of a build, and the Lloyd iterations that follow use every
 * point anyway.
 */
static void
kmeanspp_seed(const float *x_all, int n_all, int dim, int k, uint64_t *st,
			  float *centroids, float *mind, int *near, double *cc,
			  ivf_tick_fn tick, void *arg)
{
	int			stride = ivf_seed_stride(n_all, k);
	int			n = (n_all + stride - 1) / stride;
	size_t		step = (size_t) stride * dim;	/* floats from one candidate to the next */
	int			first = (int) (ivf_rand(st) % (uint64_t) n);

	memcpy(centroids, x_all + (size_t) first * step, sizeof(float) * dim);
	for (int i = 0; i < n; i++)
	{
		mind[i] = vec_l2sq_f32(x_all + (size_t) i * step, centroids, dim);
		near[i] = 0;
	}

	for (int c = 1; c < k; c++)
	{
		double		total = 0,
					target,
					acc = 0;
		int			pick = n - 1;
		const float *cen = centroids + (size_t) c * dim;

		for (int i = 0; i < n; i++)
			total += mind[i];
		target = (double) (ivf_rand(st) >> 11) / 9007199254740992.0 * total;
		for (int i = 0; i < n; i++)
		{
			acc += mind[i];
			if (acc >= target && mind[i] > 0)
			{
				pick = i;
				break;
			}
		}
		memcpy(centroids + (size_t) c * dim, x_all + (size_t) pick * step,
			   sizeof(float) * dim);
		for (int j = 0; j < c; j++)
			cc[j] = vec_l2sq_f32(cen, centroids + (size_t) j * dim, dim);
		for (int i = 0; i < n; i++)
		{
			float		d;

			/* a margin keeps float rounding from skipping a nearer centre */
			if (cc[near[i]] >= 4.0 * mind[i] * (1 + 1e-4))
				continue;
			d = vec_l2sq_f32(x_all + (size_t) i * step, cen, dim);
			if (d < mind[i])
			{
				mind[i] = d;
				near[i] = c;
			}
		}
		if (tick)
			tick(arg, c);
	}
}

int
ivf_seed_stride(int n, int k)
{
	int64_t		per = (int64_t) k * IVF_SEED_PER_CENTRE;

	return n > per ? (int) ((n + per - 1) / per) : 1;
}

double
ivf_kmeans(const float *x, int n, int dim, int k, int iters, uint64_t seed,
		   float *centroids, IvfKmeansScratch *s, ivf_tick_fn tick, void *arg)
{
	uint64_t	st = seed;
	double		mse = 0;

	if (n <= 0 || k <= 0)
		return 0;
	if (k >= n)
	{
		/* Every point is its own centre; the rest repeat the last point. */
		for (int c = 0; c < k; c++)
			memcpy(centroids + (size_t) c * dim,
				   x + (size_t) (c < n ? c : n - 1) * dim, sizeof(float) * dim);
		return 0;
	}

	/* sums is free until the first iteration: the seeding's cc[k] */
	kmeanspp_seed(x, n, dim, k, &st, centroids, s->mind, s->assign, s->sums,
				  tick, arg);

	for (int it = 0; it < iters; it++)
	{
		mse = 0;
		memset(s->sums, 0, sizeof(double) * (size_t) k * dim);
		memset(s->counts, 0, sizeof(int64_t) * k);
		if (s->blocks)
			ivf_centroid_blocks(centroids, k, dim, s->blocks);
		for (int lo = 0; lo < n; lo += 256)
		{
			int			m = n - lo < 256 ? n - lo : 256;

			ivf_nearest_batch(centroids, s->blocks, k, dim, x + (size_t) lo * dim, m,
							  s->assign + lo, s->mind + lo);
			for (int i = lo; i < lo + m; i++)
			{
				const float *xi = x + (size_t) i * dim;
				double	   *sum = s->sums + (size_t) s->assign[i] * dim;

				s->counts[s->assign[i]]++;
				mse += s->mind[i];
				for (int j = 0; j < dim; j++)
					sum[j] += xi[j];
			}
			if (tick)
				tick(arg, lo);
		}
		for (int c = 0; c < k; c++)
		{
			float	   *cen = centroids + (size_t) c * dim;

			if (s->counts[c] == 0)
			{
				/* Re-seed an empty cluster with the worst-served point. */
				int			far = 0;

				for (int i = 1; i < n; i++)
					if (s->mind[i] > s->mind[far])
						far = i;
				memcpy(cen, x + (size_t) far * dim, sizeof(float) * dim);
				s->mind[far] = 0;
				continue;
			}
			for (int j = 0; j < dim; j++)
				cen[j] = (float) (s->sums[(size_t) c * dim + j] / s->counts[c]);
		}
	}
	return mse / n;
}

int
ivf_default_groups(int lists)
{
	int			g = (int) ceil(4 * sqrt((double) lists));

	if (g > lists)
		g = lists;
	return g < 1 ? 1 : g;
}

int
ivf_group_lists(const float *centroids, int lists, int dim, int want,
				int iters, uint64_t seed, float *gcent, uint32_t *gstart,
				uint32_t *members, IvfKmeansScratch *s, ivf_tick_fn tick,
				void *arg)
{
	int			groups = 0;

	if (lists <= 0)
		return 0;
	if (want < 1)
		want = 1;
	if (want > lists)
		want = lists;
	ivf_kmeans(centroids, lists, dim, want, iters, seed, gcent, s, tick, arg);

	/*
	 * Final assignment with the final centres (Lloyd's last step moved them
	 * after assigning), then the centres recomputed from their members so
	 * that each is the mean of exactly the lists it stands for.
	 */
	memset(s->counts, 0, sizeof(int64_t) * want);
	memset(s->sums, 0, sizeof(double) * (size_t) want * dim);
	for (int c = 0; c < lists; c++)
	{
		const float *x = centroids + (size_t) c * dim;
		int			g = ivf_nearest(gcent, want, dim, x, NULL);
		double	   *sum = s->sums + (size_t) g * dim;

		s->assign[c] = g;
		s->counts[g]++;
		for (int j = 0; j < dim; j++)
			sum[j] += x[j];
		if (tick && (c & 255) == 0)
			tick(arg, c);
	}

	/* renumber the non-empty groups densely: counts[g] becomes the new id */
	for (int g = 0; g < want; g++)
	{
		if (s->counts[g] == 0)
		{
			s->counts[g] = -1;
			continue;
		}
		for (int j = 0; j < dim; j++)
			gcent[(size_t) groups * dim + j] =
				(float) (s->sums[(size_t) g * dim + j] / s->counts[g]);
		gstart[groups + 1] = (uint32_t) s->counts[g];
		s->counts[g] = groups++;
	}
	/* counting sort of the lists by group */
	gstart[0] = 0;
	for (int g = 0; g < groups; g++)
		gstart[g + 1] += gstart[g];
	for (int g = 0; g < groups; g++)
		s->mind[g] = 0;			/* fill counter per group (fits: groups <= lists) */
	for (int c = 0; c < lists; c++)
	{
		int			g = (int) s->counts[s->assign[c]];

		members[gstart[g] + (uint32_t) s->mind[g]] = (uint32_t) c;
		s->mind[g] += 1.0f;
	}
	return groups;
}

int
ivf_group_cover(int probes, double factor)
{
	double		f = factor;

	if (probes > 16)
		f = factor * sqrt(16.0 / probes);
	if (f < 2 && factor >= 2)
		f = 2;
	if (f < 1)
		f = 1;
	return (int) ceil(probes * f);
}

const char *
ivf_check_groups(int lists, int groups, const uint32_t *gstart,
				 const uint32_t *members, uint8_t *seen)
{
	if (groups < 1 || groups > lists)
		return "group count out of range";
	if (gstart[0] != 0 || gstart[groups] != (uint32_t) lists)
		return "group directory does not cover the lists";
	for (int g = 0; g < groups; g++)
		if (gstart[g] > gstart[g + 1])
			return "group directory goes backwards";
	memset(seen, 0, lists);
	for (int i = 0; i < lists; i++)
	{
		if (members[i] >= (uint32_t) lists)
			return "group member names a list out of range";
		if (seen[members[i]])
			return "group member names a list twice";
		seen[members[i]] = 1;
	}
	return NULL;
}

void
ivf_group_radii(const float *centroids, int dim, const float *gcent,
				int groups, const uint32_t *gstart, const uint32_t *members,
				float *radius)
{
	for (int g = 0; g < groups; g++)
	{
		float		r2 = 0;

		for (uint32_t i = gstart[g]; i < gstart[g + 1]; i++)
		{
			float		d = vec_l2sq_f32(centroids + (size_t) members[i] * dim,
										gcent + (size_t) g * dim, dim);

			r2 = d > r2 ? d : r2;
		}
		radius[g] = sqrtf(r2);
	}
}

int
ivf_select_group_lists(IvfMetric metric, const float *q, int dim,
					   const float *gcent, const float *gradius, int groups,
					   const uint32_t *gstart, const uint32_t *members,
					   int cover, float *gdist, uint8_t *gtaken, int *out)
{
	int			n = 0;
	/*
	 * IP: a list centroid c = g + d of group g has <q, c> = <q, g> + <q, d>.
	 * |q| radius bounds <q, d> but ranks wide groups first however far they
	 * are; for directions d independent of q, <q, d> is about
	 * |q| |d| / sqrt(dim), and the best of a group's lists a couple of such
	 * deviations, so the radius is weighted by 2 / sqrt(dim) (measured in
	 * unit_ivf: it keeps the recall of comparing every centroid).
	 */
	float		qnorm = metric == IVF_IP ? sqrtf(vec_dot_f32(q, q, dim)) : 0;
	float		beta = 2.0f / sqrtf((float) dim);

	if (beta > 1.0f)
		beta = 1.0f;
	qnorm *= beta;

	for (int g = 0; g < groups; g++)
	{
		const float *gc = gcent + (size_t) g * dim;

		if (metric == IVF_IP)
			gdist[g] = -(vec_dot_f32(q, gc, dim) + qnorm * gradius[g]);
		else
			gdist[g] = vec_l2sq_f32(q, gc, dim);
		gtaken[g] = 0;
	}
	/* nearest remaining group, until enough lists: few picks, linear scans */
	while (n < cover)
	{
		int			best = -1;

		for (int g = 0; g < groups; g++)
			if (!gtaken[g] && (best < 0 || gdist[g] < gdist[best]))
				best = g;
		if (best < 0)
			break;
		gtaken[best] = 1;
		for (uint32_t i = gstart[best]; i < gstart[best + 1]; i++)
			out[n++] = (int) members[i];
	}
	return n;
}

void
ivf_encode(const IvfRotation *rot, IvfMetric metric, const float *v,
		   const float *c, uint64_t *code, IvfFactor *f, float *tmp)
{
	int			dim = rot->dim,
				pdim = rot->pdim,
				words = pdim / 64;
	float	   *res = tmp;
	float	   *y = tmp + pdim;
	double		r2 = 0,
				cdot = 0,
				absum = 0,
				r2p[4] = {0},
				cdotp[4] = {0},
				absp[4] = {0};
	int			pop = 0,
				i;

	/*
	 * Four partial sums each: one chain of dependent double additions was
	 * most of the encoding's time; the bits are set without branches (the
	 * signs of y are coin flips, a branch on them mispredicts half the time).
	 */
	for (i = 0; i + 4 <= dim; i += 4)
		for (int u = 0; u < 4; u++)
		{
			res[i + u] = v[i + u] - c[i + u];
			r2p[u] += (double) res[i + u] * res[i + u];
			cdotp[u] += (double) c[i + u] * res[i + u];
		}
	for (; i < dim; i++)
	{
		res[i] = v[i] - c[i];
		r2p[0] += (double) res[i] * res[i];
		cdotp[0] += (double) c[i] * res[i];
	}
	r2 = (r2p[0] + r2p[1]) + (r2p[2] + r2p[3]);
	cdot = (cdotp[0] + cdotp[1]) + (cdotp[2] + cdotp[3]);
	ivf_rotate(rot, res, y);
	for (int w = 0; w < words; w++)
	{
		const float *yw = y + w * 64;
		uint64_t	bits = 0;

		for (int j = 0; j < 64; j++)
		{
			bits |= (uint64_t) (yw[j] > 0) << j;
			absp[j & 3] += fabsf(yw[j]);
		}
		code[w] = bits;
		pop += __builtin_popcountll(bits);
	}
	absum = (absp[0] + absp[1]) + (absp[2] + absp[3]);

	f->r = (float) sqrt(r2);
	f->extra = metric == IVF_IP ? (float) cdot : (float) r2;
	f->pop = (float) pop;
	if (r2 <= 0 || absum <= 0)
	{
		/* The vector is its centroid: the distance is exact. */
		f->inv_ip = 0;
		f->err = 0;
	}
	else
	{
		/* y is P(o - c); <x_bar, y/|y|> = sum|y| / (sqrt(D) |y|) */
		double		ip = absum / (sqrt((double) pdim) * sqrt(r2));

		if (ip > 1)
			ip = 1;
		f->inv_ip = (float) (1.0 / ip);
		f->err = (float) (sqrt(1 - ip * ip) / ip / sqrt((double) pdim - 1));
	}
}

/* Quantise v[pdim] to levels 0..15 ((v - lo) * inv, rounded), written as
 * four bit planes; returns the sum of the levels. */
typedef uint64_t (*quantize_fn) (const float *v, int pdim, float lo, float inv,
								 uint64_t *planes);

static uint64_t
quantize_generic(const float *v, int pdim, float lo, float inv, uint64_t *planes)
{
	int			words = pdim / 64;
	uint64_t	sum = 0;

	for (int w = 0; w < words; w++)
	{
		uint64_t	p0 = 0,
					p1 = 0,
					p2 = 0,
					p3 = 0;

		for (int j = 0; j < 64; j++)
		{
			uint32_t	l = (uint32_t) ((v[w * 64 + j] - lo) * inv + 0.5f);

			if (l > 15)
				l = 15;
			sum += l;
			p0 |= (uint64_t) (l & 1) << j;
			p1 |= (uint64_t) ((l >> 1) & 1) << j;
			p2 |= (uint64_t) ((l >> 2) & 1) << j;
			p3 |= (uint64_t) ((l >> 3) & 1) << j;
		}
		planes[w] = p0;
		planes[words + w] = p1;
		planes[2 * words + w] = p2;
		planes[3 * words + w] = p3;
	}
	return sum;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static uint64_t
quantize_avx512(const float *v, int pdim, float lo, float inv, uint64_t *planes)
{
	int			words = pdim / 64;
	__m512		vlo = _mm512_set1_ps(lo),
				vinv = _mm512_set1_ps(inv),
				half = _mm512_set1_ps(0.5f);
	__m512i		fifteen = _mm512_set1_epi32(15),
				acc = _mm512_setzero_si512();

	for (int w = 0; w < words; w++)
	{
		uint64_t	p[4] = {0, 0, 0, 0};

		for (int j = 0; j < 64; j += 16)
		{
			__m512		x = _mm512_loadu_ps(v + w * 64 + j);
			__m512i		l = _mm512_cvttps_epi32(_mm512_fmadd_ps(_mm512_sub_ps(x, vlo), vinv, half));

			l = _mm512_min_epi32(_mm512_max_epi32(l, _mm512_setzero_si512()), fifteen);
			acc = _mm512_add_epi32(acc, l);
			for (int b = 0; b < 4; b++)
				p[b] |= (uint64_t) _mm512_test_epi32_mask(l, _mm512_set1_epi32(1 << b)) << j;
		}
		for (int b = 0; b < 4; b++)
			planes[b * words + w] = p[b];
	}
	return (uint64_t) _mm512_reduce_add_epi32(acc);
}
#endif

static quantize_fn quantize = NULL;

IVF_CLONES
static void
residual_minmax(const float *a, const float *b, int n, float *out,
				float *lo_out, float *hi_out)
{
	float		lo = FLT_MAX,
				hi = -FLT_MAX;

	for (int i = 0; i < n; i++)
		out[i] = a[i] - b[i];
	for (int i = 0; i < n; i++)
	{
		lo = out[i] < lo ? out[i] : lo;
		hi = out[i] > hi ? out[i] : hi;
	}
	*lo_out = lo;
	*hi_out = hi;
}

void
ivf_query_prepare(int pdim, const float *qrot, const float *crot,
				  float rq2, float qc, uint64_t *planes, float *tmp,
				  IvfQueryPart *qp)
{
	float		lo = FLT_MAX,
				hi = -FLT_MAX,
				delta,
				inv;
	uint64_t	sumq;

	if (!quantize)
	{
		quantize = quantize_generic;
#if defined(__x86_64__) && defined(__GNUC__)
		__builtin_cpu_init();
		if (!force_generic && __builtin_cpu_supports("avx512f"))
			quantize = quantize_avx512;
#endif
	}
	residual_minmax(qrot, crot, pdim, tmp, &lo, &hi);
	delta = (hi - lo) / 15.0f;
	inv = delta > 0 ? 1.0f / delta : 0;
	sumq = quantize(tmp, pdim, lo, inv, planes);

	qp->words = pdim / 64;
	qp->planes = planes;
	qp->lo = lo;
	qp->delta = delta;
	qp->sumq = (float) (lo * pdim + delta * (double) sumq);
	qp->rq2 = rq2;
	qp->rq = sqrtf(rq2);
	qp->qc = qc;
	qp->inv_sqrt_d = 1.0f / sqrtf((float) pdim);
}

/* Sum over set bits of the code of the quantised query levels. */
typedef void (*level_sums_fn) (const uint64_t *codes, int n, int words,
							   const uint64_t *planes, uint32_t *out);

static void
level_sums_generic(const uint64_t *codes, int n, int words,
				   const uint64_t *planes, uint32_t *out)
{
	for (int i = 0; i < n; i++)
	{
		const uint64_t *c = codes + (size_t) i * words;
		uint32_t	s = 0;

		for (int b = 0; b < 4; b++)
		{
			const uint64_t *p = planes + b * words;
			uint32_t	cnt = 0;

			for (int w = 0; w < words; w++)
				cnt += (uint32_t) __builtin_popcountll(c[w] & p[w]);
			s += cnt << b;
		}
		out[i] = s;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("popcnt")))
static void
level_sums_popcnt(const uint64_t *codes, int n, int words,
				  const uint64_t *planes, uint32_t *out)
{
	for (int i = 0; i < n; i++)
	{
		const uint64_t *c = codes + (size_t) i * words;
		uint64_t	s0 = 0,
					s1 = 0,
					s2 = 0,
					s3 = 0;

		for (int w = 0; w < words; w++)
		{
			uint64_t	cw = c[w];

			s0 += (uint64_t) _mm_popcnt_u64(cw & planes[w]);
			s1 += (uint64_t) _mm_popcnt_u64(cw & planes[words + w]);
			s2 += (uint64_t) _mm_popcnt_u64(cw & planes[2 * words + w]);
			s3 += (uint64_t) _mm_popcnt_u64(cw & planes[3 * words + w]);
		}
		out[i] = (uint32_t) (s0 + (s1 << 1) + (s2 << 2) + (s3 << 3));
	}
}

/* AVX-512 with VPOPCNTDQ: 8 words of the code per instruction. */
__attribute__((target("avx512f,avx512vpopcntdq")))
static void
level_sums_avx512(const uint64_t *codes, int n, int words,
				  const uint64_t *planes, uint32_t *out)
{
	if (words % 8 != 0)
	{
		level_sums_popcnt(codes, n, words, planes, out);
		return;
	}
	for (int i = 0; i < n; i++)
	{
		const uint64_t *c = codes + (size_t) i * words;
		__m512i		acc = _mm512_setzero_si512();

		for (int w = 0; w < words; w += 8)
		{
			__m512i		cw = _mm512_loadu_si512((const void *) (c + w));
			__m512i		p0 = _mm512_loadu_si512((const void *) (planes + w));
			__m512i		p1 = _mm512_loadu_si512((const void *) (planes + words + w));
			__m512i		p2 = _mm512_loadu_si512((const void *) (planes + 2 * words + w));
			__m512i		p3 = _mm512_loadu_si512((const void *) (planes + 3 * words + w));
			__m512i		t;

			t = _mm512_popcnt_epi64(_mm512_and_si512(cw, p0));
			t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(cw, p1)), 1));
			t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(cw, p2)), 2));
			t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(cw, p3)), 3));
			acc = _mm512_add_epi64(acc, t);
		}
		out[i] = (uint32_t) _mm512_reduce_add_epi64(acc);
	}
}
#endif

static level_sums_fn level_sums = NULL;
static const char *level_name = "generic";

void
ivf_set_generic(bool generic)
{
	force_generic = generic;
	level_sums = NULL;
	quantize = NULL;
}

static void
choose_level(void)
{
	level_sums = level_sums_generic;
	level_name = "generic";
	if (force_generic)
		return;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512vpopcntdq"))
	{
		level_sums = level_sums_avx512;
		level_name = "avx512-vpopcntdq";
	}
	else if (__builtin_cpu_supports("popcnt"))
	{
		level_sums = level_sums_popcnt;
		level_name = "popcnt";
	}
#endif
}

const char *
ivf_scan_level(void)
{
	if (!level_sums)
		choose_level();
	return level_name;
}

#define SCAN_BLOCK 64

void
ivf_scan_codes(IvfMetric metric, const IvfQueryPart *qp,
			   const uint64_t *codes, const IvfFactor *f, int n,
			   float eps0, float *est, float *lb)
{
	uint32_t	sums[SCAN_BLOCK];

	if (!level_sums)
		choose_level();

	for (int base = 0; base < n; base += SCAN_BLOCK)
	{
		int			m = n - base < SCAN_BLOCK ? n - base : SCAN_BLOCK;

		level_sums(codes + (size_t) base * qp->words, m, qp->words,
				   qp->planes, sums);
		for (int j = 0; j < m; j++)
		{
			const IvfFactor *fj = &f[base + j];
			/* sum over set bits of the quantised query */
			float		sb = qp->lo * fj->pop + qp->delta * (float) sums[j];
			/* <x_bar, P q_r> with x_bar = (2b - 1) / sqrt(D) */
			float		xq = (2.0f * sb - qp->sumq) * qp->inv_sqrt_d;
			/* estimate of <o_u, q_r> and its error (bound + query rounding) */
			float		t = xq * fj->inv_ip;
			float		e = eps0 * fj->err * qp->rq + qp->delta * fj->inv_ip;
			float		d,
						slack;

			if (metric == IVF_IP)
			{
				d = -(qp->qc + fj->extra + fj->r * t);
				slack = fj->r * e;
			}
			else
			{
				d = qp->rq2 + fj->extra - 2.0f * fj->r * t;
				slack = 2.0f * fj->r * e;
			}
			est[base + j] = d;
			lb[base + j] = d - slack;
		}
	}
}

float
ivf_exact_distance(IvfMetric metric, const float *a, const float *b, int dim)
{
	switch (metric)
	{
		case IVF_IP:
			return -vec_dot_f32(a, b, dim);
		case IVF_COSINE:
			/* both sides are stored / passed normalised */
			return 1.0f - vec_dot_f32(a, b, dim);
		case IVF_L2:
		default:
			return vec_l2sq_f32(a, b, dim);
	}
}

/* ------------------------------------------------------ adaptive probing */

void
ivf_probe_stop_init(IvfProbeStop *ps, int k)
{
	memset(ps, 0, sizeof(*ps));
	ps->k = k < 1 ? 1 : (k > IVF_PROBE_K ? IVF_PROBE_K : k);
}

void
ivf_probe_stop_observe(IvfProbeStop *ps, const float *est, int n,
					   IvfProbeList *obs)
{
	int			entered = 0;

	for (int i = 0; i < n; i++)
	{
		float		e = est[i];
		int			j;

		if (ps->ntop == ps->k && !(e < ps->top[ps->k - 1]))
			continue;
		/* insertion into the sorted top (k is small) */
		j = ps->ntop < ps->k ? ps->ntop++ : ps->k - 1;
		while (j > 0 && ps->top[j - 1] > e)
		{
			ps->top[j] = ps->top[j - 1];
			j--;
		}
		ps->top[j] = e;
		entered++;
	}
	ps->probed++;
	if (entered > 0)
	{
		ps->quiet = 0;
		ps->last_contrib = ps->probed;
	}
	else
		ps->quiet++;
	if (obs)
	{
		obs->entered = entered;
		obs->quiet = ps->quiet;
		obs->last_contrib = ps->last_contrib;
	}
}

bool
ivf_probe_stop_decide(const IvfProbeParams *pp, const IvfProbeList *obs,
					  int probed)
{
	if (probed >= pp->ceiling)
		return true;
	if (probed < pp->floor)
		return false;
	return obs->quiet >= pp->patience + (int) (pp->depth * obs->last_contrib);
}

/*
 * A path through the lists' centroids, so that lists near each other in
 * space get neighbouring numbers (hence neighbouring blocks in codes.bin).
 * A query probes the lists nearest to it, which are near each other too;
 * numbered along such a path they fall into a few runs of adjacent blocks,
 * and a cold query reads a run in one ranged request instead of one
 * request per list.  Greedy nearest neighbour from the centroid farthest
 * from the mean (an end of the cloud, not its middle): O(lists^2 dim)
 * distance work, lists <= IVF_PATH_MAX_WORK / (lists dim) (see ivf.h).
 */
bool
ivf_list_path(const float *centroids, int lists, int dim, int *order, float *mean,
			  ivf_tick_fn tick, void *tick_arg)
{
	int			n = 0,
				cur = 0;
	float		far = -1;

	if (lists <= 2 || (double) lists * lists * dim > IVF_PATH_MAX_WORK)
		return false;
	memset(mean, 0, sizeof(float) * dim);
	for (int c = 0; c < lists; c++)
		for (int j = 0; j < dim; j++)
			mean[j] += centroids[(size_t) c * dim + j] / lists;
	for (int c = 0; c < lists; c++)
	{
		float		d = vec_l2sq_f32(mean, centroids + (size_t) c * dim, dim);

		if (d > far)
		{
			far = d;
			cur = c;
		}
	}
	/* order[n..lists) holds the lists not on the path yet */
	for (int c = 0; c < lists; c++)
		order[c] = c;
	order[cur] = 0;
	order[0] = cur;
	for (n = 1; n < lists; n++)
	{
		const float *from = centroids + (size_t) order[n - 1] * dim;
		int			best = n;
		float		bestd = FLT_MAX;

		for (int i = n; i < lists; i++)
		{
			float		d = vec_l2sq_f32(from, centroids + (size_t) order[i] * dim, dim);

			if (d < bestd || (d == bestd && order[i] < order[best]))
			{
				bestd = d;
				best = i;
			}
		}
		cur = order[best];
		order[best] = order[n];
		order[n] = cur;
		if (tick && (n & 63) == 0)
			tick(tick_arg, n);
	}
	return true;
}
