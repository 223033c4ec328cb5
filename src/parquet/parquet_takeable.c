/*
 * parquet_takeable.c — the conditions for offset-computed take (parquet_takeable.h).
 * No allocation: also linked into the frontend fuzzer with the reader.
 */
#include "postgres.h"

#include "parquet/parquet_takeable.h"

bool
parquet_chunk_takeable(const PqColumnChunk *cc, bool *may_have_nulls, char *why, size_t whylen)
{
	const PqColumnMetaData *m = &cc->meta_data;

	*may_have_nulls = true;
	if (!cc->has_meta_data)
	{
		if (why)
			snprintf(why, whylen, "has no column metadata");
		return false;
	}
	if (m->codec != PARQUET_CODEC_UNCOMPRESSED)
	{
		if (why)
			snprintf(why, whylen, "is compressed (%s)", parquet_codec_name(m->codec));
		return false;
	}
	if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0)
	{
		if (why)
			snprintf(why, whylen, "has a dictionary page");
		return false;
	}
	for (int e = 0; e < m->num_encodings; e++)
		if (m->encodings[e] != PARQUET_ENC_PLAIN && m->encodings[e] != PARQUET_ENC_RLE &&
			m->encodings[e] != PARQUET_ENC_BIT_PACKED)
		{
			if (why)
				snprintf(why, whylen, "uses encoding %s", parquet_encoding_name(m->encodings[e]));
			return false;
		}
	*may_have_nulls = !(m->has_statistics && m->statistics.has_null_count &&
						m->statistics.null_count == 0);
	return true;
}

bool
parquet_offset_index_uniform(const PqOffsetIndex *oi, int64 chunk_start, int64 chunk_end,
						int64 rg_rows)
{
	const PqPageLocation *pl = oi->page_locations;
	int			n = oi->num_pages;
	int64		rows0,
				size0;

	if (n < 1 || pl[0].offset != chunk_start || pl[0].first_row_index != 0)
		return false;
	rows0 = (n > 1 ? pl[1].first_row_index : rg_rows);
	size0 = pl[0].compressed_page_size;
	for (int p = 0; p < n; p++)
	{
		int64		end = (p + 1 < n) ? pl[p + 1].offset : chunk_end;
		int64		rows = ((p + 1 < n) ? pl[p + 1].first_row_index : rg_rows) - pl[p].first_row_index;

		if (pl[p].offset + (int64) pl[p].compressed_page_size != end)
			return false;
		if (p + 1 < n ? (rows != rows0 || pl[p].compressed_page_size != size0)
			: (rows <= 0 || rows > rows0 || pl[p].compressed_page_size > size0))
			return false;
	}
	return true;
}
