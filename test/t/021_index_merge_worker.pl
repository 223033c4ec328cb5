# vlake's database worker (index maintenance task): needs shared_preload_libraries (clear ERROR
# with a hint otherwise); when configured it folds deltas on its own.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $lake = PostgreSQL::Test::Utils::tempdir('vlake_lake');

my $plain = PostgreSQL::Test::Cluster->new('not_preloaded');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION vlake');
my ($ret, $out, $err) = $plain->psql('postgres', 'SELECT vlake.worker_databases()');
isnt($ret, 0, 'worker status fails without preloading');
like($err, qr/shared_preload_libraries/, 'the error hint names shared_preload_libraries');
$plain->stop;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
vlake.default_location = 'file://$lake'
vlake.worker_databases = 'postgres, "Second DB"'
vlake.index_merge_naptime = 1
vlake.index_merge_threshold = 50
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vlake;
CREATE TABLE items (id int, embedding vector(8));
CREATE INDEX items_idx ON items USING vlake (embedding vector_l2_ops);
INSERT INTO items SELECT i, (SELECT array_agg(sin(i * 0.7 + j) ORDER BY j)::real[]::vector FROM generate_series(1, 8) j)
FROM generate_series(1, 300) i;
});
is($node->safe_psql('postgres', 'SELECT vlake.worker_databases()'), 'postgres, "Second DB"',
	'workers configured for the databases');

# a second database (created after server start, quoted name) gets its own worker
$node->safe_psql('postgres', 'CREATE DATABASE "Second DB"');
$node->safe_psql('Second DB', qq{
CREATE EXTENSION vlake;
CREATE TABLE other (id int, embedding vector(8));
CREATE INDEX other_idx ON other USING vlake (embedding vector_l2_ops) WITH (location = 'file://$lake/second/');
INSERT INTO other SELECT i, (SELECT array_agg(cos(i * 0.3 + j) ORDER BY j)::real[]::vector FROM generate_series(1, 8) j)
FROM generate_series(1, 120) i;
});

ok($node->poll_query_until('Second DB',
	q{SELECT delta_vectors = 0 AND lake_vectors = 120 FROM vlake.index_info('other_idx')}),
	'the second database\'s worker merged its index');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'vlake worker'}),
	'2', 'one worker per listed database');
ok($node->poll_query_until('postgres',
	q{SELECT delta_vectors = 0 AND lake_vectors = 300 FROM vlake.index_info('items_idx')}),
	'the worker merged the delta into a lake part');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM items i1 WHERE
  (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
}), '0', 'every row is found after the background merge');
# below the threshold nothing happens
$node->safe_psql('postgres', q{INSERT INTO items SELECT i, (SELECT array_agg(cos(i + j) ORDER BY j)::real[]::vector FROM generate_series(1, 8) j) FROM generate_series(301, 310) i});
sleep(3);
is($node->safe_psql('postgres', q{SELECT delta_vectors FROM vlake.index_info('items_idx')}), '10',
	'a delta below the threshold is left alone');

# ---- garbage collection by the worker: replaced and dropped parts go ----
sub parts_on_disk
{
	my @parts;
	my $root = "$lake/vlake_index";
	return () unless -d $root;
	opendir(my $d, $root) or die "opendir $root: $!";
	for my $p (sort grep { !/^\./ } readdir($d))
	{
		opendir(my $pd, "$root/$p") or next;
		my @files = grep { -f "$root/$p/$_" } readdir($pd);
		closedir($pd);
		push @parts, "vlake_index/$p" if @files;
	}
	closedir($d);
	return @parts;
}

sub current_part
{
	my $f = $node->safe_psql('postgres', q{SELECT files[1] FROM vlake.index_info('items_idx')});
	$f =~ s{/index\.meta$}{};
	return $f;
}

sub poll_disk
{
	my ($want) = @_;
	for (1 .. 1800)
	{
		return 1 if join(' ', parts_on_disk()) eq $want;
		select(undef, undef, undef, 0.1);
	}
	diag('parts on disk: ' . join(' ', parts_on_disk()));
	return 0;
}

my $first = current_part();
$node->safe_psql('postgres', q{INSERT INTO items SELECT i, (SELECT array_agg(cos(i * 0.3 + j) ORDER BY j)::real[]::vector FROM generate_series(1, 8) j) FROM generate_series(311, 400) i});
ok($node->poll_query_until('postgres',
	q{SELECT delta_vectors = 0 AND lake_vectors = 400 FROM vlake.index_info('items_idx')}),
	'the worker merged again');
my $second = current_part();
isnt($second, $first, 'the merge replaced the part');
ok(poll_disk($second), 'the worker removed the replaced part by itself');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM items i1 WHERE
  (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
}), '0', 'every row is found after the worker collected');

# a location GC cannot open is reported as a WARNING; the worker goes on
my $wpid = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'vlake worker' AND datname = 'postgres'});
$node->safe_psql('postgres', q{ALTER SYSTEM SET vlake.default_location = 'file:///vlake_gc_not_allowed/'; SELECT pg_reload_conf()});
my $logstart = -s $node->logfile;
ok($node->wait_for_log(qr/WARNING:  vlake index garbage collection of "file:\/\/\/vlake_gc_not_allowed\/" failed/, $logstart),
	'a GC failure is logged as a WARNING');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET vlake.default_location; SELECT pg_reload_conf()});
ok($node->wait_for_log(qr/stops visiting "file:\/\/\/vlake_gc_not_allowed\/" after 10 failed passes/, $logstart),
	'a location nothing uses any more is given up after repeated failures');
is($node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'vlake worker' AND datname = 'postgres'}),
	$wpid, 'the worker survived it');

$node->safe_psql('postgres', 'DROP INDEX items_idx');
ok(poll_disk(''), 'the worker removed the dropped index\'s part by itself');

$node->stop;
done_testing();
