/*
 * file_backend.c — the file:// backend: a lake in a local directory.
 *
 * Atomicity.  An object becomes visible only complete: its bytes go to a
 * temporary file ".vlake-tmp.<pid>.<n>" in the object's own directory, are
 * fsync'd, then renamed (replace) or link()ed (create-if-absent) into place,
 * and the directory is fsync'd.  Temporary files are never listed; kill -9
 * can leave one behind (invisible; reclaimable by garbage collection).
 *
 * Conditional writes.  Every replacing operation (put, conditional put,
 * streamed finish, delete) holds an exclusive flock() on the object's
 * directory around its check-and-rename, so "replace if the etag is still
 * X" cannot interleave with another replace.  Create-if-absent relies on
 * link() failing with EEXIST, which the kernel makes atomic.
 *
 * ETag.  A version validator, not a content hash:
 *   <inode>-<inode generation>-<size>-<mtime in ns>   (hex)
 * A replace always produces a new inode (the temporary file exists while
 * the old object does), so the etag changes on every replace; the inode
 * generation (FS_IOC_GETVERSION: random per allocation on ext4, xfs, btrfs)
 * tells a recycled inode number apart after delete-and-recreate; on
 * filesystems without it the generation is 0 and size+mtime remain.
 *
 * Confinement.  Every path is checked against vlake.allowed_file_roots on
 * every operation (not only at open): the existing part of the path is
 * resolved with realpath(), so ".." cannot appear (keys refuse it) and a
 * symlink that leads outside every allowed root is refused.  The rule is the
 * same for every role, superusers included: an empty setting allows nothing.
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "access/xact.h"
#include "common/file_perm.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "objstore/objstore_internal.h"
#include "objstore/objstore_map.h"

typedef struct FileStore
{
	char	   *root;			/* absolute directory, ends with '/' */
	char	   *root_uri;
} FileStore;

typedef struct FileWriter
{
	int			fd;
	char	   *tmp_path;
	char	   *path;
	char	   *uri;
} FileWriter;

/* -------------------------------------------------------- confinement ---- */

/* Canonicalise the allowed roots (cached per setting value). */
static List *
allowed_roots(void)
{
	static char *parsed_value = NULL;
	static List *parsed = NIL;
	char	   *copy;
	char	   *tok;
	char	   *save;
	MemoryContext old;

	if (parsed_value && strcmp(parsed_value, objstore_allowed_file_roots) == 0)
		return parsed;

	old = MemoryContextSwitchTo(TopMemoryContext);
	list_free_deep(parsed);
	parsed = NIL;
	if (parsed_value)
		pfree(parsed_value);
	parsed_value = pstrdup(objstore_allowed_file_roots);
	/* the embedded lake is always allowed (it is inside the data directory) */
	copy = psprintf("%s/%s,%s", DataDir, OBJSTORE_EMBEDDED_DIR, objstore_allowed_file_roots);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char		resolved[PATH_MAX];
		size_t		n;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		n = strlen(tok);
		while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
			tok[--n] = '\0';
		if (n == 0 || tok[0] != '/')
			continue;			/* the GUC check hook refuses these */
		if (realpath(tok, resolved) != NULL)
			parsed = lappend(parsed, pstrdup(resolved));
		else
		{
			/* A root that does not exist yet: keep it lexically. */
			while (n > 1 && tok[n - 1] == '/')
				tok[--n] = '\0';
			parsed = lappend(parsed, pstrdup(tok));
		}
	}
	pfree(copy);
	MemoryContextSwitchTo(old);
	return parsed;
}

