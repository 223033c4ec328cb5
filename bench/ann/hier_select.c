/*
 * hier_select — CPU of choosing the lists to probe, with one level (every
 * centroid compared) and with the second level (group centroids, then the
 * lists of the nearest groups until vlake.hierarchy_cover x probes), using
 * the index core (src/index/ivf.c) as the scan does.  Centroids and queries
 * are drawn reproducibly (seeded) from 1,000 Gaussian clusters.  Prints,
 * per (dim, lists, probes): µs per query for each, the share of the true
 * nearest `probes` lists the second level keeps, and the time to build the
 * second level.  Single-threaded; wall clock (CLOCK_MONOTONIC) of the whole
 * query loop, best of 3.
 *
 *   build/bin/hier_select [cover]      (default cover 8)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/ivf.h"
#include "vector/distance.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
gauss(uint64_t *s)
{
	double		u1 = ((ivf_rand(s) >> 11) + 1.0) / 9007199254740993.0;
	double		u2 = (ivf_rand(s) >> 11) / 9007199254740992.0;

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static float *
draw(int n, int dim, const float *centres, uint64_t *s)
{
	float	   *x = malloc(sizeof(float) * (size_t) n * dim);

	for (int i = 0; i < n; i++)
	{
		int			k = (int) (ivf_rand(s) % 1000);

		for (int j = 0; j < dim; j++)
			x[(size_t) i * dim + j] = centres[k * dim + j] + (float) (gauss(s) * 0.35);
	}
	return x;
}

/* the probes nearest of lists[0..n) by d[], into out[] (insertion, as the scan) */
static void
nearest(const int *lists, int n, const float *d, int probes, int *out)
{
	int			m = 0;

	for (int p = 0; p < n; p++)
	{
		int			c = lists[p];
		int			k;

		if (m == probes && d[c] >= d[out[m - 1]])
			continue;
		k = m < probes ? m++ : m - 1;
		while (k > 0 && d[out[k - 1]] > d[c])
		{
			out[k] = out[k - 1];
			k--;
		}
		out[k] = c;
	}
}

int
main(int argc, char **argv)
{
	double		factor = argc > 1 ? atof(argv[1]) : 8;
	int			dims[] = {32, 128, 768};
	int			listss[] = {1024, 4000, 10000};
	int			probess[] = {16, 64};
	const int	nq = 300;

	distance_init();
	printf("cover %.0fx probes; %d queries; one level = every centroid compared\n", factor, nq);
	for (int di = 0; di < 3; di++)
		for (int li = 0; li < 3; li++)
		{
			int			dim = dims[di],
						lists = listss[li];
			uint64_t	s = 42 + dim;
			float	   *centres = malloc(sizeof(float) * 1000 * dim);
			float	   *cent,
					   *q;
			int			want = ivf_default_groups(lists),
						groups;
			float	   *gcent = malloc(sizeof(float) * want * dim);
			float	   *gradius = malloc(sizeof(float) * want);
			uint32_t   *gstart = calloc(want + 1, sizeof(uint32_t));
			uint32_t   *members = malloc(sizeof(uint32_t) * lists);
			IvfKmeansScratch ks;
			int		   *all = malloc(sizeof(int) * lists),
					   *pool = malloc(sizeof(int) * lists),
					   *out = malloc(sizeof(int) * 1024),
					   *truth = malloc(sizeof(int) * 1024);
			float	   *d = malloc(sizeof(float) * lists),
					   *gdist = malloc(sizeof(float) * want);
			uint8_t    *gtaken = malloc(want);
			double		t0,
						tbuild;

			for (int i = 0; i < 1000 * dim; i++)
				centres[i] = (float) gauss(&s);
			cent = draw(lists, dim, centres, &s);
			q = draw(nq, dim, centres, &s);
			ks.assign = malloc(sizeof(int) * lists);
			ks.sums = malloc(sizeof(double) * want * dim);
			ks.counts = malloc(sizeof(int64_t) * want);
			ks.mind = malloc(sizeof(float) * lists);
			ks.blocks = NULL;
			t0 = now();
			groups = ivf_group_lists(cent, lists, dim, want, 10, 7, gcent, gstart,
									 members, &ks, NULL, NULL);
			tbuild = now() - t0;
			ivf_group_radii(cent, dim, gcent, groups, gstart, members, gradius);
			for (int c = 0; c < lists; c++)
				all[c] = c;

			for (int pi = 0; pi < 2; pi++)
			{
				int			probes = probess[pi];
				double		best1 = 1e9,
							best2 = 1e9;
				long		kept = 0,
							compared = 0;
				double		ratio = 0;

				for (int rep = 0; rep < 3; rep++)
				{
					t0 = now();
					for (int i = 0; i < nq; i++)
					{
						const float *qv = q + (size_t) i * dim;

						for (int c = 0; c < lists; c++)
							d[c] = vec_l2sq_f32(qv, cent + (size_t) c * dim, dim);
						nearest(all, lists, d, probes, out);
					}
					best1 = fmin(best1, now() - t0);
					t0 = now();
					kept = compared = 0;
					for (int i = 0; i < nq; i++)
					{
						const float *qv = q + (size_t) i * dim;
						int			np = ivf_select_group_lists(IVF_L2, qv, dim, gcent, gradius,
															   groups, gstart, members,
															   ivf_group_cover(probes, factor),
															   gdist, gtaken, pool);

						for (int p = 0; p < np; p++)
							d[pool[p]] = vec_l2sq_f32(qv, cent + (size_t) pool[p] * dim, dim);
						nearest(pool, np, d, probes, out);
						compared += groups + np;
					}
					best2 = fmin(best2, now() - t0);
				}
				/* quality, outside the timing: true nearest lists kept */
				for (int i = 0; i < nq; i++)
				{
					const float *qv = q + (size_t) i * dim;
					int			np = ivf_select_group_lists(IVF_L2, qv, dim, gcent, gradius,
														   groups, gstart, members,
														   ivf_group_cover(probes, factor),
														   gdist, gtaken, pool);

					for (int c = 0; c < lists; c++)
						d[c] = vec_l2sq_f32(qv, cent + (size_t) c * dim, dim);
					double		st = 0,
								sg = 0;

					nearest(all, lists, d, probes, truth);
					nearest(pool, np, d, probes, out);
					for (int a = 0; a < probes; a++)
					{
						for (int b = 0; b < probes; b++)
							if (truth[a] == out[b])
							{
								kept++;
								break;
							}
						st += sqrt(d[truth[a]]);
						sg += sqrt(d[out[a]]);
					}
					ratio += sg / st;
				}
				printf("dim %4d lists %5d (%3d groups) probes %2d: one level %7.1f us, two levels %6.1f us "
					   "(%4ld centroids); chosen lists: %.3f of the nearest, mean distance x %.4f; "
					   "second level built in %.0f ms\n",
					   dim, lists, groups, probes, best1 * 1e6 / nq, best2 * 1e6 / nq,
					   compared / nq, (double) kept / ((double) nq * probes), ratio / nq,
					   tbuild * 1e3);
			}
			free(centres); free(cent); free(q); free(gcent); free(gradius); free(gstart);
			free(members); free(ks.assign); free(ks.sums); free(ks.counts); free(ks.mind);
			free(all); free(pool); free(out); free(truth); free(d); free(gdist); free(gtaken);
		}
	return 0;
}
