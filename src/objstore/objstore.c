/*
 * objstore.c — one interface over lake URIs: URI parsing, backend dispatch,
 * the public API of objstore.h, the read path through the tiered cache,
 * counters, and the bookkeeping that makes an unfinished streamed write
 * disappear when its transaction ends.
 *
 * Accepted root URIs (anything else is refused):
 *   file:///absolute/path[/]    a local directory (confined, see file_backend.c)
 *   s3://bucket[/prefix][/]     an S3 bucket, optionally below a prefix
 * Roots are normalised to end with '/'.  Keys are relative to the root and
 * made of '/'-separated components that are neither empty, ".", "..", nor
 * a name reserved for temporary files.
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "objstore/objstore_internal.h"

/* ------------------------------------------------------------ URIs ---- */

static void
report_bad_uri(const char *uri, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid lake URI \"%s\"", uri),
			 errdetail("%s", detail),
			 errhint("A lake URI is file:///absolute/path/ or s3://bucket/prefix/.")));
}

/*
 * Check one path component: what is refused here is refused for every
 * backend, so that a key means the same thing on file:// and s3://.
 * Returns NULL if fine, else the reason.
 */
static const char *
bad_component(const char *c, int len)
{
	if (len == 0)
		return "it contains an empty path component (\"//\" or a leading \"/\")";
	if (len == 1 && c[0] == '.')
		return "it contains a \".\" path component";
	if (len == 2 && c[0] == '.' && c[1] == '.')
		return "it contains a \"..\" path component";
	if (len > 255)
		return "a path component is longer than 255 bytes";
	if (len >= (int) strlen(OBJ_TMP_PREFIX) &&
		strncmp(c, OBJ_TMP_PREFIX, strlen(OBJ_TMP_PREFIX)) == 0)
		return "names starting with \"" OBJ_TMP_PREFIX "\" are reserved for temporary files";
	for (int i = 0; i < len; i++)
		if ((unsigned char) c[i] < 0x20 || c[i] == 0x7f)
			return "it contains a control character";
	return NULL;
}

/*
 * Validate a '/'-separated path.  With trailing_ok, a final '/' is allowed
 * (a directory-like prefix); with empty_ok, "" is allowed.
 */
static const char *
bad_path(const char *path, bool trailing_ok, bool empty_ok)
{
	size_t		n = strlen(path);
	const char *p = path;
	const char *end;

	if (n == 0)
		return empty_ok ? NULL : "the key is empty";
	if (n > 1024)
		return "it is longer than 1024 bytes";
	end = path + n;
	if (path[n - 1] == '/')
	{
		if (!trailing_ok)
			return "it ends with \"/\"";
		end--;
	}
	for (;;)
	{
		const char *slash = memchr(p, '/', end - p);
		int			len = slash ? (int) (slash - p) : (int) (end - p);
		const char *why = bad_component(p, len);

		if (why)
			return why;
		if (!slash)
			return NULL;
		p = slash + 1;
	}
}

void
objstore_check_key(const char *root_uri, const char *key, bool is_prefix)
{
	const char *why = bad_path(key, is_prefix, is_prefix);

	if (why)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lake object key \"%s\" under \"%s\"", key, root_uri),
				 errdetail("The key is refused because %s.", why)));
}

static bool
valid_bucket(const char *b, int len)
{
	if (len < 3 || len > 63)
		return false;
	for (int i = 0; i < len; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
			  b[i] == '-' || b[i] == '.'))
			return false;
	return true;
}

/* What is wrong with a root URI (NULL: nothing); sets *scheme when known. */
static const char *
root_uri_problem(const char *uri, ObjScheme *scheme)
{
	const char *why;

	if (strncmp(uri, "file://", 7) == 0)
	{
		const char *path = uri + 7;

		*scheme = OBJ_SCHEME_FILE;
		if (path[0] != '/')
			return "A file:// URI must name an absolute path with an empty host (file:///dir/).";
		why = bad_path(path + 1, true, true);
		if (why)
			return psprintf("The path is refused because %s.", why);
		return NULL;
	}
	if (strncmp(uri, "s3://", 5) == 0)
	{
		const char *bucket = uri + 5;
		const char *slash = strchr(bucket, '/');
		int			blen = slash ? (int) (slash - bucket) : (int) strlen(bucket);

		*scheme = OBJ_SCHEME_S3;
		if (!valid_bucket(bucket, blen))
			return "An S3 bucket name has 3 to 63 characters among a-z, 0-9, '.' and '-'.";
		if (slash)
		{
			why = bad_path(slash + 1, true, true);
			if (why)
				return psprintf("The prefix is refused because %s.", why);
		}
		return NULL;
	}
	return "Only the file:// and s3:// schemes are supported.";
}