static bool
path_within(const char *path, const char *root)
{
	size_t		n = strlen(root);

	if (strcmp(root, "/") == 0)
		return true;
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Resolve the longest existing prefix of an absolute path with realpath()
 * and append the part that does not exist yet (which cannot contain a
 * symlink, nor "..", since keys refuse it).
 */
static char *
resolve_existing(const char *path)
{
	char	   *work = pstrdup(path);
	char		resolved[PATH_MAX];
	size_t		n = strlen(work);

	while (n > 1 && work[n - 1] == '/')
		work[--n] = '\0';
	for (;;)
	{
		char	   *slash;

		if (realpath(work, resolved) != NULL)
		{
			const char *rest = path + strlen(work);

			return psprintf("%s%s%s", resolved,
							(*rest == '/' || *rest == '\0' || strcmp(resolved, "/") == 0) ? "" : "/",
							rest);
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return NULL;
		slash = strrchr(work, '/');
		if (slash == NULL || slash == work)
			return pstrdup(path);
		*slash = '\0';
	}
}

void
file_check_confined(const char *path, const char *uri)
{
	List	   *roots = allowed_roots();
	char	   *resolved;
	ListCell   *lc;

	resolved = resolve_existing(path);
	if (resolved == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not resolve the path of \"%s\": %m", uri)));
	foreach(lc, roots)
	{
		if (path_within(resolved, (const char *) lfirst(lc)))
		{
			pfree(resolved);
			return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("access to \"%s\" is not allowed", uri),
			 objstore_allowed_file_roots[0] == '\0' ?
			 errdetail("The path resolves to \"%s\", outside the embedded lake, and vlake.allowed_file_roots is empty.",
					   resolved) :
			 errdetail("The path resolves to \"%s\", which is outside the embedded lake and every directory in vlake.allowed_file_roots.",
					   resolved),
			 errhint("A superuser can add the directory to vlake.allowed_file_roots.")));
}

/* ----------------------------------------------------------- helpers ---- */

static char *
obj_path(FileStore *fs, const char *key)
{
	return psprintf("%s%s", fs->root, key);
}

static char *
obj_uri(FileStore *fs, const char *key)
{
	return psprintf("%s%s", fs->root_uri, key);
}

static char *
dir_of(const char *path)
{
	char	   *d = pstrdup(path);
	char	   *slash = strrchr(d, '/');

	if (slash == d)
		slash[1] = '\0';
	else
		*slash = '\0';
	return d;
}

static void
make_etag(int fd, const struct stat *st, char *etag, size_t etag_len)
{
	unsigned long gen = 0;
	int64		mtime_ns = (int64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;

	if (fd < 0 || ioctl(fd, FS_IOC_GETVERSION, &gen) != 0)
		gen = 0;
	snprintf(etag, etag_len, "%llx-%lx-%llx-%llx",
			 (unsigned long long) st->st_ino, gen & 0xffffffffUL,
			 (unsigned long long) st->st_size, (unsigned long long) mtime_ns);
}

/* mkdir -p of a path inside the (already confined) lake. */
static void
make_dirs(const char *dir, const char *uri)
{
	char	   *work = pstrdup(dir);

	for (char *p = work + 1;; p++)
	{
		if (*p == '/' || *p == '\0')
		{
			char		save = *p;

			*p = '\0';
			if (mkdir(work, pg_dir_create_mode) != 0 && errno != EEXIST)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not create directory \"%s\" for lake object \"%s\": %m",
								work, uri)));
			*p = save;
			if (save == '\0')
				break;
		}
	}
	pfree(work);
}

static void
fsync_dir_fd(int dfd, const char *dir, const char *uri)
{
	if (pg_fsync(dfd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync directory \"%s\" of lake object \"%s\": %m", dir, uri)));
}

static int
open_dir(const char *dir, const char *uri)
{
	int			dfd = OpenTransientFile(dir, O_RDONLY | PG_BINARY);

	if (dfd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\" of lake object \"%s\": %m", dir, uri)));
	return dfd;
}

/* Exclusive lock on a directory: serialises replaces of objects in it. */
static int
lock_dir(const char *dir, const char *uri)
{
	int			dfd = open_dir(dir, uri);

	while (flock(dfd, LOCK_EX) != 0)
	{
		if (errno == EINTR)
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not lock directory \"%s\" of lake object \"%s\": %m", dir, uri)));
	}
	return dfd;
}

static void
unlock_dir(int dfd)
{
	/* Closing the descriptor drops the flock. */
	CloseTransientFile(dfd);
}

static char *
temp_path_in(const char *dir)
{
	static uint32 seq = 0;
	uint32		rnd = 0;

	(void) pg_strong_random(&rnd, sizeof(rnd));
	return psprintf("%s/" OBJ_TMP_PREFIX "%d.%u.%08x", strcmp(dir, "/") == 0 ? "" : dir,
					MyProcPid, ++seq, rnd);
}

