/*
 * layout_footer.c — the footer keys vlake writes (layout_keys.h); apart
 * from layout_keys.c, which the frontend fuzzer links, because lists need
 * the backend.
 */
#include "postgres.h"

#include "layout/layout_keys.h"

List *
layout_add_key(List *kvs, const char *key, const char *value)
{
	PqKeyValue *kv = palloc(sizeof(PqKeyValue));

	kv->key = pstrdup(key);
	kv->value = value ? pstrdup(value) : NULL;
	return lappend(kvs, kv);
}

List *
layout_vcg_keys(List *kvs, int dim, int page_rows, bool float16)
{
	kvs = layout_add_key(kvs, LAYOUT_KV_LAYOUT, "vector_cg/1");
	kvs = layout_add_key(kvs, LAYOUT_KV_VECTOR_DIM, psprintf("%d", dim));
	kvs = layout_add_key(kvs, LAYOUT_KV_PAGE_ROWS, psprintf("%d", page_rows));
	if (float16)
		kvs = layout_add_key(kvs, LAYOUT_KV_VECTOR_ELEMENT, "float16");
	return kvs;
}
