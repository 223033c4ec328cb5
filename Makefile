# vlake — PGXS build.
#
# Sources, SQL fragments and tests are found by convention so that layers can
# be added without editing this file:
#   src/*.c, src/<layer>/*.c       -> compiled into vlake.so
#   src/<layer>/*.sql              -> concatenated, in LAYERS order (files
#                                     sorted by name within a layer), into the
#                                     extension install script
#   sql/*.sql + expected/*.out     -> pg_regress suites
#   test/isolation/specs/*.spec    -> isolation suites
#   test/t/*.pl                    -> TAP suites
#
# Targets: make, make install, make test (everything CI runs),
#          make quickstart (the end-to-end demo), make bench-kernels, ...

EXTENSION  = vlake
EXTVERSION = 0.1.0

# Layer order matters for the SQL script: a layer may only reference objects
# created by layers before it (a layer calls down, never up).
LAYERS = vector objstore formats manifest tableam index fulltext planner fdw workers

MODULE_big = vlake
SRCS = $(wildcard src/*.c) $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
OBJS = $(SRCS:.c=.o)

SQL_FRAGMENTS = src/vlake.sql $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.sql)))
DATA_built    = $(EXTENSION)--$(EXTVERSION).sql

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare
ifeq ($(WERROR),1)
PG_CPPFLAGS += -Werror
endif
SHLIB_LINK = -lcurl -lcrypto -lzstd -lsnappy -lz -llz4 -lm

EXTRA_CLEAN = $(DATA_built) build/bin

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

srcdir ?= .

# PGXS does not track header dependencies.  Every object depends on every
# header under src/ (coarse, but a stale object after a struct change is a
# memory-corruption bug, and a full rebuild takes seconds).
$(OBJS): $(wildcard src/*.h src/*/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ > $@

# ---------------------------------------------------------------- tools ----
# Small stand-alone programs (data-set loaders, oracles, benchmarks, unit
# tests).  They link only the backend-independent parts of the layers.
TOOL_CFLAGS = -O2 -g -Wall -Wextra -Isrc -I$(shell $(PG_CONFIG) --includedir-server)

build/bin/fmnist: bench/tools/fmnist.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lz -lm

build/bin:
	mkdir -p $@

tools: build/bin/fmnist
.PHONY: tools

# ---- objstore-s3: S3 unit tests, S3 quick start (begin) ----
build/bin/unit_s3_sigv4: test/unit/unit_s3_sigv4.c src/objstore/s3_sigv4.c src/objstore/s3_sigv4.h | build/bin
	$(CC) $(TOOL_CFLAGS) -DFRONTEND -I$(shell $(PG_CONFIG) --includedir) -o $@ \
	  test/unit/unit_s3_sigv4.c src/objstore/s3_sigv4.c \
	  -L$(shell $(PG_CONFIG) --pkglibdir) -L$(shell $(PG_CONFIG) --libdir) -lpgcommon -lpgport -lcrypto
tools: build/bin/unit_s3_sigv4

build/bin/unit_s3_xml: test/unit/unit_s3_xml.c src/objstore/s3_xml.c src/objstore/s3_xml.h | build/bin
	$(CC) $(TOOL_CFLAGS) -DFRONTEND -I$(shell $(PG_CONFIG) --includedir) -o $@ \
	  test/unit/unit_s3_xml.c src/objstore/s3_xml.c \
	  -L$(shell $(PG_CONFIG) --pkglibdir) -L$(shell $(PG_CONFIG) --libdir) -lpgcommon -lpgport
tools: build/bin/unit_s3_xml

quickstart-s3:
	scripts/quickstart-s3.sh
quickstart-s3-stop:
	scripts/quickstart-s3.sh stop
.PHONY: quickstart-s3 quickstart-s3-stop
# ---- objstore-s3: S3 unit tests, S3 quick start (end) ----

# ---- vector layer (owner: vector): kernel unit test and benchmark ----
VECTOR_KERNEL_DEPS = src/vector/distance.c src/vector/distance.h src/vector/half.h
build/bin/unit_distance: test/unit/unit_distance.c $(VECTOR_KERNEL_DEPS) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ test/unit/unit_distance.c src/vector/distance.c -lm
build/bin/bench_kernels: bench/kernels.c $(VECTOR_KERNEL_DEPS) | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/kernels.c src/vector/distance.c -lm
tools: build/bin/unit_distance build/bin/bench_kernels
bench-kernels: build/bin/bench_kernels
	build/bin/bench_kernels
.PHONY: bench-kernels
# ---- end vector layer ----

# ------------------------------------------------------------ workflows ----
test:
	scripts/test.sh

quickstart:
	scripts/quickstart.sh

quickstart-stop:
	scripts/quickstart.sh stop

.PHONY: test quickstart quickstart-stop

# ---- parquet-codec (issue 5): codec/encoding unit tests, writer, benchmark ----
PQ_UNIT_LIBS = -L$(shell $(PG_CONFIG) --pkglibdir) -lpgport -lzstd -lsnappy -lz -llz4 -lm
PQ_CODEC_SRCS = src/formats/pq_codec.c src/formats/pq_encoding.c test/fuzz/pg_standin.c

build/bin/unit_pq_encoding: test/unit/unit_pq_encoding.c $(PQ_CODEC_SRCS) src/formats/pq_codec.h src/formats/pq_encoding.h | build/bin
	$(CC) $(TOOL_CFLAGS) -Wno-unused-parameter -Itest/fuzz -o $@ test/unit/unit_pq_encoding.c $(PQ_CODEC_SRCS) $(PQ_UNIT_LIBS)

tools: build/bin/unit_pq_encoding
bench-parquet:
	bench/parquet/run.sh
.PHONY: bench-parquet
# ---- end parquet-codec ----

# ---- parquet-meta (issue 5: Thrift, Parquet metadata, reader) ----
PQ_META_SRCS = src/formats/thrift.c src/formats/parquet_meta.c test/fuzz/pg_standin.c
PQ_TOOL_LIBS = -L$(shell $(PG_CONFIG) --pkglibdir) -lpgcommon -lpgport -lm
PQ_TOOL_WARN = -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Wno-clobbered
build/bin/unit_parquet_meta: test/unit/parquet_meta_test.c $(PQ_META_SRCS) src/formats/*.h test/fuzz/pg_standin.h | build/bin
	$(CC) $(TOOL_CFLAGS) $(PQ_TOOL_WARN) -Itest/fuzz -o $@ test/unit/parquet_meta_test.c $(PQ_META_SRCS) $(PQ_TOOL_LIBS)
tools: build/bin/unit_parquet_meta

# Fuzzer (clang + libFuzzer + ASan/UBSan) over metadata and page decoding,
# run for a bounded time by the unit_fuzz_parquet wrapper.
PQ_READER_SRCS = $(PQ_META_SRCS) src/formats/parquet_reader.c src/formats/byte_source.c \
                 src/formats/pq_codec.c src/formats/pq_encoding.c
FUZZ_CC ?= clang-14
build/bin/fuzz_parquet: test/fuzz/fuzz_parquet.c $(PQ_READER_SRCS) src/formats/*.h test/fuzz/pg_standin.h | build/bin
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -DVLAKE_FRONTEND_TOOL -Isrc -Itest/fuzz -I$(shell $(PG_CONFIG) --includedir-server) \
	  -Wno-unused-command-line-argument -Wno-ignored-attributes -o $@ test/fuzz/fuzz_parquet.c $(PQ_READER_SRCS) \
	  $(PQ_TOOL_LIBS) -lzstd -lsnappy -lz -llz4
build/bin/unit_fuzz_parquet: test/fuzz/run_fuzz.sh build/bin/fuzz_parquet
	cp test/fuzz/run_fuzz.sh $@
tools: build/bin/unit_fuzz_parquet
# ---- end parquet-meta ----

# ---- index layer (owner: index) ----
build/bin/unit_ivf: test/unit/unit_ivf.c src/index/ivf.c src/index/ivf.h src/vector/distance.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ test/unit/unit_ivf.c src/index/ivf.c src/vector/distance.c -lm
build/bin/ann_truth: bench/ann/ann_truth.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lz -lm
tools: build/bin/unit_ivf
bench-ann: all tools build/bin/ann_truth build/bin/fmnist
	bench/ann/run.sh
bench-ann-cold: all tools build/bin/ann_truth build/bin/fmnist
	bench/ann/cold_s3.sh
.PHONY: bench-ann bench-ann-cold
# ---- end index layer ----

# ---------------------------------------------- objstore (objstore-core) ----
bench-objstore:
	bench/objstore/run.sh
.PHONY: bench-objstore

# ---- gc (issue 4): index garbage collection benchmark (begin) ----
bench-index-gc: all
	bench/index_gc/run.sh
.PHONY: bench-index-gc
# ---- gc (issue 4) (end) ----

# ---- take (offset-computed pq_take) ----
# the fuzzer links the reader, which uses pq_takeable.c
PQ_READER_SRCS += src/formats/pq_takeable.c src/formats/io_arena.c
build/bin/fuzz_parquet: src/formats/pq_takeable.c
# ---- end take ----

# ---- ivfh (hierarchical IVF benchmark) ----
build/bin/synth: bench/tools/synth.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lm
build/bin/hier_select: bench/ann/hier_select.c src/index/ivf.c src/index/ivf.h src/vector/distance.c | build/bin
	$(CC) $(TOOL_CFLAGS) -o $@ bench/ann/hier_select.c src/index/ivf.c src/vector/distance.c -lm
bench-ann-hier: all build/bin/synth build/bin/hier_select
	build/bin/hier_select
	bench/ann/hier.sh
.PHONY: bench-ann-hier
# ---- end ivfh ----
check-fresh:  # the README's commands on a pristine Debian 12 root (docs/testing.md)
	scripts/check-fresh.sh