/* All of data at the descriptor's position (at < 0), or at offset at. */
static void
write_all(int fd, const char *data, uint64 len, off_t at, const char *what, const char *uri)
{
	while (len > 0)
	{
		size_t		chunk = Min(len, (uint64) (64 * 1024 * 1024));
		ssize_t		n = at < 0 ? write(fd, data, chunk) : pwrite(fd, data, chunk, at);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write %s for lake object \"%s\": %m", what, uri)));
		}
		data += n;
		len -= n;
		if (at >= 0)
			at += n;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Write data to a new temporary file in the object's directory and fsync
 * it; returns its path.  The temporary file is removed on ERROR.
 */
static char *
write_temp(const char *path, const char *data, uint64 len, const char *uri)
{
	char	   *dir = dir_of(path);
	char	   *tmp;
	int			fd;

	make_dirs(dir, uri);
	tmp = temp_path_in(dir);
	fd = OpenTransientFilePerm(tmp, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, pg_file_create_mode);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create a temporary file for lake object \"%s\": %m", uri)));
	PG_TRY();
	{
		write_all(fd, data, len, -1, "a temporary file", uri);
		if (pg_fsync(fd) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not fsync a temporary file for lake object \"%s\": %m", uri)));
	}
	PG_CATCH();
	{
		CloseTransientFile(fd);
		unlink(tmp);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (CloseTransientFile(fd) != 0)
	{
		int			save = errno;

		unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close a temporary file for lake object \"%s\": %m", uri)));
	}
	return tmp;
}

/*
 * stat + etag of path; false if it does not exist (or is not a regular
 * file).  O_NONBLOCK: a FIFO planted in the lake must not hang the backend.
 */
static bool
stat_path(const char *path, const char *uri, ObjStat *st)
{
	struct stat sb;
	int			fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);

	if (fd < 0)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open lake object \"%s\": %m", uri)));
	}
	if (fstat(fd, &sb) != 0)
	{
		int			save = errno;

		CloseTransientFile(fd);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat lake object \"%s\": %m", uri)));
	}
	if (!S_ISREG(sb.st_mode))
	{
		CloseTransientFile(fd);
		return false;
	}
	st->size = sb.st_size;
	st->mtime = sb.st_mtim.tv_sec;
	make_etag(fd, &sb, st->etag, sizeof(st->etag));
	CloseTransientFile(fd);
	return true;
}

/* ------------------------------------------------------------- ops ---- */

static void *
file_open(const char *root_uri)
{
	FileStore  *fs = palloc0(sizeof(FileStore));

	fs->root_uri = pstrdup(root_uri);
	fs->root = pstrdup(root_uri + strlen("file://"));
	file_check_confined(fs->root, root_uri);
	return fs;
}

static void
file_close(void *state)
{
	FileStore  *fs = state;

	pfree(fs->root);
	pfree(fs->root_uri);
	pfree(fs);
}

static bool
file_head(void *state, const char *key, ObjStat *st)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	bool		found;

	file_check_confined(path, uri);
	found = stat_path(path, uri, st);
	pfree(path);
	pfree(uri);
	return found;
}

static int
open_for_read(FileStore *fs, const char *key, const char *path, const char *uri)
{
	int			fd;

	file_check_confined(path, uri);
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("lake object \"%s\" does not exist", uri)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open lake object \"%s\": %m", uri)));
	}
	{
		struct stat sb;

		if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("lake object \"%s\" does not exist", uri),
					 errdetail("The path exists but is not a regular file.")));
	}
	return fd;
}

static void
pread_all(int fd, char *dest, uint64 len, uint64 offset, const char *uri)
{
	while (len > 0)
	{
		size_t		chunk = Min(len, (uint64) (64 * 1024 * 1024));
		ssize_t		n = pg_pread(fd, dest, chunk, offset);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read lake object \"%s\" at offset " UINT64_FORMAT ": %m",
							uri, offset)));
		}
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("lake object \"%s\" ended early at offset " UINT64_FORMAT,
							uri, offset),
					 errdetail("It was truncated while being read.")));
		dest += n;
		offset += n;
		len -= n;
	}
}

/*
 * Ranges closer than this share one pread into a scratch buffer: below about
 * a page, copying the bytes in between costs less than a system call (a take
 * of 1,000 scattered 8-byte values becomes a few reads instead of 1,000).
 */