bool
objstore_uri_valid(const char *uri, char **why)
{
	ObjScheme	scheme;
	const char *problem = root_uri_problem(uri, &scheme);

	if (problem && why)
		*why = pstrdup(problem);
	return problem == NULL;
}

char *
objstore_embedded_root_uri(void)
{
	return psprintf("file://%s/%s/", DataDir, OBJSTORE_EMBEDDED_DIR);
}

/* Validate and normalise a root URI (always ending in '/'); ERROR if bad. */
static char *
parse_root_uri(const char *uri, ObjScheme *scheme)
{
	StringInfoData buf;
	const char *why = root_uri_problem(uri, scheme);

	if (why)
		report_bad_uri(uri, why);
	initStringInfo(&buf);
	appendStringInfoString(&buf, uri);
	if (buf.data[buf.len - 1] != '/')
		appendStringInfoChar(&buf, '/');
	return buf.data;
}

/*
 * Split a full object URI into a root (everything up to the last '/') and
 * the key or prefix after it.  s3://bucket is taken as s3://bucket/.
 */
void
objstore_split_uri(const char *uri, char **root, char **key)
{
	const char *start = uri;
	const char *last;
	ObjScheme	scheme;

	/* Validate the whole URI first, so that messages name all of it. */
	pfree(parse_root_uri(uri, &scheme));
	if (strncmp(uri, "s3://", 5) == 0)
		start = uri + 5;
	else if (strncmp(uri, "file://", 7) == 0)
		start = uri + 7;
	last = strrchr(start, '/');
	if (last == NULL)
	{
		*root = psprintf("%s/", uri);
		*key = pstrdup("");
		return;
	}
	*root = pnstrdup(uri, last - uri + 1);
	*key = pstrdup(last + 1);
}

/* ------------------------------------------------------- the stores ---- */

ObjStore *
objstore_open(const char *root_uri)
{
	ObjStore   *store = palloc0(sizeof(ObjStore));

	store->root_uri = parse_root_uri(root_uri, &store->scheme);
	store->ops = store->scheme == OBJ_SCHEME_FILE ? &objstore_file_ops : &objstore_s3_ops;
	store->state = store->ops->open(store->root_uri);
	store->stats = objstats_for_root(store->root_uri);
	return store;
}

void
objstore_close(ObjStore *store)
{
	if (store == NULL)
		return;
	if (store->ops->close)
		store->ops->close(store->state);
	pfree(store->root_uri);
	pfree(store);
}

const char *
objstore_root_uri(ObjStore *store)
{
	return store->root_uri;
}

bool
objstore_is_remote(ObjStore *store)
{
	return store->scheme != OBJ_SCHEME_FILE;
}

char *
objstore_uri(ObjStore *store, const char *key)
{
	return psprintf("%s%s", store->root_uri, key);
}

static void
require_op(ObjStore *store, const void *op, const char *what)
{
	if (op == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is not supported for lake \"%s\"", what, store->root_uri)));
}

/* --------------------------------------------------------------- reads ---- */

/* head without the public API's key check; counted. */
bool
objstore_head_counted(ObjStore *store, const char *key, ObjStat *st)
{
	instr_time	start;
	bool		found;

	require_op(store, store->ops->head, "head");
	INSTR_TIME_SET_CURRENT(start);
	memset(st, 0, sizeof(*st));
	found = store->ops->head(store->state, key, st);
	objstats_request(store->stats, OBJ_REQ_HEAD, start, 0);
	return found;
}

bool
objstore_head(ObjStore *store, const char *key, ObjStat *stat)
{
	objstore_check_key(store->root_uri, key, false);
	return objstore_head_counted(store, key, stat);
}

