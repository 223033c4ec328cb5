/*
 * objstore_init.c — GUCs of the objstore layer.
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "vlake.h"
#include "objstore/objstore_internal.h"
#include "objstore/s3_config.h"

char	   *objstore_allowed_file_roots = NULL;
char	   *objstore_cache_dir = NULL;
int			objstore_cache_size_mb = 1024;
int			objstore_cache_block_kb = 64;
bool		objstore_cache_file_uris = false;
int			objstore_mem_cache_kb = 16384;
int			objstore_mem_object_max_kb = 1024;
int			objstore_sweep_exact_max = 65536;

/* Each comma-separated entry must be an absolute directory path. */
static bool
check_allowed_file_roots(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	char	   *save;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		while (*tok == ' ' || *tok == '\t')
			tok++;
		if (*tok == '\0')
			continue;
		if (*tok != '/')
		{
			GUC_check_errdetail("\"%s\" is not an absolute path.", tok);
			pfree(copy);
			return false;
		}
		if (strstr(tok, "/../") || strstr(tok, "/./") ||
			(strlen(tok) >= 3 && strcmp(tok + strlen(tok) - 3, "/..") == 0))
		{
			GUC_check_errdetail("\"%s\" contains \".\" or \"..\" components.", tok);
			pfree(copy);
			return false;
		}
	}
	pfree(copy);
	return true;
}

void
vlake_objstore_init(void)
{
	s3_define_gucs();			/* objstore-s3: vlake.s3_* */
	DefineCustomStringVariable("vlake.allowed_file_roots",
							   "Directories file:// lakes may use (comma-separated absolute paths).",
							   "Every file:// URI, for every role, must resolve inside one of them; empty allows none.",
							   &objstore_allowed_file_roots, "",
							   PGC_SUSET, GUC_LIST_INPUT,
							   check_allowed_file_roots, NULL, NULL);
	DefineCustomStringVariable("vlake.cache_dir",
							   "Directory of the local disk cache of lake objects.",
							   "Empty means vlake_cache under the data directory.",
							   &objstore_cache_dir, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.cache_size",
							"Bound of the local disk cache of lake objects; 0 disables it.",
							NULL, &objstore_cache_size_mb, 1024, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.cache_block_size",
							"Size of the aligned blocks the disk cache stores.",
							NULL, &objstore_cache_block_kb, 64, 4, 16384,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("vlake.cache_file_uris",
							 "Also cache file:// objects on the local disk cache.",
							 "Useful when file:// is a network filesystem.",
							 &objstore_cache_file_uris, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.cache_memory_size",
							"Per-backend memory for small hot lake objects; 0 disables it.",
							NULL, &objstore_mem_cache_kb, 16384, 0, INT_MAX / 2,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.cache_memory_object_max",
							"Largest lake object kept whole in the per-backend memory cache.",
							NULL, &objstore_mem_object_max_kb, 1024, 0, INT_MAX / 2,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.cache_sweep_exact_max",
							"Up to this many disk-cache entries, eviction is an exact LRU; beyond, per bucket.",
							"A developer setting: the per-bucket sweep bounds memory on huge caches.",
							&objstore_sweep_exact_max, 65536, 0, INT_MAX,
							PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);

	objcache_init_shmem();
}