#define COALESCE_GAP	4096
#define COALESCE_SPAN	(256 * 1024)

/*
 * Ranges (checked against the file size), near ones coalesced.  Only ranges
 * next to each other in the caller's order are merged (callers list a
 * column's ranges in file order), so no sort is needed.
 */
static void
pread_ranges(int fd, ObjRange *ranges, int n, const char *uri)
{
	/* kept for the backend's life: fresh memory would cost a page fault a page */
	static char *scratch = NULL;
	int			i = 0;

	while (i < n)
	{
		uint64		start = ranges[i].offset;
		uint64		end = start + ranges[i].length;
		int			j = i + 1;

		while (j < n && ranges[j].offset >= end && ranges[j].offset <= end + COALESCE_GAP &&
			   ranges[j].offset + ranges[j].length - start <= COALESCE_SPAN)
		{
			end = ranges[j].offset + ranges[j].length;
			j++;
		}
		if (j == i + 1)
			pread_all(fd, ranges[i].dest, ranges[i].length, ranges[i].offset, uri);
		else
		{
			if (scratch == NULL)
				scratch = MemoryContextAlloc(TopMemoryContext, COALESCE_SPAN);
			pread_all(fd, scratch, end - start, start, uri);
			for (int k = i; k < j; k++)
				memcpy(ranges[k].dest, scratch + (ranges[k].offset - start), ranges[k].length);
		}
		CHECK_FOR_INTERRUPTS();
		i = j;
	}
}

/*
 * Open files of known versions.  A read that names the version it wants
 * (an ETag: the catalogs of vlake tables and indexes record one) of an
 * object this backend opened before reuses that descriptor after one
 * stat() of the path shows the same inode, size and mtime: no path
 * resolution, confinement check, open or version check per read (index
 * fetches of a vlake table read a few kB per lookup).  The descriptor was
 * opened after those checks; the stat keeps the contract that a read of a
 * version the path no longer holds (replaced, deleted) fails as before.
 * The stat is done once per descriptor per statement (statement start
 * time): a statement that fetches many rows (a nested loop, a function
 * looping over lookups) resolves each path once, and a later statement
 * sees a replacement.  Unversioned reads never use it.  Plain descriptors
 * (they outlive transactions), at most FD_CACHE_SIZE, least recently used
 * closed first.
 */
#define FD_CACHE_SIZE 16

typedef struct FdEntry
{
	char	   *path;			/* in TopMemoryContext; NULL: free */
	char		etag[128];
	uint64		size;
	ino_t		ino;
	int64		mtime_ns;
	int			fd;
	uint64		used;
	TimestampTz checked;		/* statement start of the last stat() */
	const char *map;			/* read-only mapping of [0, size); NULL: none yet */
	bool		map_failed;		/* mmap refused: read with pread */
} FdEntry;

static FdEntry fd_cache[FD_CACHE_SIZE];
static uint64 fd_clock = 0;

static void
fd_cache_drop(FdEntry *e)
{
	objstore_map_close(e->map, e->size);
	close(e->fd);
	pfree(e->path);
	memset(e, 0, sizeof(*e));
}

static FdEntry *
fd_cache_find(const char *path, const char *etag)
{
	for (int i = 0; i < FD_CACHE_SIZE; i++)
	{
		FdEntry    *e = &fd_cache[i];

		if (e->path && strcmp(e->path, path) == 0 && strcmp(e->etag, etag) == 0)
		{
			e->used = ++fd_clock;
			return e;
		}
	}
	return NULL;
}

/* Keep a duplicate of fd, which holds path's version etag (checked). */
static void
fd_cache_add(int fd, const char *path, const char *etag, const struct stat *sb)
{
	FdEntry    *victim = &fd_cache[0];

	for (int i = 0; i < FD_CACHE_SIZE; i++)
	{
		if (fd_cache[i].path == NULL)
		{
			victim = &fd_cache[i];
			break;
		}
		if (fd_cache[i].used < victim->used)
			victim = &fd_cache[i];
	}
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;					/* just not cached */
	if (victim->path)
		fd_cache_drop(victim);
	victim->path = MemoryContextStrdup(TopMemoryContext, path);
	strlcpy(victim->etag, etag, sizeof(victim->etag));
	victim->size = (uint64) sb->st_size;
	victim->ino = sb->st_ino;
	victim->mtime_ns = (int64) sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	victim->fd = fd;
	victim->used = ++fd_clock;
	victim->checked = GetCurrentStatementStartTimestamp();
}