static void
stat_or_error(ObjStore *store, const char *key, ObjStat *st)
{
	if (!objstore_head_counted(store, key, st))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("lake object \"%s%s\" does not exist", store->root_uri, key)));
}

static void
check_ranges(ObjStore *store, const char *key, const ObjStat *st,
			 ObjRange *ranges, int nranges)
{
	for (int i = 0; i < nranges; i++)
	{
		if (ranges[i].offset > st->size || ranges[i].length > st->size - ranges[i].offset)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("range at offset " UINT64_FORMAT " of length " UINT64_FORMAT " is beyond the end of lake object \"%s%s\"",
							ranges[i].offset, ranges[i].length, store->root_uri, key),
					 errdetail("The object has " UINT64_FORMAT " bytes.", st->size)));
	}
}

/*
 * A validated read sees one version: if the object is replaced between the
 * head and the fetch, the fetch fails its etag check and the read starts
 * again with a fresh head, a few times, before giving up.
 */
#define OBJ_READ_ATTEMPTS 5

static void
replaced_error(ObjStore *store, const char *key, int attempts)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("lake object \"%s%s\" was replaced while being read", store->root_uri, key),
			 attempts > 1 ? errdetail("It changed during each of %d attempts.", attempts) : 0,
			 errhint("Retry the statement.")));
}

char *
objstore_get(ObjStore *store, const char *key, uint64 *len)
{
	ObjStat		st;
	char	   *data = NULL;

	objstore_check_key(store->root_uri, key, false);
	for (int attempt = 0; data == NULL; attempt++)
	{
		if (attempt == OBJ_READ_ATTEMPTS)
			replaced_error(store, key, attempt);
		CHECK_FOR_INTERRUPTS();
		stat_or_error(store, key, &st);
		if (st.size >= MaxAllocHugeSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("lake object \"%s%s\" is too large to read whole (" UINT64_FORMAT " bytes)",
							store->root_uri, key, st.size)));
		data = objcache_read_whole(store, key, &st);
	}
	*len = st.size;
	return data;
}

void
objstore_get_range(ObjStore *store, const char *key,
				   uint64 offset, uint64 length, char *dest)
{
	ObjRange	r;

	r.offset = offset;
	r.length = length;
	r.dest = dest;
	objstore_get_ranges(store, key, &r, 1);
}

void
objstore_get_ranges(ObjStore *store, const char *key, ObjRange *ranges, int nranges)
{
	ObjStat		st;

	objstore_check_key(store->root_uri, key, false);
	if (nranges <= 0)
		return;
	for (int attempt = 0;; attempt++)
	{
		if (attempt == OBJ_READ_ATTEMPTS)
			replaced_error(store, key, attempt);
		CHECK_FOR_INTERRUPTS();
		stat_or_error(store, key, &st);
		check_ranges(store, key, &st, ranges, nranges);
		if (objcache_read(store, key, &st, ranges, nranges))
			return;
	}
}

/* A read of the version known names, through the cache's block or exact reads. */
static void
get_ranges_of_version(ObjStore *store, const char *key, const ObjStat *known,
					  ObjRange *ranges, int nranges, bool exact)
{
	bool		done;

	if (known == NULL || known->etag[0] == '\0')
	{
		objstore_get_ranges(store, key, ranges, nranges);
		return;
	}
	objstore_check_key(store->root_uri, key, false);
	if (nranges <= 0)
		return;
	check_ranges(store, key, known, ranges, nranges);
	done = exact ? objcache_read_exact(store, key, known, ranges, nranges)
		: objcache_read(store, key, known, ranges, nranges);
	if (!done)
		replaced_error(store, key, 1);
}

void
objstore_get_ranges_known(ObjStore *store, const char *key, const ObjStat *known,
						  ObjRange *ranges, int nranges)
{
	get_ranges_of_version(store, key, known, ranges, nranges, false);
}

void
objstore_get_ranges_exact(ObjStore *store, const char *key, const ObjStat *known,
						  ObjRange *ranges, int nranges)
{
	get_ranges_of_version(store, key, known, ranges, nranges, true);
}

/* -------------------------------------------------------------- writes ---- */

