/*
 * fts_sql.c — full-text configurations in the backend and the SQL functions
 * over the analyzer: vlake.fts_tokens(text, config) and vlake.fts_configs()
 * (docs/fulltext.md).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "fulltext/fts_config.h"

PG_FUNCTION_INFO_V1(vlake_fts_tokens);
PG_FUNCTION_INFO_V1(vlake_fts_configs);

typedef struct FtsConfigEntry
{
	char	   *name;
	FtsAnalyzer *analyzer;
} FtsConfigEntry;

/* configurations built in this backend (few: one per language used) */
static FtsConfigEntry *configs = NULL;
static int	nconfigs = 0;

/* $sharedir/tsearch_data/<language>.stop, the server's own stop word list */
static char *
stop_word_path(const char *language)
{
	char		share[MAXPGPATH];

	get_share_path(my_exec_path, share);
	return psprintf("%s/tsearch_data/%s.stop", share, language);
}

static bool
is_stemmer_language(const char *name)
{
	for (const char **l = fts_stemmer_languages(); *l; l++)
		if (strcmp(*l, name) == 0)
			return true;
	return false;
}

FtsAnalyzer *
fts_config_analyzer(const char *name)
{
	char		err[512];
	char	   *stop = NULL;
	FtsAnalyzer *a;

	for (int i = 0; i < nconfigs; i++)
		if (strcmp(configs[i].name, name) == 0)
			return configs[i].analyzer;

	if (strcmp(name, FTS_SIMPLE_CONFIG) != 0)
	{
		if (!is_stemmer_language(name))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown full-text configuration \"%s\"", name),
					 errhint("SELECT config FROM vlake.fts_configs() lists them.")));
		stop = stop_word_path(name);
		if (access(stop, R_OK) != 0)
			stop = NULL;		/* this language has no list: no stop words */
	}
	a = fts_analyzer_new(name, stop, err, sizeof(err));
	if (!a)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("cannot load full-text configuration \"%s\"", name),
				 errdetail("%s", err)));
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		FtsConfigEntry *n = configs ? repalloc(configs, sizeof(FtsConfigEntry) * (nconfigs + 1))
			: palloc(sizeof(FtsConfigEntry));

		configs = n;
		configs[nconfigs].name = pstrdup(name);
		configs[nconfigs].analyzer = a;
		nconfigs++;
		MemoryContextSwitchTo(old);
	}
	return a;
}

void
fts_config_analyze(const char *name, const char *text, size_t len, FtsTokenFn fn, void *arg)
{
	FtsAnalyzer *a = fts_config_analyzer(name);
	const char *utf8 = text;
	size_t		bad = 0;
	FtsResult	r;

	/* SQL_ASCII bytes go as they are: the analyzer's error names the offset */
	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
	{
		utf8 = pg_server_to_any(text, len, PG_UTF8);
		if (utf8 != text)
			len = strlen(utf8);
	}
	r = fts_analyze(a, utf8, len, fn, arg, &bad);
	if (r == FTS_INVALID_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("full-text configuration \"%s\": text is not valid UTF-8", name),
				 errdetail("Invalid byte sequence at byte offset %zu.", bad)));
	if (r == FTS_NO_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory analyzing text with full-text configuration \"%s\"", name)));
}

typedef struct TokensState
{
	ReturnSetInfo *rsinfo;
	bool		convert;		/* terms back to a non-UTF-8 server encoding */
	uint32		count;
} TokensState;

static bool
tokens_put(void *arg, const char *term, size_t len, uint32_t position, size_t start, size_t end)
{
	TokensState *st = arg;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	char	   *t = (char *) term;

	if ((++st->count & 4095) == 0)
		CHECK_FOR_INTERRUPTS();
	if (position > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text has more than %d tokens", PG_INT32_MAX)));
	if (st->convert)
		t = pg_any_to_server(term, len, PG_UTF8);
	values[0] = Int32GetDatum((int32) position);
	values[1] = PointerGetDatum(t == term ? cstring_to_text_with_len(term, len)
								: cstring_to_text(t));
	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc, values, nulls);
	return true;
}

/* vlake.fts_tokens(doc text, config text DEFAULT 'english') -> (position, term) */
Datum
vlake_fts_tokens(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	char	   *config = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TokensState st;

	InitMaterializedSRF(fcinfo, 0);
	st.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	st.convert = GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII;
	st.count = 0;
	fts_config_analyze(config, VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), tokens_put, &st);
	return (Datum) 0;
}

/* vlake.fts_configs() -> (config, stemmer, stop_words, stop_word_count) */
Datum
vlake_fts_configs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (int i = -1; fts_stemmer_languages()[i < 0 ? 0 : i]; i++)
	{
		const char *name = i < 0 ? FTS_SIMPLE_CONFIG : fts_stemmer_languages()[i];
		FtsAnalyzer *a = fts_config_analyzer(name);
		char	   *stop = i < 0 ? NULL : stop_word_path(name);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (stop && access(stop, R_OK) != 0)
			stop = NULL;
		values[0] = CStringGetTextDatum(name);
		if (i < 0)
			nulls[1] = true;
		else
			values[1] = CStringGetTextDatum(name);
		if (stop)				/* relative to the server's share directory */
			values[2] = CStringGetTextDatum(psprintf("tsearch_data/%s.stop", name));
		else
			nulls[2] = true;
		values[3] = Int32GetDatum(fts_analyzer_stop_word_count(a));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
