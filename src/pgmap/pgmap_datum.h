/*
 * pgmap_datum.h — Parquet values as Postgres Datums.
 *
 * Default mapping (pgmap_column_pg_type):
 *   BOOLEAN -> boolean; INT32 -> integer (INT(8|16) -> smallint, UINT_32 ->
 *   bigint, DATE -> date, DECIMAL -> numeric, TIME -> time); INT64 -> bigint
 *   (UINT_64 and DECIMAL -> numeric, TIMESTAMP(UTC) -> timestamptz,
 *   TIMESTAMP(local) -> timestamp, TIME -> time); INT96 -> timestamp;
 *   FLOAT -> real; DOUBLE -> double precision; BYTE_ARRAY: STRING/ENUM ->
 *   text, JSON -> json, DECIMAL -> numeric, else bytea; FIXED_LEN_BYTE_ARRAY:
 *   UUID -> uuid, DECIMAL -> numeric, FLOAT16 -> real, else bytea.
 *   Lists: list<FLOAT> -> vector, list<FLOAT16> -> halfvec (when those
 *   types exist), other lists -> arrays of the element type.
 * Accepted alternatives (pgmap_target_ok): any type -> text (output function);
 *   list<FLOAT> -> real[]; list<FLOAT16> -> real[]; FIXED_LEN_BYTE_ARRAY of
 *   even width -> halfvec (the bytes are IEEE binary16, little-endian);
 *   FIXED_LEN_BYTE_ARRAY of width 4n -> vector (float32 little-endian).
 */
#ifndef VLAKE_PGMAP_DATUM_H
#define VLAKE_PGMAP_DATUM_H

#include "postgres.h"

#include "parquet/parquet_reader.h"

extern Oid	pgmap_column_pg_type(const PqColumnDesc *col);
extern bool pgmap_target_ok(const PqColumnDesc *col, Oid target);
/* Like pgmap_column_pg_type but lists always map to arrays (never fail on
 * empty lists or null elements). */
extern Oid	pgmap_column_safe_type(const PqColumnDesc *col);

/* Row k of v as a Datum of type target (checked with pgmap_target_ok). */
extern Datum pgmap_vector_datum(PqReader *r, const PqColumnDesc *col, const PqColumnVector *v,
							 int64 k, Oid target, bool *isnull);

/* One physical value (PLAIN bytes, e.g. statistics) as text, or NULL. */
extern char *pgmap_physical_to_text(PqReader *r, const PqColumnDesc *col, const PqBytes *b);

/* Parse text into the column's PLAIN physical bytes for a predicate. */
extern PqBytes pgmap_text_to_physical(PqReader *r, const PqColumnDesc *col, const char *s);

/* lo <= value(row k) <= hi on the physical value; nulls never match. */
extern bool pgmap_vector_matches(const PqColumnDesc *col, const PqPredicate *p,
							  const PqColumnVector *v, int64 k);

#endif							/* VLAKE_PGMAP_DATUM_H */
