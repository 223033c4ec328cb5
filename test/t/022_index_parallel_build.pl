# vlake index: parallel CREATE INDEX.  The same index is built serially
# (max_parallel_maintenance_workers = 0) and with two workers (forced on a
# small table by its parallel_workers reloption); each build must index
# every row exactly once and reach the recall of the regress tests against
# exact search.  Also: CONCURRENTLY, the fallback when no worker can be
# launched, a worker ERROR reaching the leader, and a cancelled parallel
# build (statement_timeout) leaving no index and no temporary files, and
# (when the S3 test server runs) a parallel build into s3://.
# Whether workers ran is read from the build's DEBUG1 messages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use VlakeS3 qw(s3_available s3_setup_node s3_unique_prefix);

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');

my $node = PostgreSQL::Test::Cluster->new('pbuild');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_maintenance_workers = 2
maintenance_work_mem = '64MB'
});
$node->start;

# 12,000 clustered 32-d vectors (40 clusters, every vector distinct) and
# 40 queries; a recall function comparing the index with an exact scan.
$node->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE items (id int PRIMARY KEY, embedding vector(32));
INSERT INTO items
SELECT i, (SELECT array_agg(sin((i % 40) * 13.7 + j * 0.9) * 4 + sin(i * 7.31 + j * 3.17) * 0.8
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 32) j)
FROM generate_series(1, 12000) i;
CREATE TABLE queries (qid int, embedding vector(32));
INSERT INTO queries
SELECT q, (SELECT array_agg(sin((q % 40) * 13.7 + j * 0.9) * 4 + cos(q * 5.11 + j * 1.3) * 0.9
                            ORDER BY j)::real[]::vector
           FROM generate_series(1, 32) j)
FROM generate_series(1, 40) q;
ALTER TABLE items SET (parallel_workers = 2);
VACUUM ANALYZE items;
CREATE FUNCTION recall(op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
  EXECUTE format('CREATE TEMP TABLE truth AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items ORDER BY embedding %s q.embedding LIMIT 10) x', op);
  SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
  EXECUTE format('CREATE TEMP TABLE got AS SELECT q.qid, x.id FROM queries q,
     LATERAL (SELECT id FROM items ORDER BY embedding %s q.embedding LIMIT 10) x', op);
  SELECT count(*) / 400.0 INTO r FROM truth JOIN got USING (qid, id);
  DROP TABLE truth; DROP TABLE got;
  RETURN r;
END $$;
});

# Run a build with DEBUG1 messages; returns its stderr (dies on error).
sub build
{
	my ($settings, $sql) = @_;
	my ($out, $err);
	my $rc = $node->psql('postgres',
		"SET client_min_messages = debug1; SET min_parallel_table_scan_size = 0; $settings $sql",
		stdout => \$out, stderr => \$err, on_error_stop => 1);
	die "build failed: $err" if $rc != 0;
	return $err;
}

# Every row is in the index exactly once: an exhaustive index scan (every
# list probed) returns each id once; a sample of rows finds itself first
# (or a row at the same distance: with cosine some vectors share a direction).
sub check_index
{
	my ($idx, $op, $label) = @_;
	is($node->safe_psql('postgres',
		"SELECT lake_vectors = (SELECT count(*) FROM items) FROM vlake.index_info('$idx')"),
		't', "$label: index_info counts every row");
	is($node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET enable_bitmapscan = off; SET vlake.probes = 100000;
SELECT count(*) = (SELECT count(*) FROM items) AND count(DISTINCT id) = count(*)
       AND count(*) FILTER (WHERE id NOT IN (SELECT id FROM items)) = 0
FROM (SELECT id FROM items
      ORDER BY embedding $op (SELECT embedding FROM queries WHERE qid = 1)
      LIMIT 1000000) x}),
		't', "$label: an exhaustive index scan returns every row once");
	is($node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT count(*) FILTER (WHERE nn.id <> i1.id
                         AND nn.d > (i1.embedding $op i1.embedding) + 1e-6)
FROM items i1, LATERAL (SELECT i2.id, i2.embedding $op i1.embedding AS d FROM items i2
                        ORDER BY i2.embedding $op i1.embedding LIMIT 1) nn
WHERE i1.id % 23 = 0}),
		'0', "$label: rows inserted before the build are found by their own vector");
	my $recall = $node->safe_psql('postgres', "SELECT recall('$op')");
	cmp_ok($recall, '>=', 0.95, "$label: recall\@10 against exact search ($recall)");
}