void
objstore_put(ObjStore *store, const char *key, const char *data, uint64 len)
{
	instr_time	start;

	objstore_check_key(store->root_uri, key, false);
	require_op(store, store->ops->put, "put");
	INSTR_TIME_SET_CURRENT(start);
	store->ops->put(store->state, key, data, len);
	objstats_request(store->stats, OBJ_REQ_PUT, start, len);
	objcache_forget(store, key);
}

bool
objstore_put_if_absent(ObjStore *store, const char *key, const char *data, uint64 len)
{
	instr_time	start;
	bool		created;

	objstore_check_key(store->root_uri, key, false);
	require_op(store, store->ops->put_if_absent, "put-if-absent");
	INSTR_TIME_SET_CURRENT(start);
	created = store->ops->put_if_absent(store->state, key, data, len);
	objstats_request(store->stats, OBJ_REQ_PUT, start, created ? len : 0);
	return created;
}

/*
 * Conditional replace (an extension of objstore.h): true if the object's
 * current etag was `etag` and it has been replaced; false otherwise
 * (including when it does not exist).
 */
bool
objstore_put_if_match(ObjStore *store, const char *key, const char *data, uint64 len,
					  const char *etag)
{
	instr_time	start;
	bool		replaced;

	objstore_check_key(store->root_uri, key, false);
	require_op(store, store->ops->put_if_match, "conditional replace (If-Match)");
	INSTR_TIME_SET_CURRENT(start);
	replaced = store->ops->put_if_match(store->state, key, data, len, etag);
	objstats_request(store->stats, OBJ_REQ_PUT, start, replaced ? len : 0);
	if (replaced)
		objcache_forget(store, key);
	return replaced;
}

List *
objstore_list(ObjStore *store, const char *prefix)
{
	instr_time	start;
	List	   *result;

	objstore_check_key(store->root_uri, prefix, true);
	require_op(store, store->ops->list, "list");
	INSTR_TIME_SET_CURRENT(start);
	result = store->ops->list(store->state, prefix);
	objstats_request(store->stats, OBJ_REQ_LIST, start, 0);
	return result;
}

int64
objstore_reclaim_temporaries(ObjStore *store, const char *prefix, int64 min_age_secs)
{
	instr_time	start;
	int64		n;

	objstore_check_key(store->root_uri, prefix, true);
	if (store->ops->reclaim_temporaries == NULL)
		return 0;
	INSTR_TIME_SET_CURRENT(start);
	n = store->ops->reclaim_temporaries(store->state, prefix, min_age_secs);
	objstats_request(store->stats, OBJ_REQ_DELETE, start, 0);
	return n;
}

void
objstore_delete(ObjStore *store, const char *key)
{
	objstore_delete_many(store, list_make1((char *) key));
}

void
objstore_delete_many(ObjStore *store, List *keys)
{
	instr_time	start;
	ListCell   *lc;

	if (keys == NIL)
		return;
	foreach(lc, keys)
		objstore_check_key(store->root_uri, (const char *) lfirst(lc), false);
	require_op(store, store->ops->delete_keys, "delete");
	INSTR_TIME_SET_CURRENT(start);
	store->ops->delete_keys(store->state, keys);
	objstats_request(store->stats, OBJ_REQ_DELETE, start, 0);
	foreach(lc, keys)
		objcache_forget(store, (const char *) lfirst(lc));
}

/* ------------------------------------------------------------ writers ---- */

/*
 * A writer lives in its own memory context under TopMemoryContext and is
 * linked into open_writers until finished or aborted, so that whatever
 * ends the transaction first (commit without finish, ERROR, cancel) aborts
 * it: an unfinished streamed write never becomes visible and leaves no
 * temporary file behind (except after kill -9, see file_backend.c).
 */
struct ObjWriter
{
	dlist_node	node;
	MemoryContext cxt;
	const ObjBackendOps *ops;
	void	   *wstate;
	char	   *uri;			/* full URI of the object, for messages */
	char	   *root_uri;
	char	   *key;
	ObjIoStats *stats;
	uint64		written;
	instr_time	start;
	bool		failed;			/* an ERROR escaped a backend call */
	SubTransactionId subxid;	/* (sub)transaction that owns the writer */
};

static dlist_head open_writers = DLIST_STATIC_INIT(open_writers);
static bool xact_callback_registered = false;

static void
writer_release(ObjWriter *w)
{
	dlist_delete(&w->node);
	MemoryContextDelete(w->cxt);
}