static void
check_ranges_size(ObjRange *ranges, int n, uint64 size, const char *uri)
{
	for (int i = 0; i < n; i++)
		if (ranges[i].offset > size || ranges[i].length > size - ranges[i].offset)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("range at offset " UINT64_FORMAT " of length " UINT64_FORMAT " is beyond the end of lake object \"%s\"",
							ranges[i].offset, ranges[i].length, uri),
					 errdetail("The object has " UINT64_FORMAT " bytes.", size)));
}

/*
 * Ranges of a cached version: small ones copied from a mapping of the file
 * (a memcpy instead of a system call each: an index re-rank reads hundreds
 * of single vectors per query), large ones read.  The file is the version
 * the caller named, checked at statement start; if it shrank since (lake
 * objects never do, but an outside hand can), the copy fails instead of
 * crashing and the read ERRORs like a short pread.
 */
#define MAP_COPY_MAX	(64 * 1024)

static void
read_cached(FdEntry *e, ObjRange *ranges, int n, const char *uri)
{
	int			i = 0;

	if (e->map == NULL && !e->map_failed)
	{
		e->map = objstore_map_open(e->fd, e->size);
		e->map_failed = (e->map == NULL);
	}
	while (i < n)
	{
		int			j = i;

		/* a run of large ranges goes to pread_ranges (coalescing), small ones to the map */
		while (j < n && (e->map == NULL || ranges[j].length > MAP_COPY_MAX))
			j++;
		if (j > i)
		{
			pread_ranges(e->fd, ranges + i, j - i, uri);
			i = j;
			continue;
		}
		if (!objstore_map_copy(ranges[i].dest, e->map + ranges[i].offset, ranges[i].length))
		{
			uint64		offset = ranges[i].offset;

			fd_cache_drop(e);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("lake object \"%s\" ended early at offset " UINT64_FORMAT,
							uri, offset),
					 errdetail("It was truncated while being read.")));
		}
		i++;
	}
}

static bool
file_get_ranges_if_match(void *state, const char *key, ObjRange *ranges, int n,
						 const char *etag)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	FdEntry    *cached = etag ? fd_cache_find(path, etag) : NULL;
	int			fd;
	struct stat sb;

	if (cached)
	{
		struct stat now;

		if (cached->checked == GetCurrentStatementStartTimestamp() ||
			(stat(path, &now) == 0 && now.st_ino == cached->ino &&
			 (uint64) now.st_size == cached->size &&
			 (int64) now.st_mtim.tv_sec * 1000000000 + now.st_mtim.tv_nsec == cached->mtime_ns))
		{
			cached->checked = GetCurrentStatementStartTimestamp();
			check_ranges_size(ranges, n, cached->size, uri);
			read_cached(cached, ranges, n, uri);
			pfree(path);
			pfree(uri);
			return true;
		}
		/* the path holds something else now: forget it, read the slow way */
		fd_cache_drop(cached);
	}
	fd = open_for_read(fs, key, path, uri);
	if (fstat(fd, &sb) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat lake object \"%s\": %m", uri)));
	if (etag != NULL)
	{
		char		cur[128];

		make_etag(fd, &sb, cur, sizeof(cur));
		if (strcmp(cur, etag) != 0)
		{
			CloseTransientFile(fd);
			return false;
		}
	}
	check_ranges_size(ranges, n, (uint64) sb.st_size, uri);
	pread_ranges(fd, ranges, n, uri);
	if (etag != NULL)
		fd_cache_add(fd, path, etag, &sb);
	CloseTransientFile(fd);
	pfree(path);
	pfree(uri);
	return true;
}

static void
file_get_ranges(void *state, const char *key, ObjRange *ranges, int n)
{
	(void) file_get_ranges_if_match(state, key, ranges, n, NULL);
}

