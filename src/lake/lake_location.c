/*
 * lake_location.c — choosing and checking lake locations (lake_location.h).
 */
#include "postgres.h"

#include "lake/lake_location.h"
#include "objstore/objstore.h"

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
