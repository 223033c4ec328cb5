# A vlake index's lake file truncated by an outside hand while a statement
# reads it.  The file:// backend serves small reads of a known version from a
# read-only mapping (src/objstore/file_backend.c, objstore_map.c); touching a
# page past the new end of the file raises SIGBUS, which must become an
# ERROR naming the object — not a crashed backend and a restarted server.
# Then a new statement sees the changed file and ERRORs too, and REINDEX
# gives answers equal to exact search again (the oracle: a sequential scan).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Find;
use IPC::Run;

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');
my $node = PostgreSQL::Test::Cluster->new('trunc');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
vlake.cache_file_uris = off
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE t (id int PRIMARY KEY, v vector(16));
INSERT INTO t SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.3) + hashint4(i * 31 + j) / 4e9 ORDER BY j)
                         FROM generate_series(1, 16) j)::real[]::vector
  FROM generate_series(1, 20000) i;
CREATE INDEX t_vl ON t USING vlake (v vector_l2_ops) WITH (lists = 8);
});

my @vecs;
find(sub { push @vecs, $File::Find::name if $_ eq 'vectors.bin' }, $lake);
is(scalar @vecs, 1, 'the index has one vectors file in the lake');

my $knn = q{SELECT string_agg(ids, ' ' ORDER BY g) FROM (
  SELECT g, (SELECT string_agg(id::text, ',') FROM (
      SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = g * 97) LIMIT 5) s) AS ids
  FROM generate_series(1, 20) g) z};
my $exact = $node->safe_psql('postgres',
	"SET enable_indexscan = off; SET enable_bitmapscan = off; $knn");
is($node->safe_psql('postgres', "SET enable_seqscan = off; $knn"), $exact,
	'the index answers as exact search');

# One statement: a query through the index every 0.5 s.  The first ones map
# the vectors file; at 2 s it is cut to one byte, and the next read of a
# vector must fail with an ERROR.
my $stmt = q{SET enable_seqscan = off;
SELECT g, pg_sleep(0.5), (SELECT string_agg(id::text, ',') FROM (
    SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = g * 131) LIMIT 5) s)
FROM generate_series(1, 10) g;};
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $stmt ],
	'>', \$out, '2>', \$err);
sleep 2;
truncate($vecs[0], 1) or die "truncate: $!";
$h->finish;
like($err, qr/lake object ".*vectors\.bin" ended early at offset \d+/,
	'a read after the truncation ERRORs naming the object');
like($err, qr/truncated while being read/, 'and says why');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');
unlike(slurp_file($node->logfile), qr/terminated by signal|server process .* was terminated/,
	'no backend died');

my ($ret, $o2, $e2) = $node->psql('postgres', "SET enable_seqscan = off; $knn");
isnt($ret, 0, 'a new statement on the damaged index fails too');
like($e2, qr/vectors\.bin/, 'naming the vectors file');

$node->safe_psql('postgres', 'REINDEX INDEX t_vl');
is($node->safe_psql('postgres', "SET enable_seqscan = off; $knn"), $exact,
	'after REINDEX the index answers as exact search again');

$node->stop;
done_testing();