static char *
file_get(void *state, const char *key, uint64 *len)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	int			fd = open_for_read(fs, key, path, uri);
	struct stat sb;
	char	   *data;

	if (fstat(fd, &sb) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat lake object \"%s\": %m", uri)));
	if ((uint64) sb.st_size >= MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("lake object \"%s\" is too large to read whole (" UINT64_FORMAT " bytes)",
						uri, (uint64) sb.st_size)));
	data = palloc_extended(sb.st_size + 1, MCXT_ALLOC_HUGE);
	pread_all(fd, data, sb.st_size, 0, uri);
	data[sb.st_size] = '\0';
	*len = sb.st_size;
	CloseTransientFile(fd);
	return data;
}

/* rename tmp over path under the directory lock, then fsync the directory */
static void
publish_replace(const char *tmp, const char *path, const char *uri)
{
	char	   *dir = dir_of(path);
	int			dfd = lock_dir(dir, uri);

	if (rename(tmp, path) != 0)
	{
		int			save = errno;

		unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not publish lake object \"%s\": %m", uri)));
	}
	fsync_dir_fd(dfd, dir, uri);
	unlock_dir(dfd);
	pfree(dir);
}

static void
file_put(void *state, const char *key, const char *data, uint64 len)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	char	   *tmp;

	file_check_confined(path, uri);
	tmp = write_temp(path, data, len, uri);
	publish_replace(tmp, path, uri);
}

static bool
file_put_if_absent(void *state, const char *key, const char *data, uint64 len)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	char	   *dir = dir_of(path);
	char	   *tmp;
	bool		created;
	int			dfd;

	file_check_confined(path, uri);
	tmp = write_temp(path, data, len, uri);
	if (link(tmp, path) == 0)
		created = true;
	else if (errno == EEXIST)
		created = false;
	else
	{
		int			save = errno;

		unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create lake object \"%s\": %m", uri)));
	}
	unlink(tmp);
	dfd = open_dir(dir, uri);
	fsync_dir_fd(dfd, dir, uri);
	CloseTransientFile(dfd);
	return created;
}

static bool
file_put_if_match(void *state, const char *key, const char *data, uint64 len,
				  const char *etag)
{
	FileStore  *fs = state;
	char	   *path = obj_path(fs, key);
	char	   *uri = obj_uri(fs, key);
	char	   *dir = dir_of(path);
	char	   *tmp;
	ObjStat		cur;
	int			dfd;

	file_check_confined(path, uri);
	tmp = write_temp(path, data, len, uri);
	dfd = lock_dir(dir, uri);
	if (!stat_path(path, uri, &cur) || strcmp(cur.etag, etag) != 0)
	{
		unlock_dir(dfd);
		unlink(tmp);
		return false;
	}
	if (rename(tmp, path) != 0)
	{
		int			save = errno;

		unlink(tmp);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not replace lake object \"%s\": %m", uri)));
	}
	fsync_dir_fd(dfd, dir, uri);
	unlock_dir(dfd);
	return true;
}

/* ---- streamed writer ---- */

static void *
file_writer_begin(void *state, const char *key)
{
	FileStore  *fs = state;
	FileWriter *w = palloc0(sizeof(FileWriter));
	char	   *dir;

	w->path = obj_path(fs, key);
	w->uri = obj_uri(fs, key);
	file_check_confined(w->path, w->uri);
	dir = dir_of(w->path);
	make_dirs(dir, w->uri);
	w->tmp_path = temp_path_in(dir);
	/* Plain open(): the writer outlives statements; objstore.c closes it. */
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too many open files to start a streamed write of lake object \"%s\"", w->uri)));
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | PG_BINARY, pg_file_create_mode);
	if (w->fd < 0)
	{
		ReleaseExternalFD();
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create a temporary file for lake object \"%s\": %m", w->uri)));
	}
	return w;
}

static void
file_writer_write(void *wstate, const char *data, uint64 len)
{
	FileWriter *w = wstate;

	write_all(w->fd, data, len, -1, "a temporary file", w->uri);
}

static void
writer_close(FileWriter *w)
{
	if (w->fd >= 0)
	{
		close(w->fd);
		ReleaseExternalFD();
		w->fd = -1;
	}
}

static void
file_writer_finish(void *wstate)
{
	FileWriter *w = wstate;

	if (pg_fsync(w->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync a temporary file for lake object \"%s\": %m", w->uri)));
	writer_close(w);
	publish_replace(w->tmp_path, w->path, w->uri);
}

static void
file_writer_abort(void *wstate)
{
	FileWriter *w = wstate;

	writer_close(w);
	(void) unlink(w->tmp_path);
}

