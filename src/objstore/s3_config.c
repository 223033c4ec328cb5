/*
 * s3_config.c — where s3:// endpoints and credentials come from.
 *
 * The Postgres way: a foreign-data wrapper vlake_s3 (created by the
 * extension), one foreign server per bucket or URI prefix, and a user
 * mapping per role holding the credentials:
 *
 *   CREATE SERVER lake FOREIGN DATA WRAPPER vlake_s3
 *     OPTIONS (endpoint 'https://s3.eu-west-1.amazonaws.com', region 'eu-west-1',
 *              url_style 'virtual', bucket 'my-bucket');
 *   CREATE USER MAPPING FOR alice SERVER lake
 *     OPTIONS (access_key '...', secret_key '...' [, session_token '...']);
 *
 * An s3://bucket/prefix/ URI is served by the vlake_s3 server whose
 * uri_prefix (or 's3://' || bucket || '/') is the longest prefix of the URI;
 * two servers with the same prefix are an error.  The current user needs
 * USAGE on that server and a user mapping (its own or PUBLIC).
 *
 * pg_user_mapping is readable by superusers only; the pg_user_mappings
 * view shows options to the mapped user and the server owner only.  The
 * validator never prints option values.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "objstore/s3_client.h"
#include "objstore/s3_config.h"

#define S3_FDW_NAME "vlake_s3"

/* ------------------------------------------------------------- GUCs ---- */

void
s3_define_gucs(void)
{
	DefineCustomIntVariable("vlake.s3_max_retries",
							"Retries of a failed idempotent S3 request.",
							"5xx, 429/SlowDown, timeouts, connection resets and truncated bodies are retried.",
							&s3_max_retries, 5, 0, 100,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_retry_timeout",
							"Upper bound of the time spent retrying one S3 request.",
							NULL, &s3_retry_timeout_ms, 20000, 0, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_retry_base_delay",
							"First backoff step of S3 retries (full jitter, doubling).",
							NULL, &s3_retry_base_delay_ms, 50, 1, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_retry_max_delay",
							"Largest backoff step of S3 retries.",
							NULL, &s3_retry_max_delay_ms, 2000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_connect_timeout",
							"Timeout of a TCP/TLS connection to S3.",
							NULL, &s3_connect_timeout_ms, 5000, 1, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_request_timeout",
							"Timeout of one S3 request attempt (0: none).",
							NULL, &s3_request_timeout_ms, 300000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_stall_timeout",
							"An S3 transfer that moves no byte for this long is abandoned (0: never).",
							NULL, &s3_stall_timeout_s, 30, 0, 3600,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_max_parallel",
							"S3 requests run at once by one backend (range reads, deletes).",
							NULL, &s3_max_parallel, 32, 1, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_part_size",
							"Part size of S3 multipart uploads (objects up to this size use one PUT).",
							NULL, &s3_part_size_kb, 16 * 1024, 5 * 1024, 1024 * 1024,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_upload_parallel",
							"Parts of one multipart upload sent at once (each buffered: memory is this times vlake.s3_part_size).",
							NULL, &s3_upload_parallel, 4, 1, 16,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vlake.s3_read_part_size",
							"Reads of a known version longer than this are split into parallel range requests (0: never).",
							NULL, &s3_read_part_size_kb, 8 * 1024, 0, 1024 * 1024,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
}

/* ------------------------------------------------------- validator ---- */

typedef struct S3Option
{
	const char *name;
	Oid			context;
} S3Option;

static const S3Option s3_options[] = {
	{"endpoint", ForeignServerRelationId},
	{"region", ForeignServerRelationId},
	{"url_style", ForeignServerRelationId},
	{"bucket", ForeignServerRelationId},
	{"uri_prefix", ForeignServerRelationId},
	{"ca_file", ForeignServerRelationId},
	{"access_key", UserMappingRelationId},
	{"secret_key", UserMappingRelationId},
	{"session_token", UserMappingRelationId},
};

static void
check_endpoint(const char *v)
{
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid endpoint \"%s\"", v),
				 errhint("An endpoint is http://host[:port][/path] or https://host[:port][/path].")));
	if (strchr(v, '@') || strchr(v, '?') || strchr(v, '#') || strchr(v, ' '))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid endpoint \"%s\": no user info, query or fragment allowed", v)));
}

static bool
valid_bucket_name(const char *b)
{
	size_t		n = strlen(b);

	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
			  b[i] == '-' || b[i] == '.'))
			return false;
	return true;
}

static void
check_uri_prefix(const char *v)
{
	const char *b = v + 5;
	const char *slash;
	char	   *bucket;

	if (strncmp(v, "s3://", 5) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid uri_prefix \"%s\": it must start with s3://bucket/", v)));
	slash = strchr(b, '/');
	bucket = slash ? pnstrdup(b, slash - b) : pstrdup(b);
	if (!valid_bucket_name(bucket))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid bucket name \"%s\" in uri_prefix", bucket)));
}

