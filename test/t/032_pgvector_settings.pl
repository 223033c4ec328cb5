# pgvector's settings in a session that scans a vlake index, with pgvector
# loaded: hnsw.* and ivfflat.* are then pgvector's real settings (not the
# placeholders regress test index_pgvector_settings sees), and vlake's
# WARNING compares their values with pgvector 0.8.6's own defaults
# (src/index/vlindex_pgvector.c, docs/migrate-from-pgvector.md).
# pgvector is the peer built by scripts/peer-pgvector.sh, vlake copied into
# the same private install and preloaded (as TAP 071 does).
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakePeer qw(peer_pgvector peer_add_vlake);

my $tmp = PostgreSQL::Test::Utils::tempdir('pgvsettings');

my $bindir = peer_pgvector("$tmp/inst");
peer_add_vlake($bindir);

my $node = PostgreSQL::Test::Cluster->new('pgvsettings', install_path => dirname($bindir));
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vector;
CREATE EXTENSION vlake;
CREATE TABLE items (id int PRIMARY KEY, v vector(4));
INSERT INTO items SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::vector FROM generate_series(1, 500) i;
CREATE INDEX items_vl ON items USING vlake (v vector_l2_ops);
CREATE TABLE other (id int PRIMARY KEY, v vector(4));
INSERT INTO other SELECT * FROM items;
CREATE INDEX other_hnsw ON other USING hnsw (v vector_l2_ops);
});
is($node->safe_psql('postgres', 'SELECT vlake.type_provider()'), 'pgvector', 'vlake uses pgvector\'s types');

my $vl = q{SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[1,0,0,0]' LIMIT 3) s;};
my $hn = q{SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM other ORDER BY v <-> '[1,0,0,0]' LIMIT 3) s;};

# one session per case: (settings, query, expected warnings)
sub warnings_of
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	die "psql failed: $stderr" if $ret != 0;
	my @w = ($stderr =~ /WARNING:\s+(\S+ = \S+) has no effect on vlake index/g);
	return join(' ', @w);
}

# the settings are real: pgvector's library is loaded by its types' functions
is($node->safe_psql('postgres', q{SELECT '[1]'::vector; SELECT setting FROM pg_settings WHERE name = 'hnsw.ef_search'}),
	"[1]\n40", 'hnsw.ef_search is pgvector\'s real setting (default 40)');

is(warnings_of(q{SELECT '[1]'::vector; } . $vl), '', 'pgvector loaded, nothing set: no WARNING');
is(warnings_of(q{SELECT '[1]'::vector;
  SET hnsw.ef_search = 40; SET hnsw.iterative_scan = off; SET hnsw.max_scan_tuples = 20000;
  SET hnsw.scan_mem_multiplier = 1; SET ivfflat.probes = 1; SET ivfflat.iterative_scan = off;
  SET ivfflat.max_probes = 32768; } . $vl), '', 'every setting at pgvector\'s default: no WARNING');
is(warnings_of(q{SELECT '[1]'::vector; SET hnsw.ef_search = 100; } . $vl . $vl),
	'hnsw.ef_search = 100', 'a real setting off its default: one WARNING for two scans');
is(warnings_of(q{SELECT '[1]'::vector; SET hnsw.ef_search = 100; } . $hn),
	'', 'no vlake scan (pgvector\'s HNSW index answers): no WARNING');
is(warnings_of(q{SELECT '[1]'::vector; SET hnsw.iterative_scan = strict_order; SET hnsw.scan_mem_multiplier = 2.5;
  SET ivfflat.probes = 7; SET ivfflat.iterative_scan = relaxed_order; SET ivfflat.max_probes = 9;
  SET hnsw.max_scan_tuples = 500; } . $vl . $vl),
	'hnsw.iterative_scan = strict_order hnsw.max_scan_tuples = 500 hnsw.scan_mem_multiplier = 2.5 ivfflat.probes = 7 ivfflat.iterative_scan = relaxed_order ivfflat.max_probes = 9',
	'every other setting of pgvector, once each');
# set before pgvector's library is loaded in the session: a placeholder that
# becomes the real setting when the library loads, and warns all the same
is(warnings_of(q{SET hnsw.ef_search = 64; } . $vl), 'hnsw.ef_search = 64',
	'set before pgvector is loaded: WARNING');

$node->stop;
done_testing();