static const char *
file_writer_shared_name(void *wstate)
{
	return ((FileWriter *) wstate)->tmp_path;
}

/*
 * Positional writes by another process into a writer's temporary file
 * (objstore.h).  The name comes from the writing backend through shared
 * memory; it is still checked to be one of our temporary files inside an
 * allowed root, so nothing else can be written through this door.
 */
struct ObjSharedFile
{
	int			fd;
	char	   *uri;
};

ObjSharedFile *
objstore_shared_open(const char *name, const char *uri)
{
	ObjSharedFile *f = palloc0(sizeof(ObjSharedFile));
	const char *base = strrchr(name, '/');

	f->uri = pstrdup(uri);
	if (base == NULL || strncmp(base + 1, OBJ_TMP_PREFIX, strlen(OBJ_TMP_PREFIX)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("\"%s\" is not the temporary file of a streamed write of lake object \"%s\"",
						name, uri)));
	file_check_confined(name, uri);
	f->fd = OpenTransientFile(name, O_WRONLY | PG_BINARY);
	if (f->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the temporary file of lake object \"%s\": %m", uri)));
	return f;
}

void
objstore_shared_pwrite(ObjSharedFile *f, const char *data, uint64 len, uint64 offset)
{
	write_all(f->fd, data, len, (off_t) offset, "a temporary file", f->uri);
}

void
objstore_shared_close(ObjSharedFile *f)
{
	/* start the write-back now, so the writer's fsync finds less to do */
	pg_flush_data(f->fd, 0, 0);
	CloseTransientFile(f->fd);
	pfree(f->uri);
	pfree(f);
}

/* ---- list ---- */

static int
cmp_entries(const ListCell *a, const ListCell *b)
{
	const ObjListEntry *ea = lfirst(a);
	const ObjListEntry *eb = lfirst(b);

	return strcmp(ea->key, eb->key);
}

/*
 * Collect regular files below dir (key prefix dirkey, "" or ending in '/')
 * whose key starts with prefix.  Directories are entered only when some key
 * below them can match; symlinked directories are not followed (no loops,
 * no escape), symlinked files are listed only if they resolve inside an
 * allowed root.
 */
/* walk() in reclaim mode: age of temporaries to remove (-1: list mode) */
static int64 reclaim_age = -1;
static int64 reclaimed = 0;

static void
walk(FileStore *fs, const char *dir, const char *dirkey, const char *prefix, List **out)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	size_t		plen = strlen(prefix);

	if (d == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not list lake directory \"%s%s\": %m", fs->root_uri, dirkey)));
	}
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *key;
		char	   *path;
		struct stat sb;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, OBJ_TMP_PREFIX, strlen(OBJ_TMP_PREFIX)) == 0)
		{
			if (reclaim_age >= 0 && strncmp(dirkey, prefix, Min(strlen(dirkey), plen)) == 0)
			{
				char	   *tpath = psprintf("%s/%s", dir, de->d_name);
				struct stat tsb;

				if (lstat(tpath, &tsb) == 0 && S_ISREG(tsb.st_mode) &&
					time(NULL) - tsb.st_mtime >= reclaim_age &&
					unlink(tpath) == 0)
					reclaimed++;
				pfree(tpath);
			}
			continue;
		}
		key = psprintf("%s%s", dirkey, de->d_name);
		path = psprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &sb) != 0)
			continue;			/* deleted meanwhile */
		if (S_ISDIR(sb.st_mode))
		{
			char	   *sub = psprintf("%s/", key);
			size_t		slen = strlen(sub);

			if (strncmp(sub, prefix, Min(slen, plen)) == 0)
				walk(fs, path, sub, prefix, out);
			pfree(sub);
		}
		else if ((S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) &&
				 strncmp(key, prefix, plen) == 0)
		{
			ObjStat		st;
			bool		ok = true;

			if (S_ISLNK(sb.st_mode))
			{
				char	   *r = resolve_existing(path);
				ListCell   *lc;

				ok = false;
				if (r)
					foreach(lc, allowed_roots())
						if (path_within(r, lfirst(lc)))
							ok = true;
			}
			if (ok && stat_path(path, psprintf("%s%s", fs->root_uri, key), &st))
			{
				ObjListEntry *e = palloc0(sizeof(ObjListEntry));

				e->key = key;
				e->size = st.size;
				memcpy(e->etag, st.etag, sizeof(e->etag));
				*out = lappend(*out, e);
				key = NULL;
			}
		}
		if (key)
			pfree(key);
		pfree(path);
	}
	FreeDir(d);
}