PG_FUNCTION_INFO_V1(vlake_s3_fdw_validator);
Datum
vlake_s3_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;
	bool		has_bucket = false;
	bool		has_prefix = false;
	bool		has_ak = false;
	bool		has_sk = false;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);
		bool		known = false;
		const char *v;

		for (int i = 0; i < lengthof(s3_options); i++)
			if (s3_options[i].context == catalog && strcmp(s3_options[i].name, def->defname) == 0)
				known = true;
		if (!known)
		{
			StringInfoData names;

			initStringInfo(&names);
			for (int i = 0; i < lengthof(s3_options); i++)
				if (s3_options[i].context == catalog)
					appendStringInfo(&names, "%s%s", names.len ? ", " : "", s3_options[i].name);
			/* the option's value is never shown: it may be a secret */
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for vlake_s3", def->defname),
					 names.len ? errhint("Valid options here are: %s.", names.data)
					 : errhint("There are no options in this context.")));
		}
		v = defGetString(def);
		if (strcmp(def->defname, "endpoint") == 0)
			check_endpoint(v);
		else if (strcmp(def->defname, "url_style") == 0)
		{
			if (strcmp(v, "path") != 0 && strcmp(v, "virtual") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid url_style \"%s\"", v),
						 errhint("Use 'path' (endpoint/bucket/key) or 'virtual' (bucket.endpoint/key).")));
		}
		else if (strcmp(def->defname, "region") == 0)
		{
			if (v[0] == '\0' || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid region \"%s\"", v)));
		}
		else if (strcmp(def->defname, "bucket") == 0)
		{
			if (!valid_bucket_name(v))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("invalid bucket name \"%s\"", v)));
			has_bucket = true;
		}
		else if (strcmp(def->defname, "uri_prefix") == 0)
		{
			check_uri_prefix(v);
			has_prefix = true;
		}
		else if (strcmp(def->defname, "ca_file") == 0)
		{
			/* the backend reads this file: only superusers choose it */
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only superusers may set the option ca_file")));
			if (!is_absolute_path(v))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("ca_file must be an absolute path")));
		}
		else if (strcmp(def->defname, "access_key") == 0)
			has_ak = (v[0] != '\0');
		else if (strcmp(def->defname, "secret_key") == 0)
			has_sk = (v[0] != '\0');
		else if (strcmp(def->defname, "session_token") == 0 && v[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("session_token must not be empty")));
	}
	if (catalog == ForeignServerRelationId && has_bucket == has_prefix)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a vlake_s3 server needs exactly one of the options bucket and uri_prefix")));
	if (catalog == UserMappingRelationId && (!has_ak || !has_sk))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a vlake_s3 user mapping needs the options access_key and secret_key")));
	PG_RETURN_VOID();
}

/* -------------------------------------------------------- resolution -- */

static const char *
option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/* The s3:// prefix a server covers, always ending in '/'. */
static char *
server_prefix(ForeignServer *srv)
{
	const char *prefix = option_value(srv->options, "uri_prefix");
	const char *bucket = option_value(srv->options, "bucket");

	if (prefix)
	{
		size_t		n = strlen(prefix);

		return (n > 0 && prefix[n - 1] == '/') ? pstrdup(prefix) : psprintf("%s/", prefix);
	}
	if (bucket)
		return psprintf("s3://%s/", bucket);
	return NULL;
}

/* The vlake_s3 server for a root URI (longest prefix wins). */
static ForeignServer *
find_server(const char *root_uri)
{
	ForeignDataWrapper *fdw = GetForeignDataWrapperByName(S3_FDW_NAME, true);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	ForeignServer *best = NULL;
	size_t		best_len = 0;
	bool		tie = false;
	char	   *tie_name = NULL;

	if (fdw == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no S3 configuration for \"%s\": foreign-data wrapper %s does not exist",
						root_uri, S3_FDW_NAME),
				 errhint("CREATE EXTENSION vlake creates it.")));

	rel = table_open(ForeignServerRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_foreign_server form = (Form_pg_foreign_server) GETSTRUCT(tup);
		ForeignServer *srv;
		char	   *prefix;
		size_t		n;

		if (form->srvfdw != fdw->fdwid)
			continue;
		srv = GetForeignServer(form->oid);
		prefix = server_prefix(srv);
		if (prefix == NULL)
			continue;
		n = strlen(prefix);
		if (strncmp(root_uri, prefix, n) != 0)
			continue;
		if (n > best_len)
		{
			best = srv;
			best_len = n;
			tie = false;
		}
		else if (n == best_len)
		{
			tie = true;
			tie_name = srv->servername;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (best == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no vlake_s3 server covers \"%s\"", root_uri),
				 errhint("CREATE SERVER name FOREIGN DATA WRAPPER vlake_s3 OPTIONS (bucket '...', endpoint '...', region '...') and a user mapping for it.")));
	if (tie)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("vlake_s3 servers \"%s\" and \"%s\" both cover \"%s\"",
						best->servername, tie_name, root_uri),
				 errhint("Give one of them a longer uri_prefix, or drop one.")));
	return best;
}