/* Abort a writer at (sub)transaction end; errors are only reported. */
static void
writer_discard(ObjWriter *w)
{
	PG_TRY();
	{
		MemoryContext old = MemoryContextSwitchTo(w->cxt);

		w->ops->writer_abort(w->wstate);
		MemoryContextSwitchTo(old);
	}
	PG_CATCH();
	{
		/* Nothing sensible to do at transaction end but report it. */
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
	writer_release(w);
}

static void
objstore_xact_callback(XactEvent event, void *arg)
{
	dlist_mutable_iter iter;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PREPARE)
		return;

	dlist_foreach_modify(iter, &open_writers)
	{
		ObjWriter  *w = dlist_container(ObjWriter, node, iter.cur);

		if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
			elog(WARNING, "streamed write of lake object \"%s\" was neither finished nor aborted; discarding it",
				 w->uri);
		writer_discard(w);
	}
}

/*
 * A writer begun in a subtransaction that aborts (an ERROR caught by a
 * PL/pgSQL EXCEPTION block, a ROLLBACK TO SAVEPOINT) is aborted with it; on
 * subtransaction commit the parent inherits it.
 */
static void
objstore_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	dlist_mutable_iter iter;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;

	dlist_foreach_modify(iter, &open_writers)
	{
		ObjWriter  *w = dlist_container(ObjWriter, node, iter.cur);

		if (w->subxid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
			w->subxid = parentSubid;
		else
			writer_discard(w);
	}
}

ObjWriter *
objstore_writer_begin(ObjStore *store, const char *key)
{
	MemoryContext cxt;
	MemoryContext old;
	ObjWriter  *w;

	objstore_check_key(store->root_uri, key, false);
	require_op(store, store->ops->writer_begin, "streamed upload");
	if (!xact_callback_registered)
	{
		RegisterXactCallback(objstore_xact_callback, NULL);
		RegisterSubXactCallback(objstore_subxact_callback, NULL);
		xact_callback_registered = true;
	}

	cxt = AllocSetContextCreate(TopMemoryContext, "vlake objstore writer",
								ALLOCSET_DEFAULT_SIZES);
	w = MemoryContextAllocZero(cxt, sizeof(ObjWriter));
	w->cxt = cxt;
	w->ops = store->ops;
	w->stats = store->stats;
	w->uri = MemoryContextStrdup(cxt, objstore_uri(store, key));
	w->root_uri = MemoryContextStrdup(cxt, store->root_uri);
	w->key = MemoryContextStrdup(cxt, key);
	w->subxid = GetCurrentSubTransactionId();
	INSTR_TIME_SET_CURRENT(w->start);

	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		w->wstate = store->ops->writer_begin(store->state, key);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	dlist_push_tail(&open_writers, &w->node);
	return w;
}

void
objstore_writer_write(ObjWriter *w, const char *data, uint64 len)
{
	MemoryContext old;

	if (len == 0)
		return;
	old = MemoryContextSwitchTo(w->cxt);
	w->ops->writer_write(w->wstate, data, len);
	MemoryContextSwitchTo(old);
	w->written += len;
}

void
objstore_writer_finish(ObjWriter *w)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	ObjStore	fake;

	/* On ERROR the writer stays listed and is aborted at transaction end. */
	w->ops->writer_finish(w->wstate);
	MemoryContextSwitchTo(old);
	objstats_request(w->stats, OBJ_REQ_PUT, w->start, w->written);

	memset(&fake, 0, sizeof(fake));
	fake.root_uri = w->root_uri;
	fake.ops = w->ops;
	fake.stats = w->stats;
	objcache_forget(&fake, w->key);
	writer_release(w);
}

bool
objstore_shared_writes(ObjStore *store)
{
	return store->ops->writer_shared_name != NULL;
}

const char *
objstore_writer_shared_name(ObjWriter *w)
{
	return w->ops->writer_shared_name ? w->ops->writer_shared_name(w->wstate) : NULL;
}

void
objstore_writer_shared_written(ObjWriter *w, uint64 len)
{
	w->written += len;
}

void
objstore_writer_abort(ObjWriter *w)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);

	w->ops->writer_abort(w->wstate);
	MemoryContextSwitchTo(old);
	writer_release(w);
}
