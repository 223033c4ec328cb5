# vlake — PGXS build.
#
# Sources, SQL fragments and tests are found by convention, so a layer or a
# test is added without editing this file (docs/architecture.md):
#   src/*.c, src/<layer>/*.c      -> compiled into vlake.so
#   src/<layer>/*.sql             -> concatenated, in LAYERS order (files
#                                    sorted by name within a layer), into the
#                                    extension install script; src/vector/'s
#                                    (but vlake_*.sql) only when pgvector is
#                                    not installed (scripts/gen-install-sql.sh)
#   sql/*.sql + expected/*.out    -> pg_regress suites
#   test/isolation/specs/*.spec   -> isolation suites
#   test/t/*.pl                   -> TAP suites
#   test/unit/unit_<name>.c       -> stand-alone unit tests (see "Unit tests")
#
# Workflows:  make test (everything CI runs), make quickstart (the demo),
#             make installcheck (pg_regress + isolation against a running
#             server that has vlake installed), make check-layers,
#             make bench-<name> (docs/benchmarks.md).

EXTENSION  = vlake
EXTVERSION = 0.1.0

# The layers, bottom first.  A layer includes headers of the layers before
# it only (scripts/check-layers.sh enforces it), and its SQL may reference
# only objects the layers before it created.
LAYERS = vector objstore lake objref parquet layout pgmap manifest tableam index fulltext planner fdw workers

MODULE_big = vlake
SRCS = $(wildcard src/*.c) $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
OBJS = $(SRCS:.c=.o)

SQL_FRAGMENTS = src/vlake.sql $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.sql)))
DATA_built    = $(EXTENSION)--$(EXTVERSION).sql

# make installcheck is ours (below): each test in its own database.
NO_INSTALLCHECK = 1

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare
ifeq ($(WERROR),1)
PG_CPPFLAGS += -Werror
endif
SHLIB_LINK = -lcurl -lcrypto -lzstd -lsnappy -lz -llz4 -lroaring -lstemmer -lm
# export only vlake_* (SQL-callable functions, processes started by name),
# Pg_magic_func and _PG_init: pgvector's vector.so is loaded into the same
# backend (src/vlake.exports, docs/pgvector.md)
SHLIB_LINK += -Wl,--version-script=$(srcdir)/src/vlake.exports

EXTRA_CLEAN = $(DATA_built) build/bin

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

srcdir ?= .

# PGXS does not track header dependencies.  Every object depends on every
# header under src/ (coarse, but a stale object after a struct change is a
# memory-corruption bug, and a full rebuild takes seconds).
$(OBJS): $(wildcard src/*.h src/*/*.h)

$(MODULE_big)$(DLSUFFIX): src/vlake.exports

# the fragments of src/vector/ but vlake_*.sql run only when pgvector is not
# installed in vlake's schema (scripts/gen-install-sql.sh, docs/pgvector.md)
$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS) scripts/gen-install-sql.sh
	scripts/gen-install-sql.sh $(SQL_FRAGMENTS) > $@

# ----------------------------------------------------------- workflows ----
test:
	scripts/test.sh
quickstart:
	scripts/quickstart.sh
quickstart-stop:
	scripts/quickstart.sh stop
quickstart-s3:
	scripts/quickstart-s3.sh
quickstart-s3-stop:
	scripts/quickstart-s3.sh stop
check-layers:
	scripts/check-layers.sh
# the checked-in Unicode tables of the full-text analyzer are what
# scripts/gen-fts-unicode.py makes of the installed unicode-data
check-fts-unicode:
	scripts/gen-fts-unicode.py | cmp - src/fulltext/fts_unicode_data.h
# the README's two commands on a pristine Debian 12 root, as CI runs them
check-fresh:
	scripts/check-fresh.sh
# the pg_regress and isolation suites against the server PGHOST/PGPORT name
# (vlake installed and preloaded, VLAKE_TEST_LAKE among its allowed roots)
installcheck:
	scripts/installcheck.sh
.PHONY: test quickstart quickstart-stop quickstart-s3 quickstart-s3-stop check-layers check-fts-unicode check-fresh installcheck

build/bin:
	mkdir -p $@

