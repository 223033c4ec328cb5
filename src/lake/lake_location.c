/*
 * lake_location.c — choosing and checking lake locations (lake_location.h).
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "lake/lake_location.h"
#include "objstore/objstore.h"

/* a registry larger than this is not ours (or is damaged): not read */
#define LAKE_LOCATIONS_MAX_BYTES (1024 * 1024)

char	   *lake_default_location = NULL;

void
lake_location_check(const char *uri, const char *what)
{
	char	   *why = NULL;

	if (!objstore_uri_valid(uri, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", what, uri),
				 errdetail("%s", why),
				 errhint("Use a file:// or s3:// URI.")));
	if (strlen(uri) >= LAKE_LOCATION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is too long", what),
				 errdetail("The limit is %d bytes.", LAKE_LOCATION_MAX - 1)));
}

char *
lake_location_choose(const char *explicit_location)
{
	char	   *loc;

	if (explicit_location && explicit_location[0] != '\0')
		loc = pstrdup(explicit_location);
	else if (lake_default_location && lake_default_location[0] != '\0')
		loc = pstrdup(lake_default_location);
	else
		loc = objstore_embedded_root_uri();
	lake_location_check(loc, "lake location");
	return loc;
}

static bool
root_listed(List *roots, const char *root)
{
	ListCell   *lc;

	foreach(lc, roots)
		if (strcmp(lfirst(lc), root) == 0)
			return true;
	return false;
}

static char *
registry_path(void)
{
	return psprintf("%s/%s", DataDir, LAKE_LOCATIONS_FILE);
}

List *
lake_locations_known(void)
{
	char	   *path = registry_path();
	FILE	   *f = AllocateFile(path, "r");
	List	   *roots = NIL;
	char		line[LAKE_LOCATION_MAX + 2];
	long		bytes = 0;

	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not read \"%s\": %m", path)));
		return NIL;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		size_t		n = strlen(line);

		bytes += n;
		if (bytes > LAKE_LOCATIONS_MAX_BYTES)
		{
			ereport(WARNING,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("\"%s\" is larger than %d bytes; reading stopped there",
							path, LAKE_LOCATIONS_MAX_BYTES)));
			break;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		/* a line that is not a valid root (damaged, too long) is skipped */
		if (n == 0 || n >= LAKE_LOCATION_MAX || !objstore_uri_valid(line, NULL))
			continue;
		if (!root_listed(roots, line))
			roots = lappend(roots, pstrdup(line));
	}
	FreeFile(f);
	return roots;
}

void
lake_location_remember(const char *root_uri)
{
	static List *recorded = NIL;	/* roots this process knows are listed */
	MemoryContext old;
	char	   *path;
	char	   *line;
	int			fd;
	bool		ok;

	if (strlen(root_uri) >= LAKE_LOCATION_MAX || strchr(root_uri, '\n'))
		return;
	if (root_listed(recorded, root_uri))
		return;
	if (root_listed(lake_locations_known(), root_uri))
		goto listed;

	/*
	 * O_APPEND: one short write() per line, so concurrent writers do not
	 * interleave; a duplicate line is harmless (readers ignore it).  The line
	 * starts with a newline too: after a crash mid-write the torn line stays
	 * on its own (readers skip what is not a valid root) instead of gluing
	 * itself to this one.
	 */
	path = registry_path();
	line = psprintf("\n%s\n", root_uri);
	fd = OpenTransientFile(path, O_WRONLY | O_CREAT | O_APPEND | PG_BINARY);
	ok = fd >= 0 &&
		write(fd, line, strlen(line)) == (ssize_t) strlen(line) &&
		pg_fsync(fd) == 0;
	if (fd >= 0)
		CloseTransientFile(fd);
	if (!ok)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not record lake location \"%s\" in \"%s\": %m", root_uri, path),
				 errdetail("Garbage collection of dropped databases will not visit it by itself."),
				 errhint("Run vlake.index_gc() on the location after dropping a database that used it.")));
		return;
	}
listed:
	old = MemoryContextSwitchTo(TopMemoryContext);
	recorded = lappend(recorded, pstrdup(root_uri));
	MemoryContextSwitchTo(old);
}