static List *
file_list(void *state, const char *prefix)
{
	FileStore  *fs = state;
	List	   *out = NIL;
	const char *slash = strrchr(prefix, '/');
	char	   *dirkey = slash ? pnstrdup(prefix, slash - prefix + 1) : pstrdup("");
	char	   *dir = psprintf("%s%s", fs->root, dirkey);
	char	   *uri = psprintf("%s%s", fs->root_uri, dirkey);
	size_t		n = strlen(dir);

	if (n > 1 && dir[n - 1] == '/')
		dir[n - 1] = '\0';
	file_check_confined(dir, uri);
	walk(fs, dir, dirkey, prefix, &out);
	list_sort(out, cmp_entries);
	return out;
}

/*
 * Remove temporary files of interrupted writes (".vlake-tmp.*", left by a
 * kill -9 or a power loss) under prefix, older than min_age_secs.  A
 * streamed write still in progress keeps touching its file, so an age well
 * above the longest expected pause between writes is safe.
 */
static int64
file_reclaim_temporaries(void *state, const char *prefix, int64 min_age_secs)
{
	FileStore  *fs = state;
	List	   *ignored = NIL;
	const char *slash = strrchr(prefix, '/');
	char	   *dirkey = slash ? pnstrdup(prefix, slash - prefix + 1) : pstrdup("");
	char	   *dir = psprintf("%s%s", fs->root, dirkey);
	char	   *uri = psprintf("%s%s", fs->root_uri, dirkey);
	size_t		n = strlen(dir);
	int64		result;

	if (n > 1 && dir[n - 1] == '/')
		dir[n - 1] = '\0';
	file_check_confined(dir, uri);
	reclaim_age = Max(min_age_secs, 0);
	reclaimed = 0;
	PG_TRY();
	{
		walk(fs, dir, dirkey, prefix, &ignored);
	}
	PG_FINALLY();
	{
		reclaim_age = -1;
	}
	PG_END_TRY();
	result = reclaimed;
	list_free_deep(ignored);
	return result;
}

/* ---- delete ---- */

static void
file_delete_keys(void *state, List *keys)
{
	FileStore  *fs = state;
	ListCell   *lc;

	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		char	   *path = obj_path(fs, key);
		char	   *uri = obj_uri(fs, key);
		char	   *dir = dir_of(path);
		int			dfd;

		CHECK_FOR_INTERRUPTS();
		file_check_confined(path, uri);
		dfd = OpenTransientFile(dir, O_RDONLY | PG_BINARY);
		if (dfd < 0)
		{
			if (errno == ENOENT || errno == ENOTDIR)
				continue;		/* nothing there to delete */
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open directory \"%s\" of lake object \"%s\": %m", dir, uri)));
		}
		while (flock(dfd, LOCK_EX) != 0)
		{
			if (errno != EINTR)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not lock directory \"%s\" of lake object \"%s\": %m", dir, uri)));
			CHECK_FOR_INTERRUPTS();
		}
		if (unlink(path) != 0 && errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not delete lake object \"%s\": %m", uri)));
		fsync_dir_fd(dfd, dir, uri);
		unlock_dir(dfd);
		pfree(path);
		pfree(uri);
		pfree(dir);
	}
}

const ObjBackendOps objstore_file_ops = {
	.open = file_open,
	.close = file_close,
	.head = file_head,
	.get_ranges = file_get_ranges,
	.get = file_get,
	.put = file_put,
	.put_if_absent = file_put_if_absent,
	.put_if_match = file_put_if_match,
	.writer_begin = file_writer_begin,
	.writer_write = file_writer_write,
	.writer_finish = file_writer_finish,
	.writer_abort = file_writer_abort,
	.writer_shared_name = file_writer_shared_name,
	.list = file_list,
	.delete_keys = file_delete_keys,
	.get_ranges_if_match = file_get_ranges_if_match,
	.reclaim_temporaries = file_reclaim_temporaries,
};