/* Parse "scheme://host[:port][/path]" into the target. */
static void
parse_endpoint(S3Target *t, const char *endpoint)
{
	const char *rest;
	const char *slash;
	size_t		plen;

	if (strncmp(endpoint, "https://", 8) == 0)
	{
		t->scheme = "https";
		rest = endpoint + 8;
	}
	else if (strncmp(endpoint, "http://", 7) == 0)
	{
		t->scheme = "http";
		rest = endpoint + 7;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid endpoint \"%s\" of server \"%s\"", endpoint, t->server_name)));
	slash = strchr(rest, '/');
	t->host = slash ? pnstrdup(rest, slash - rest) : pstrdup(rest);
	if (t->host[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("endpoint \"%s\" of server \"%s\" has no host", endpoint, t->server_name)));
	t->base_path = slash ? pstrdup(slash) : pstrdup("");
	plen = strlen(t->base_path);
	while (plen > 0 && t->base_path[plen - 1] == '/')
		t->base_path[--plen] = '\0';
}

/* The mapping of the current user, else PUBLIC's; NULL if none. */
static UserMapping *
find_user_mapping(Oid userid, ForeignServer *srv)
{
	if (SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							  ObjectIdGetDatum(srv->serverid)) ||
		SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(srv->serverid)))
		return GetUserMapping(userid, srv->serverid);
	return NULL;
}

S3Target *
s3_target_for_uri(const char *root_uri, char **bucket_out, char **prefix_out)
{
	const char *b = root_uri + 5;
	const char *slash;
	ForeignServer *srv;
	UserMapping *um;
	AclResult	aclresult;
	S3Target   *t;
	const char *endpoint;
	const char *style;
	const char *token;
	Oid			userid = GetUserId();

	if (strncmp(root_uri, "s3://", 5) != 0)
		elog(ERROR, "not an s3:// URI: \"%s\"", root_uri);
	slash = strchr(b, '/');
	*bucket_out = slash ? pnstrdup(b, slash - b) : pstrdup(b);
	*prefix_out = pstrdup(slash ? slash + 1 : "");
	if (!valid_bucket_name(*bucket_out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid bucket name in \"%s\"", root_uri)));

	srv = find_server(root_uri);
	aclresult = pg_foreign_server_aclcheck(srv->serverid, userid, ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, srv->servername);
	um = find_user_mapping(userid, srv);
	if (um == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no user mapping for role \"%s\" on server \"%s\", needed for \"%s\"",
						GetUserNameFromId(userid, false), srv->servername, root_uri),
				 errhint("CREATE USER MAPPING FOR ... SERVER %s OPTIONS (access_key '...', secret_key '...'); see docs/s3.md for doing so without logging the secret.",
						 srv->servername)));

	t = palloc0(sizeof(S3Target));
	t->server_name = pstrdup(srv->servername);
	t->bucket = pstrdup(*bucket_out);
	endpoint = option_value(srv->options, "endpoint");
	t->region = pstrdup(option_value(srv->options, "region") ?
						option_value(srv->options, "region") : "us-east-1");
	if (endpoint == NULL)
		endpoint = psprintf("https://s3.%s.amazonaws.com", t->region);
	parse_endpoint(t, endpoint);
	style = option_value(srv->options, "url_style");
	t->virtual_host = style ? strcmp(style, "virtual") == 0 : true;
	t->ca_file = option_value(srv->options, "ca_file") ?
		pstrdup(option_value(srv->options, "ca_file")) : NULL;
	if (t->virtual_host && strchr(t->bucket, '.') && strcmp(t->scheme, "https") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("bucket \"%s\" contains a dot and cannot be addressed virtual-hosted over https", t->bucket),
				 errhint("Set url_style 'path' on server \"%s\".", srv->servername)));

	t->access_key = pstrdup(option_value(um->options, "access_key") ? option_value(um->options, "access_key") : "");
	t->secret_key = pstrdup(option_value(um->options, "secret_key") ? option_value(um->options, "secret_key") : "");
	token = option_value(um->options, "session_token");
	t->session_token = token ? pstrdup(token) : NULL;
	if (t->access_key[0] == '\0' || t->secret_key[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("the user mapping of server \"%s\" lacks access_key or secret_key",
						srv->servername)));
	return t;
}

S3Target *
s3_target_copy(const S3Target *src)
{
	S3Target   *t = palloc(sizeof(S3Target));

	t->server_name = pstrdup(src->server_name);
	t->scheme = pstrdup(src->scheme);
	t->host = pstrdup(src->host);
	t->base_path = pstrdup(src->base_path);
	t->region = pstrdup(src->region);
	t->virtual_host = src->virtual_host;
	t->bucket = pstrdup(src->bucket);
	t->access_key = pstrdup(src->access_key);
	t->secret_key = pstrdup(src->secret_key);
	t->session_token = src->session_token ? pstrdup(src->session_token) : NULL;
	t->ca_file = src->ca_file ? pstrdup(src->ca_file) : NULL;
	return t;
}
