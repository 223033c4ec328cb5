/*
 * fmnist — read the Fashion-MNIST IDX files (as shipped gzip-compressed by
 * Debian's dataset-fashion-mnist) and write them in PostgreSQL COPY text
 * format: id, label, category, embedding ('[p0,p1,...]', raw pixel values).
 *
 *   fmnist copy IMAGES.gz LABELS.gz [ID_OFFSET]
 *
 * The IDX header sizes are checked against the file before any read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *const category_names[10] = {
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
};

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "fmnist: %s: %s\n", path, what);
	exit(1);
}

/* Read a whole gzip file into memory. */
static unsigned char *
read_gz(const char *path, size_t *len)
{
	gzFile		f = gzopen(path, "rb");
	size_t		cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	int			got;

	if (!f)
		die("cannot open", path);
	while ((got = gzread(f, buf + n, (unsigned) (cap - n))) > 0)
	{
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			die("out of memory", path);
	}
	if (got < 0)
		die("corrupt gzip stream", path);
	gzclose(f);
	*len = n;
	return buf;
}

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* Parse an IDX header; returns a pointer to the data and the item count. */
static const unsigned char *
idx_items(const unsigned char *buf, size_t len, int ndims, uint32_t *count,
		  size_t *item_size, const char *path)
{
	size_t		hdr = 4 + 4 * (size_t) ndims;

	if (len < hdr || buf[0] != 0 || buf[1] != 0 || buf[2] != 0x08 || buf[3] != ndims)
		die("not an unsigned-byte IDX file of the expected rank", path);
	*count = be32(buf + 4);
	*item_size = 1;
	for (int d = 1; d < ndims; d++)
		*item_size *= be32(buf + 4 + 4 * d);
	if (*item_size == 0 || *item_size > 1 << 20 || (len - hdr) / *item_size < *count)
		die("IDX header does not match the file size", path);
	return buf + hdr;
}

int
main(int argc, char **argv)
{
	size_t		ilen, llen, isz, lsz;
	uint32_t	ni, nl;
	long		offset = argc > 4 ? atol(argv[4]) : 0;

	if (argc < 4 || strcmp(argv[1], "copy") != 0)
	{
		fprintf(stderr, "usage: fmnist copy IMAGES.gz LABELS.gz [ID_OFFSET]\n");
		return 2;
	}
	unsigned char *img = read_gz(argv[2], &ilen);
	unsigned char *lab = read_gz(argv[3], &llen);
	const unsigned char *pix = idx_items(img, ilen, 3, &ni, &isz, argv[2]);
	const unsigned char *lbl = idx_items(lab, llen, 1, &nl, &lsz, argv[3]);

	if (ni != nl)
		die("image and label counts differ", argv[3]);
	for (uint32_t i = 0; i < ni; i++)
	{
		int			label = lbl[i];

		if (label > 9)
			die("label out of range", argv[3]);
		printf("%ld\t%d\t%s\t[", offset + i, label, category_names[label]);
		for (size_t j = 0; j < isz; j++)
			printf(j ? ",%d" : "%d", pix[i * isz + j]);
		fputs("]\n", stdout);
	}
	free(img);
	free(lab);
	return 0;
}