# ---- serial ----
my $log = build('SET max_parallel_maintenance_workers = 0;',
	'CREATE INDEX items_serial ON items USING vlake (embedding vector_l2_ops);');
like($log, qr/vlake index "items_serial": serial build/, 'serial: the serial path ran');
unlike($log, qr/parallel build/, 'serial: no parallel context');
check_index('items_serial', '<->', 'serial');
my $serial_lists = $node->safe_psql('postgres',
	"SELECT lists FROM vlake.index_info('items_serial')");
$node->safe_psql('postgres', 'DROP INDEX items_serial');

# ---- parallel, two workers ----
$log = build('', 'CREATE INDEX items_par ON items USING vlake (embedding vector_l2_ops);');
like($log, qr/vlake index "items_par": parallel build, 2 of 2 workers launched/,
	'parallel: two workers launched');
like($log, qr/12000 rows scanned by 3 participants/, 'parallel: three participants scanned');
like($log, qr/k-means on 3520 points, Lloyd iterations shared by 3 participants/,
	'parallel: k-means iterations shared');
unlike($log, qr/serial build/, 'parallel: no serial fallback');
like($log, qr/vlake index "items_par": vectors\.bin written by 3 participants/,
	'parallel: each participant wrote its vectors into vectors.bin (file://)');
check_index('items_par', '<->', 'parallel');
is($node->safe_psql('postgres', "SELECT lists FROM vlake.index_info('items_par')"),
	$serial_lists, 'parallel: same list count as the serial build');
# the index keeps working after the build: an insert goes to the delta
$node->safe_psql('postgres', q{
INSERT INTO items SELECT 20001, (SELECT array_agg(j * 100.0)::real[]::vector FROM generate_series(1, 32) j)});
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 20001) LIMIT 1}),
	'20001', 'parallel: a row inserted after the build is found');
$node->safe_psql('postgres', 'DELETE FROM items WHERE id = 20001; DROP INDEX items_par');

# ---- parallel, cosine, CONCURRENTLY (MVCC snapshot path) ----
$log = build('', 'CREATE INDEX CONCURRENTLY items_cos ON items USING vlake (embedding vector_cosine_ops);');
like($log, qr/vlake index "items_cos": parallel build, 2 of 2 workers launched/,
	'concurrently: two workers launched');
check_index('items_cos', '<=>', 'parallel concurrently cosine');
$node->safe_psql('postgres', 'DROP INDEX items_cos');

# ---- parallel with a tiny maintenance_work_mem: participants spill ----
# (1 MB over three participants: ~2,000 of each one's ~4,000 vectors fit)
$log = build("SET maintenance_work_mem = '1MB';",
	'CREATE INDEX items_spill ON items USING vlake (embedding vector_l2_ops);');
like($log, qr/vlake index "items_spill": parallel build, 2 of 2 workers launched/,
	'spill: two workers launched');
like($log, qr/12000 rows scanned by 3 participants \(leader: \d+\), [1-3] spilled to disk/,
	'spill: participants spilled to disk');
like($log, qr/vectors\.bin written by 3 participants/,
	'spill: vectors.bin written from the spill files');
check_index('items_spill', '<->', 'parallel spilling');
$node->safe_psql('postgres', 'DROP INDEX items_spill');

# ---- parallel build of an empty table: no lake part, inserts go to the delta ----
$node->safe_psql('postgres', q{
CREATE TABLE empty (id int, embedding vector(4)) WITH (parallel_workers = 2)});
$log = build('', 'CREATE INDEX empty_idx ON empty USING vlake (embedding vector_l2_ops);');
like($log, qr/vlake index "empty_idx": parallel build, 2 of 2 workers launched/,
	'empty: two workers launched');
$node->safe_psql('postgres', q{INSERT INTO empty VALUES (1, '[1,2,3,4]'), (2, '[5,6,7,8]')});
is($node->safe_psql('postgres', q{
SELECT lists, lake_vectors, delta_vectors FROM vlake.index_info('empty_idx')}),
	'0|0|2', 'empty: no lake part, inserts in the delta');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off; SELECT id FROM empty ORDER BY embedding <-> '[5,6,7,9]' LIMIT 1}),
	'2', 'empty: the index answers from the delta');

