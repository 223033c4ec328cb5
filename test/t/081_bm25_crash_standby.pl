# vlake_bm25 index (docs/bm25-index.md): kill -9 during inserts loses no
# committed row and keeps the delta log readable; a crash at each fault
# point of a merge (before the new part is written, before the metapage
# switches) leaves the index answering as before and a later merge
# completes; inserts concurrent with a merge stay in the delta; a physical
# standby answers as the primary does (the metapage and the logs are
# WAL-logged, the lake part is shared).  The oracle of every check is the
# operators evaluated row by row with the index disabled.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
vlake.index_merge_naptime = 3600
restart_after_crash = on
});
$primary->start;

# deterministic documents over a 40-word vocabulary
my $setup = q{
CREATE EXTENSION vlake;
CREATE FUNCTION doc(i int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg((string_to_array('ant bee cat dog eel fox gnu hen ibis jay kiwi lark mole newt owl
    pig quail rat seal toad urchin vole wolf yak zebu asp boa cod dace elk fly gar hog imp koi lynx mink
    orca puma', ' '))[1 + (abs(hashint8(i::bigint * 100 + j)) % 40)], ' ')
  FROM generate_series(1, 4 + abs(hashint4(i)) % 30) j $$;
CREATE TABLE docs (id int PRIMARY KEY, body text);
INSERT INTO docs SELECT i, doc(i) FROM generate_series(1, 20000) i;
CREATE INDEX docs_bm25 ON docs USING vlake_bm25 (body) WITH (config = 'simple');
};
$primary->safe_psql('postgres', $setup);

# index answers (top 20 ids with scores, and match counts) for a few queries
my @queries = ('ant', 'cat dog', 'owl OR puma', '"fox gnu"', 'zebu NOT yak');
sub probe
{
	my ($node, $index) = @_;
	my $set = $index ? 'SET enable_seqscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
	my @out;
	for my $q (@queries)
	{
		push @out, $node->safe_psql('postgres', qq{$set
SELECT count(*) FROM docs WHERE body @@@ to_bm25query('$q', 'docs_bm25');
SELECT string_agg(round((-s)::numeric, 9)::text, ',' ORDER BY s) FROM (
  SELECT body <@> to_bm25query('$q', 'docs_bm25') s FROM docs WHERE body \@\@\@ to_bm25query('$q', 'docs_bm25')
  ORDER BY body <@> to_bm25query('$q', 'docs_bm25') LIMIT 20) x;});
	}
	return join("\n", @out);
}
my $oracle = probe($primary, 0);
is(probe($primary, 1), $oracle, 'index answers equal the operators row by row after the build');

# ---- kill -9 during inserts ----
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\n"
	  . "DO \$\$ BEGIN FOR i IN 20001..40000 LOOP INSERT INTO docs VALUES (i, doc(i)); COMMIT; END LOOP; END \$\$;\n");
usleep(700_000);
kill 'KILL', $pid;
eval { $bg->quit; };
$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';
my $n = $primary->safe_psql('postgres', 'SELECT count(*) FROM docs');
ok($n > 20000, "rows committed before the kill survive ($n)");
is(probe($primary, 1), probe($primary, 0), 'after kill -9 during inserts the index equals the operators');
$primary->safe_psql('postgres', q{INSERT INTO docs SELECT i, doc(i) FROM generate_series(50001, 50100) i});
is(probe($primary, 1), probe($primary, 0), 'and takes new inserts after the torn tail');

# ---- a crash at each fault point of a merge ----
$primary->safe_psql('postgres', 'DELETE FROM docs WHERE id % 7 = 0; VACUUM docs;');
for my $point ('bm25_merge_write', 'bm25_merge_switch')
{
	my $before = probe($primary, 1);
	my $info = $primary->safe_psql('postgres', 'SELECT part, generation FROM vlake.bm25_index_info(\'docs_bm25\')');
	my ($stdout, $stderr);
	$primary->psql('postgres', "SET vlake.fault_points = '$point:crash'; SELECT vlake.bm25_merge('docs_bm25');",
		stdout => \$stdout, stderr => \$stderr);
	$primary->poll_query_until('postgres', 'SELECT true') or die 'server did not restart';
	is($primary->safe_psql('postgres', 'SELECT part, generation FROM vlake.bm25_index_info(\'docs_bm25\')'),
		$info, "crash at $point: the metapage still names the previous part");
	is(probe($primary, 1), $before, "crash at $point: the index answers as before");
}
is($primary->safe_psql('postgres', q{SELECT vlake.bm25_merge('docs_bm25')}), 't', 'a later merge completes');
is($primary->safe_psql('postgres', q{SELECT delta_docs, tombstones FROM vlake.bm25_index_info('docs_bm25')}),
	'0|0', 'the merge folded the delta and the tombstones');
$oracle = probe($primary, 0);
is(probe($primary, 1), $oracle, 'after the merge the index equals the operators');

# the parts of the crashed merges are unnamed: GC retires them
my $parts = () = glob("$lake/vlake_bm25/*");
ok($parts >= 3, "crashed merges left unnamed parts ($parts)");

# ---- inserts concurrent with a merge stay in the delta ----
$primary->safe_psql('postgres', q{INSERT INTO docs SELECT i, doc(i) FROM generate_series(60001, 61000) i});
$bg = $primary->background_psql('postgres', on_error_stop => 1);
$bg->query_safe(q{SET vlake.fault_points = 'bm25_merge_switch:wait'});
my $log_offset = -s $primary->logfile;
$bg->query_until(qr/started/, "\\echo started\nSELECT vlake.bm25_merge('docs_bm25');\n");
$primary->wait_for_log(qr/vlake fault point bm25_merge_switch reached/, $log_offset);
# the merge has written its part from the delta it read; these come after
$primary->safe_psql('postgres', q{INSERT INTO docs SELECT i, doc(i) FROM generate_series(70001, 70300) i});
my $datadir = $primary->data_dir;
open(my $go, '>', "$datadir/bm25_merge_switch.go") or die "go file: $!";
close $go;
like($bg->query_safe(q{SELECT 'merge done'}), qr/merge done/, 'the merge went on and completed');
eval { $bg->quit; };
is($primary->safe_psql('postgres', q{SELECT delta_docs FROM vlake.bm25_index_info('docs_bm25')}), '300',
	'the rows inserted during the merge stay in the delta');
$primary->safe_psql('postgres', q{INSERT INTO docs SELECT i, doc(i) FROM generate_series(80001, 80200) i});
is(probe($primary, 1), probe($primary, 0), 'inserts around merges are all found');

# ---- the pages of emptied logs are reused ----
my @sizes;
for my $round (1 .. 6)
{
	my $lo = 100000 + $round * 3000;
	$primary->safe_psql('postgres', qq{
INSERT INTO docs SELECT i, doc(i) || ' ' || doc(i + 1) FROM generate_series($lo, $lo + 2999) i;
DELETE FROM docs WHERE id BETWEEN $lo AND $lo + 999;
VACUUM docs;
SELECT vlake.bm25_merge('docs_bm25');});
	push @sizes, $primary->safe_psql('postgres', q{SELECT pg_relation_size('docs_bm25')});
}
ok($sizes[5] <= $sizes[2], "the index stops growing once emptied logs are recycled (@sizes)");
is(probe($primary, 1), probe($primary, 0), 'after recycling the index equals the operators');

# ---- physical standby ----
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{
INSERT INTO docs SELECT i, doc(i) FROM generate_series(90001, 91000) i;
DELETE FROM docs WHERE id % 11 = 0;
VACUUM docs;
});
$primary->wait_for_catchup($standby);
is(probe($standby, 1), probe($primary, 1), 'standby answers as the primary (delta, tombstones)');
$primary->safe_psql('postgres', q{SELECT vlake.bm25_merge('docs_bm25')});
$primary->wait_for_catchup($standby);
is(probe($standby, 1), probe($primary, 0), 'standby answers as the operators after a merge');
is($standby->safe_psql('postgres', q{SELECT part, delta_docs FROM vlake.bm25_index_info('docs_bm25')}),
	$primary->safe_psql('postgres', q{SELECT part, delta_docs FROM vlake.bm25_index_info('docs_bm25')}),
	'standby metapage names the same part');
$standby->stop;
$primary->stop;
done_testing();
