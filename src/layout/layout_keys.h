/*
 * layout_keys.h — the key-value metadata vlake writes into its Parquet
 * footers, and what its readers make of it (docs/parquet-layout.md).
 *
 * These keys are vlake's own layout contract on top of generic Parquet:
 *   vlake.writer                 "vlake <version>"
 *   vlake.layout                 "vector_cg/1" for a vector ColumnGroup
 *   vlake.vector_dim             the vector ColumnGroup's dimension
 *   vlake.vector_dim.<column>    every row of LIST column <column> holds
 *                                exactly this many values
 *   vlake.page_rows              rows per page of a vector ColumnGroup
 *   vlake.vector_element         "float16": a halfvec ColumnGroup
 *   vlake.first_row_id           row ID of the file's row 0 (ColumnGroups
 *                                of a segment)
 */
#ifndef VLAKE_LAYOUT_KEYS_H
#define VLAKE_LAYOUT_KEYS_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "parquet/parquet_reader.h"

#define LAYOUT_KV_WRITER		"vlake.writer"
#define LAYOUT_KV_LAYOUT		"vlake.layout"	/* "vector_cg/1" for vector CGs */
#define LAYOUT_KV_VECTOR_DIM	"vlake.vector_dim"
#define LAYOUT_KV_PAGE_ROWS		"vlake.page_rows"
#define LAYOUT_KV_FIRST_ROW_ID	"vlake.first_row_id"	/* row ID of row 0 */
#define LAYOUT_KV_VECTOR_ELEMENT "vlake.vector_element"	/* "float16": halfvec CG */

/* Declared values per row of LIST column "column"; -1 if none; ERROR (naming
 * uri) if malformed. */
extern int	layout_declared_dim(const PqFileMetaData *fm, const char *column, const char *uri);

/* Row ID of the file's row 0 (vlake.first_row_id); -1 when absent; ERROR
 * (naming uri) if malformed. */
extern int64 layout_first_row_id(const PqFileMetaData *fm, const char *uri);
/* Did vlake write the file (its vlake.writer key is "vlake <version>")? */
extern bool layout_written_by_vlake(const PqFileMetaData *fm);

/*
 * Tell a reader what the layout keys declare (the fixed number of values
 * per row of LIST columns), so that parquet_take can locate a row's values
 * without decoding its page.  Call after parquet_reader_open.
 */
extern void layout_reader_init(PqReader *r);

/* Append a key-value pair (copied) to a footer list of PqKeyValue*. */
extern List *layout_add_key(List *kvs, const char *key, const char *value);

/* The keys that make a file a vector ColumnGroup of dimension dim. */
extern List *layout_vcg_keys(List *kvs, int dim, int page_rows, bool float16);

#endif							/* VLAKE_LAYOUT_KEYS_H */
