/*
 * layout_keys.c — vlake's footer keys (layout_keys.h).
 *
 * Backend-light (palloc, ereport): also linked into the frontend fuzzer
 * with the reader.
 */
#include "postgres.h"

#include "lake/lake_error.h"
#include "layout/layout_keys.h"

int
layout_declared_dim(const PqFileMetaData *fm, const char *column, const char *uri)
{
	char		colkey[NAMEDATALEN * 2 + 64];
	const char *dim = NULL;
	char	   *endp;
	long		d;

	/* a column name too long for the buffer cannot have its own key */
	if (snprintf(colkey, sizeof(colkey), "%s.%s", LAYOUT_KV_VECTOR_DIM, column) < (int) sizeof(colkey))
		dim = parquet_kv_value(fm, colkey);
	if (dim == NULL)
		dim = parquet_kv_value(fm, LAYOUT_KV_VECTOR_DIM);
	if (dim == NULL)
		return -1;
	d = strtol(dim, &endp, 10);
	if (*endp != '\0' || endp == dim || d <= 0 || d > 1000000)
		lake_corrupt("Parquet file", uri, "key-value metadata %s=\"%s\" is not a dimension",
					 LAYOUT_KV_VECTOR_DIM, dim);
	return (int) d;
}

int64
layout_first_row_id(const PqFileMetaData *fm, const char *uri)
{
	const char *v = parquet_kv_value(fm, LAYOUT_KV_FIRST_ROW_ID);
	char	   *end;
	long long	r;

	if (v == NULL)
		return -1;
	errno = 0;
	r = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || r < 0)
		lake_corrupt("Parquet file", uri, "key-value metadata %s=\"%s\" is not a row ID",
					 LAYOUT_KV_FIRST_ROW_ID, v);
	return (int64) r;
}

bool
layout_written_by_vlake(const PqFileMetaData *fm)
{
	const char *v = parquet_kv_value(fm, LAYOUT_KV_WRITER);

	return v != NULL && strncmp(v, "vlake ", 6) == 0;
}

static int
declared_list_length(const PqReader *r, const PqColumnDesc *col)
{
	return layout_declared_dim(r->meta, col->name, r->name);
}

void
layout_reader_init(PqReader *r)
{
	r->list_length = declared_list_length;
}
