/*
 * unit_objstore_map — copies out of a read-only file mapping
 * (src/objstore/objstore_map.c) before and after the file shrinks under the
 * mapping.  The oracle is the file's bytes written here and the kernel's
 * rule that a mapped page wholly past the end of the file faults (SIGBUS):
 * a copy from such a page must return false — not crash — and leave the
 * process able to copy again; copies from pages still inside the file must
 * return the written bytes.
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "objstore/objstore_map.h"
#include "pg_standin.h"

static int	failures = 0;

static void
check(bool cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "FAIL %s\n", what);
		failures++;
	}
	else
		printf("ok %s\n", what);
}

int
main(void)
{
	char		path[] = "/tmp/unit_objstore_map_XXXXXX";
	long		page = sysconf(_SC_PAGESIZE);
	size_t		len = 8 * page;
	char	   *data = malloc(len);
	char	   *got = malloc(len);
	const char *map;
	int			fd = mkstemp(path);
	bool		same = true;

	if (fd < 0)
	{
		perror("mkstemp");
		return 1;
	}
	unlink(path);
	for (size_t i = 0; i < len; i++)
		data[i] = (char) (i * 131 + i / 7);
	if (write(fd, data, len) != (ssize_t) len)
	{
		perror("write");
		return 1;
	}

	check(objstore_map_open(fd, 0) == NULL, "an empty range is not mapped");
	map = objstore_map_open(fd, len);
	check(map != NULL, "the file is mapped");
	if (map == NULL)
		return 1;

	/* every page, at odd offsets and lengths */
	for (size_t off = 0; off + 777 <= len; off += 511)
	{
		memset(got, 0, 777);
		if (!objstore_map_copy(got, map + off, 777) || memcmp(got, data + off, 777) != 0)
			same = false;
	}
	check(same, "copies before the truncation return the file's bytes");

	/* shrink to two and a half pages: pages 3.. are past the end */
	check(ftruncate(fd, 2 * page + page / 2) == 0, "the file is truncated under the mapping");
	check(!objstore_map_copy(got, map + 5 * page, 100), "a copy from a page past the end fails");
	check(!objstore_map_copy(got, map + 2 * page, 2 * page), "a copy running past the end fails");
	memset(got, 0, page);
	check(objstore_map_copy(got, map + 100, page) && memcmp(got, data + 100, page) == 0,
		  "a copy inside what is left still works after a failed one");
	check(!objstore_map_copy(got, map + 7 * page, 10), "and a second failure is caught too");

	objstore_map_close(map, len);
	close(fd);
	free(data);
	free(got);
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