# ---- table created and filled in the same transaction as the build ----
# (the workers see the leader's uncommitted rows: they share its transaction)
$log = build('', q{BEGIN;
CREATE TABLE fresh (id int, embedding vector(32)) WITH (parallel_workers = 2);
INSERT INTO fresh SELECT id, embedding FROM items;
CREATE INDEX fresh_idx ON fresh USING vlake (embedding vector_l2_ops);
COMMIT;});
like($log, qr/vlake index "fresh_idx": parallel build, 2 of 2 workers launched/,
	'same transaction: two workers launched');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off; SET vlake.probes = 100000;
SELECT (SELECT lake_vectors FROM vlake.index_info('fresh_idx')) || ' ' || count(DISTINCT id)
FROM (SELECT id FROM fresh ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1)
      LIMIT 1000000) x}),
	'12000 12000', 'same transaction: every uncommitted row indexed once');

# ---- as many lists as rows: k-means stays in the leader (nothing to iterate) ----
$node->safe_psql('postgres', q{
CREATE TABLE tiny (id int, embedding vector(4)) WITH (parallel_workers = 2);
INSERT INTO tiny SELECT i, ARRAY[i, i % 7, i % 3, 1]::real[]::vector FROM generate_series(1, 50) i});
$log = build('', 'CREATE INDEX tiny_idx ON tiny USING vlake (embedding vector_l2_ops) WITH (lists = 100);');
like($log, qr/vlake index "tiny_idx": parallel build, 2 of 2 workers launched/,
	'tiny: two workers launched');
like($log, qr/k-means on 50 points in the leader/, 'tiny: k-means in the leader');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT lists || ' ' || lake_vectors || ' ' ||
       (SELECT count(*) FROM tiny t1
        WHERE (SELECT t2.id FROM tiny t2 ORDER BY t2.embedding <-> t1.embedding LIMIT 1) = t1.id)
FROM vlake.index_info('tiny_idx')}),
	'50 50 50', 'tiny: one list per row, every row finds itself');

# ---- planned workers that cannot be launched: serial fallback ----
$log = build('SET max_parallel_workers = 0;',
	'CREATE INDEX items_fb ON items USING vlake (embedding vector_l2_ops);');
like($log, qr/parallel build, 0 of 2 workers launched/, 'fallback: no worker launched');
like($log, qr/vlake index "items_fb": serial build/, 'fallback: built serially');
is($node->safe_psql('postgres',
	"SELECT lake_vectors = (SELECT count(*) FROM items) FROM vlake.index_info('items_fb')"),
	't', 'fallback: every row indexed');
$node->safe_psql('postgres', 'DROP INDEX items_fb');

# ---- an ERROR in any participant fails the build ----
$node->safe_psql('postgres', q{
CREATE TABLE mixed (id int, embedding vector);
INSERT INTO mixed SELECT i, (SELECT array_agg(((i * j) % 17)::real) FROM generate_series(1, CASE WHEN i % 400 = 0 THEN 16 ELSE 32 END) j)::vector
FROM generate_series(1, 12000) i;
ALTER TABLE mixed SET (parallel_workers = 2);
});
my ($out, $err);
$node->psql('postgres', q{SET client_min_messages = debug1; SET min_parallel_table_scan_size = 0;
CREATE INDEX mixed_idx ON mixed USING vlake (embedding vector_l2_ops);},
	stdout => \$out, stderr => \$err);
like($err, qr/parallel build, 2 of 2 workers launched/, 'mixed dimensions: built in parallel');
like($err, qr/ERROR:  vector has (16|32) dimensions, index "mixed_idx" has (16|32)/,
	'mixed dimensions: the build fails with the dimension error');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'mixed_idx'"),
	'0', 'mixed dimensions: no index left');

# the same failure caught in a subtransaction (PL/pgSQL exception block),
# then a parallel build in the same transaction
$log = build('', q{BEGIN;
DO $$ BEGIN
  CREATE INDEX mixed_idx ON mixed USING vlake (embedding vector_l2_ops);
EXCEPTION WHEN data_exception THEN RAISE NOTICE 'caught: %', SQLERRM;
END $$;
CREATE INDEX items_sub ON items USING vlake (embedding vector_l2_ops);
COMMIT;});
like($log, qr/NOTICE:  caught: vector has (16|32) dimensions/,
	'subtransaction: the failed parallel build is caught');
like($log, qr/vlake index "items_sub": parallel build, 2 of 2 workers launched/,
	'subtransaction: the next build in the transaction runs in parallel');