# ---------------------------------------------------------- unit tests ----
# One template for every stand-alone test of backend code outside a server:
# test/unit/unit_<name>.c, the sources it tests, and the backend stand-in
# (test/fuzz/pg_standin.c: palloc over malloc, ereport(ERROR) longjmps to
# STANDIN_CATCH) with the lake error reporter; libpgcommon/libpgport supply
# psprintf, StringInfo and the like.  A new test is one line:
#   $(eval $(call unit_test,<name>,<sources>,<extra libraries>))
# scripts/test.sh runs every build/bin/unit_*; its exit status is the verdict.
PG_INCLUDEDIR_SERVER := $(shell $(PG_CONFIG) --includedir-server)
PG_LIBDIRS := -L$(shell $(PG_CONFIG) --pkglibdir) -L$(shell $(PG_CONFIG) --libdir)
TOOL_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-clobbered -Isrc -I$(PG_INCLUDEDIR_SERVER)
UNIT_STANDIN = test/fuzz/pg_standin.c src/lake/lake_error.c
UNIT_LIBS = $(PG_LIBDIRS) -lpgcommon -lpgport -lm
CODEC_LIBS = -lzstd -lsnappy -lz -llz4

define unit_test
build/bin/unit_$(1): test/unit/unit_$(1).c $(2) $(UNIT_STANDIN) $$(wildcard src/*/*.h test/fuzz/*.h) | build/bin
	$$(CC) $$(TOOL_CFLAGS) -Itest/fuzz -o $$@ test/unit/unit_$(1).c $(2) $$(UNIT_STANDIN) $$(UNIT_LIBS) $(3)
tools: build/bin/unit_$(1)
endef

VECTOR_KERNEL_SRCS = src/vector/distance.c
PARQUET_META_SRCS  = src/parquet/thrift.c src/parquet/parquet_meta.c
PARQUET_CODEC_SRCS = src/parquet/parquet_codec.c src/parquet/parquet_encoding.c
PARQUET_READER_SRCS = $(PARQUET_META_SRCS) $(PARQUET_CODEC_SRCS) src/parquet/parquet_reader.c \
                      src/parquet/byte_source.c src/parquet/parquet_takeable.c src/parquet/io_arena.c \
                      src/parquet/parquet_page_cache.c

$(eval $(call unit_test,distance,$(VECTOR_KERNEL_SRCS),))
$(eval $(call unit_test,s3_sigv4,src/objstore/s3_sigv4.c,-lcrypto))
$(eval $(call unit_test,s3_xml,src/objstore/s3_xml.c,))
$(eval $(call unit_test,objstore_map,src/objstore/objstore_map.c,))
$(eval $(call unit_test,parquet_encoding,$(PARQUET_CODEC_SRCS),$(CODEC_LIBS)))
$(eval $(call unit_test,parquet_meta,$(PARQUET_META_SRCS),))
$(eval $(call unit_test,parquet_prune,$(PARQUET_READER_SRCS) src/parquet/parquet_writer.c,$(CODEC_LIBS) -DVLAKE_FRONTEND_TOOL))
$(eval $(call unit_test,ivf,src/index/ivf.c $(VECTOR_KERNEL_SRCS),))
$(eval $(call unit_test,lake_rowref,,))
$(eval $(call unit_test,lake_delvec,src/lake/lake_delvec.c,-lroaring))
# vlake's delete vectors read by roaring-wasm (test/tools/delvec_roaring.mjs)
build/bin/unit_lake_delvec_interop: test/unit/run_delvec_interop.sh build/bin/unit_lake_delvec
	cp $< $@
tools: build/bin/unit_lake_delvec_interop
$(eval $(call unit_test,manifest,src/manifest/manifest_json.c,))
$(eval $(call unit_test,fts_analyzer,src/fulltext/fts_analyzer.c,-lstemmer))
$(eval $(call unit_test,hyb_fusion,src/planner/hyb_fusion.c,))
$(eval $(call unit_test,fts_bm25,src/fulltext/fts_bm25.c,))
$(eval $(call unit_test,fts_postings,src/fulltext/fts_postings.c src/fulltext/fts_bm25.c,))
$(eval $(call unit_test,fts_query,src/fulltext/fts_query.c src/fulltext/fts_bm25.c src/fulltext/fts_analyzer.c src/fulltext/fts_postings.c,-lstemmer))

# The layering check runs with the unit tests (it needs the objects of `all`).
build/bin/unit_layers: scripts/check-layers.sh | build/bin
	cp $< $@
tools: build/bin/unit_layers

# Fuzzer (clang + libFuzzer + ASan/UBSan) over Parquet metadata and page
# decoding, run for a bounded time by the unit_fuzz_parquet wrapper.  Its
# runtime comes with the test dependencies (libclang-rt-14-dev), so only
# `tools` builds it, never `all`.
FUZZ_CC ?= clang-14
FUZZ_PARQUET_SRCS = $(PARQUET_READER_SRCS) src/layout/layout_keys.c
build/bin/fuzz_parquet: test/fuzz/fuzz_parquet.c $(FUZZ_PARQUET_SRCS) $(UNIT_STANDIN) $(wildcard src/*/*.h test/fuzz/*.h) | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -DVLAKE_FRONTEND_TOOL -Isrc -Itest/fuzz -I$(PG_INCLUDEDIR_SERVER) \
	  -Wno-unused-command-line-argument -Wno-ignored-attributes -o $@ \
	  test/fuzz/fuzz_parquet.c $(FUZZ_PARQUET_SRCS) $(UNIT_STANDIN) $(UNIT_LIBS) $(CODEC_LIBS)
build/bin/unit_fuzz_parquet: test/fuzz/run_fuzz.sh build/bin/fuzz_parquet
	cp test/fuzz/run_fuzz.sh $@
tools: build/bin/unit_fuzz_parquet

# The same over the dataset manifest decoder (docs/manifest.md), ~10 s.
build/bin/fuzz_manifest: test/fuzz/fuzz_manifest.c src/manifest/manifest_json.c $(UNIT_STANDIN) $(wildcard src/*/*.h test/fuzz/*.h) | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -DVLAKE_FRONTEND_TOOL -Isrc -Itest/fuzz -I$(PG_INCLUDEDIR_SERVER) \
	  -Wno-unused-command-line-argument -Wno-ignored-attributes -o $@ \
	  test/fuzz/fuzz_manifest.c src/manifest/manifest_json.c $(UNIT_STANDIN) $(UNIT_LIBS)
build/bin/unit_fuzz_manifest: test/fuzz/run_fuzz_manifest.sh build/bin/fuzz_manifest
	cp test/fuzz/run_fuzz_manifest.sh $@
tools: build/bin/unit_fuzz_manifest

# The same over the full-text analyzer (docs/fulltext.md), ~10 s.
build/bin/fuzz_fts_analyzer: test/fuzz/fuzz_fts_analyzer.c src/fulltext/fts_analyzer.c $(wildcard src/fulltext/*.h) | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc -Wno-unused-command-line-argument -o $@ \
	  test/fuzz/fuzz_fts_analyzer.c src/fulltext/fts_analyzer.c -lstemmer
build/bin/unit_fuzz_fts_analyzer: test/fuzz/run_fuzz_fts_analyzer.sh build/bin/fuzz_fts_analyzer
	cp test/fuzz/run_fuzz_fts_analyzer.sh $@
tools: build/bin/unit_fuzz_fts_analyzer

# The same over the BM25 query parser and single-document evaluation
# (docs/bm25.md), ~10 s, with failing allocations.
build/bin/fuzz_fts_query: test/fuzz/fuzz_fts_query.c src/fulltext/fts_query.c src/fulltext/fts_bm25.c src/fulltext/fts_analyzer.c $(wildcard src/fulltext/*.h) | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc -Wno-unused-command-line-argument -o $@ \
	  test/fuzz/fuzz_fts_query.c src/fulltext/fts_query.c src/fulltext/fts_bm25.c src/fulltext/fts_analyzer.c -lstemmer -lm
build/bin/unit_fuzz_fts_query: test/fuzz/run_fuzz_fts_query.sh build/bin/fuzz_fts_query
	cp test/fuzz/run_fuzz_fts_query.sh $@
tools: build/bin/unit_fuzz_fts_query

# The same over the fusion core of hybrid retrieval (docs/hybrid.md), ~10 s:
# arbitrary batches, every run without errors checked by brute force.
build/bin/fuzz_hyb_fusion: test/fuzz/fuzz_hyb_fusion.c src/planner/hyb_fusion.c src/planner/hyb_fusion.h | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc -o $@ test/fuzz/fuzz_hyb_fusion.c src/planner/hyb_fusion.c -lm
build/bin/unit_fuzz_hyb_fusion: test/fuzz/run_fuzz_hyb_fusion.sh build/bin/fuzz_hyb_fusion
	cp test/fuzz/run_fuzz_hyb_fusion.sh $@
tools: build/bin/unit_fuzz_hyb_fusion

# The same over the BM25 postings image reader (docs/bm25-format.md), ~10 s:
# images with CRCs fixed up so mutations reach the structural checks, and
# documents built, merged and read back.
build/bin/fuzz_fts_postings: test/fuzz/fuzz_fts_postings.c src/fulltext/fts_postings.c src/fulltext/fts_bm25.c $(wildcard src/fulltext/*.h) | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc -o $@ test/fuzz/fuzz_fts_postings.c src/fulltext/fts_postings.c src/fulltext/fts_bm25.c -lm
build/bin/unit_fuzz_fts_postings: test/fuzz/run_fuzz_fts_postings.sh build/bin/fuzz_fts_postings
	cp test/fuzz/run_fuzz_fts_postings.sh $@
tools: build/bin/unit_fuzz_fts_postings

# ----------------------------------------------- data-set tools, oracles ----
build/bin/fmnist: bench/tools/fmnist.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lz -lm
build/bin/synth: bench/tools/synth.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lm
build/bin/fmblend: bench/tools/fmblend.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lz -lm
build/bin/embgen: bench/tools/embgen.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lm
build/bin/ann_truth: bench/ann/ann_truth.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lz -lm
build/bin/bench_kernels: bench/kernels.c $(VECTOR_KERNEL_SRCS) src/vector/distance.h | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/kernels.c $(VECTOR_KERNEL_SRCS) -lm
build/bin/bench_fts_analyzer: bench/fulltext/analyzer.c src/fulltext/fts_analyzer.c $(wildcard src/fulltext/*.h) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/fulltext/analyzer.c src/fulltext/fts_analyzer.c -lstemmer
build/bin/bench_fts_postings: bench/fulltext/postings.c src/fulltext/fts_postings.c src/fulltext/fts_bm25.c $(wildcard src/fulltext/*.h) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/fulltext/postings.c src/fulltext/fts_postings.c src/fulltext/fts_bm25.c -lm
build/bin/tablegen: bench/tables/tablegen.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lm
build/bin/bench_hyb_fusion: bench/hybrid/fusion.c src/planner/hyb_fusion.c src/planner/hyb_fusion.h | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/hybrid/fusion.c src/planner/hyb_fusion.c -lm
build/bin/hier_select: bench/ann/hier_select.c src/index/ivf.c src/index/ivf.h $(VECTOR_KERNEL_SRCS) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/ann/hier_select.c src/index/ivf.c $(VECTOR_KERNEL_SRCS) -lm
tools: build/bin/fmnist build/bin/fmblend build/bin/bench_kernels
.PHONY: tools
build/bin/probe_sim: bench/ann/probe_sim.c src/index/ivf.c src/index/ivf.h $(VECTOR_KERNEL_SRCS) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/ann/probe_sim.c src/index/ivf.c $(VECTOR_KERNEL_SRCS) -lm -lz

# ---------------------------------------------------------- benchmarks ----
bench-kernels: build/bin/bench_kernels
	build/bin/bench_kernels
bench-objstore:
	bench/objstore/run.sh
bench-parquet:
	bench/parquet/run.sh
bench-ann: all tools build/bin/ann_truth build/bin/fmnist
	bench/ann/run.sh
bench-ann-cold: all tools build/bin/ann_truth build/bin/fmnist
	bench/ann/cold_s3.sh
bench-ann-1m: all tools build/bin/fmblend build/bin/ann_truth
	bench/ann/versus.sh
bench-ann-versus: all tools build/bin/fmblend build/bin/ann_truth
	DATASET=fmnist bench/ann/versus.sh
bench-ann-hier: all build/bin/synth build/bin/hier_select
	build/bin/hier_select
	bench/ann/hier.sh
bench-ann-3072: all build/bin/embgen
	bench/ann/halfvec3072.sh

bench-ann-bits: all
	bench/ann/bits64k.sh
bench-index-gc: all
	bench/index_gc/run.sh
bench-tables: all build/bin/tablegen
	bench/tables/run.sh $(ROWS)
bench-tables-cold: all tools build/bin/tablegen
	bench/tables/cold_s3.sh $(ROWS)
bench-objref: all
	bench/objref/run.sh
bench-hybrid-fusion: build/bin/bench_hyb_fusion
	build/bin/bench_hyb_fusion
bench-hybrid: all
	bench/hybrid/run.sh
bench-fts-analyzer: build/bin/bench_fts_analyzer
	bench/fulltext/run.sh
bench-fts-postings: build/bin/bench_fts_postings
	build/bin/bench_fts_postings
bench-sparse: all
	bench/fulltext/sparse.sh
bench-bm25: all
	bench/fulltext/bm25.sh

bench-objref-lists: all
	bench/objref/lists.sh
bench-tables-prune: all build/bin/tablegen
	bench/tables/prune.sh $(ROWS)
bench-tables-timetravel: all
	bench/tables/timetravel.sh $(ROWS)
bench-tables-index: all tools build/bin/ann_truth build/bin/fmnist
	bench/tables/index.sh
bench-tables-evolve: all build/bin/tablegen
	bench/tables/evolve.sh $(ROWS)
bench-tables-compact: all build/bin/tablegen
	bench/tables/compact.sh $(ROWS)
.PHONY: bench-ann-1m bench-ann-versus bench-sparse bench-hybrid bench-hybrid-fusion bench-fts-analyzer bench-fts-postings bench-bm25 bench-kernels bench-objstore bench-objref bench-objref-lists bench-parquet bench-ann bench-ann-cold bench-ann-hier bench-ann-3072 bench-ann-bits bench-index-gc bench-tables bench-tables-cold bench-tables-prune bench-tables-timetravel bench-tables-index bench-tables-evolve bench-tables-compact
