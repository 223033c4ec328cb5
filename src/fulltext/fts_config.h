/*
 * fts_config.h — full-text configurations in a backend (fts_sql.c): a name
 * ("simple" or a libstemmer language) to its analyzer, built on first use
 * and kept for the backend's life.  The BM25 index calls this.
 */
#ifndef VLAKE_FTS_CONFIG_H
#define VLAKE_FTS_CONFIG_H

#include "fulltext/fts_analyzer.h"

/* The analyzer of configuration name; ERROR (22023) for an unknown name. */
extern FtsAnalyzer *fts_config_analyzer(const char *name);

/*
 * Analyze text (server encoding) with the configuration name; fn receives
 * UTF-8 terms.  ERROR (22021) naming the configuration for text that is not
 * valid UTF-8 once converted.
 */
extern void fts_config_analyze(const char *name, const char *text, size_t len,
							   FtsTokenFn fn, void *arg);

#endif