is($node->safe_psql('postgres', q{
SELECT lake_vectors = (SELECT count(*) FROM items) FROM vlake.index_info('items_sub')}),
	't', 'subtransaction: the next build indexes every row');
$node->safe_psql('postgres', 'DROP INDEX items_sub');

# ---- cancel a parallel build (statement_timeout) ----
# An index expression that sleeps makes the scan last long enough
# (12,000 rows x 0.5 ms over three participants, against a 300 ms timeout).
$node->safe_psql('postgres', q{
CREATE FUNCTION slow_vec(v vector) RETURNS vector IMMUTABLE PARALLEL SAFE LANGUAGE plpgsql
AS $$ BEGIN PERFORM pg_sleep(0.0005); RETURN v; END $$;
});
$node->psql('postgres', q{SET client_min_messages = debug1; SET min_parallel_table_scan_size = 0;
SET statement_timeout = '300ms';
CREATE INDEX items_slow ON items USING vlake ((slow_vec(embedding)) vector_l2_ops);},
	stdout => \$out, stderr => \$err);
like($err, qr/parallel build, 2 of 2 workers launched/, 'cancel: the build ran in parallel');
like($err, qr/canceling statement due to statement timeout/, 'cancel: statement_timeout cancelled it');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'items_slow'"),
	'0', 'cancel: no index left');
# private spill files and the shared file set's directory alike
my $tmpdir = $node->data_dir . '/base/pgsql_tmp';
my @left;
for (my $i = 0; $i < 100; $i++)
{
	@left = -d $tmpdir ? glob("$tmpdir/*") : ();
	last if !@left;
	sleep 0.1;
}
is(scalar(@left), 0, 'cancel: no temporary files left');
$log = build('', 'CREATE INDEX items_slow ON items USING vlake ((slow_vec(embedding)) vector_l2_ops);');
like($log, qr/parallel build, 2 of 2 workers launched/, 'cancel: the rerun runs in parallel');
is($node->safe_psql('postgres',
	"SELECT lake_vectors = (SELECT count(*) FROM items) FROM vlake.index_info('items_slow')"),
	't', 'cancel: the rerun indexes every row');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT id FROM items ORDER BY slow_vec(embedding) <-> (SELECT embedding FROM items WHERE id = 4242) LIMIT 1}),
	'4242', 'cancel: the rebuilt index answers');

# ---- parallel build writing to S3 (the leader writes while in parallel mode) ----
SKIP:
{
	skip 'S3 test server not running (see docs/s3.md)', 6 unless s3_available();
	my $base = s3_setup_node($node) . s3_unique_prefix('pbuild');
	$log = build('', "CREATE INDEX items_s3 ON items USING vlake (embedding vector_l2_ops) WITH (location = '$base');");
	like($log, qr/vlake index "items_s3": parallel build, 2 of 2 workers launched/,
		's3: two workers launched');
	unlike($log, qr/vectors\.bin written by/,
		's3: vectors.bin streamed by the leader (no positional writes on S3)');
	check_index('items_s3', '<->', 's3 parallel');
}

# ---- parallel build on a vlake table: no vectors.bin (the re-rank reads the
# table's vector ColumnGroup), so the runs carry no vectors either ----
$node->safe_psql('postgres', q{
CREATE TABLE vitems (id int, embedding vector(32)) USING vlake WITH (parallel_workers = 2);
INSERT INTO vitems SELECT id, embedding FROM items;});
$log = build('', 'CREATE INDEX vitems_idx ON vitems USING vlake (embedding vector_l2_ops);');
like($log, qr/vlake index "vitems_idx": parallel build, 2 of 2 workers launched/,
	'vlake table: two workers launched');
unlike($log, qr/vectors\.bin written by/, 'vlake table: no vectors.bin to write');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off; SET vlake.probes = 100000;
SELECT count(*) = 12000 AND count(DISTINCT id) = 12000
FROM (SELECT id FROM vitems
      ORDER BY embedding <-> (SELECT embedding FROM queries WHERE qid = 1) LIMIT 1000000) x}),
	't', 'vlake table: an exhaustive index scan returns every row once');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE nn.id <> v.id)
FROM vitems v, LATERAL (SELECT w.id FROM vitems w ORDER BY w.embedding <-> v.embedding LIMIT 1) nn
WHERE v.id % 97 = 0}),
	'0', 'vlake table: rows are found by their own vector');

$node->stop;
done_testing();
