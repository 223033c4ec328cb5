# vlake and pgvector in ONE cluster, in one database and side by side
# (docs/pgvector.md).  pgvector 0.8.6 is the peer: built from its release
# tarball by scripts/peer-pgvector.sh (never part of vlake), with vlake
# copied into the same private install, and vlake preloaded.  This works
# because vlake.so exports nothing pgvector's vector.so also defines
# (src/vlake.exports); checked first, with nm -D.
#
#  - pgvector first, then vlake: vlake uses pgvector's types; a table with
#    HNSW and IVFFlat indexes gets vlake indexes in place; each of the three
#    answers <->, <=>, <#> (each plan checked to use the intended index, the
#    others dropped in a rolled-back transaction); vlake's answers equal
#    exact search (index scans off); HNSW keeps working with vlake added and
#    after vlake is dropped; DROP EXTENSION vector fails while vlake uses its
#    types, and works once vlake is gone.
#  - vlake first, then pgvector: same schema fails (type "vector" already
#    exists); another schema works, each extension with its own types.
#  - pg_dump / pg_restore of both kinds of database into fresh databases:
#    same data, same indexes, same answers.
#  - the same distances from both extensions' operators: vlake in its own
#    mode in one database, pgvector in another, the same values (edge cases
#    and 500 seeded random vectors per type), bit-identical for vector and
#    halfvec <->, <#>, <+>, l2_norm and for sparsevec as TAP 070 shows;
#    cosine within 1e-6 relative (pgvector built with PGVECTOR_CFLAGS="").
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakePeer qw(peer_pgvector peer_add_vlake);

my $tmp = PostgreSQL::Test::Utils::tempdir('coexist');

# pgvector into a private install, then vlake beside it
my $bindir = peer_pgvector("$tmp/inst", cflags => '');
peer_add_vlake($bindir);
chomp(my $lib = `$bindir/pg_config --pkglibdir`);

# ------------------------------------------------------ symbol isolation --
sub dynsyms
{
	my %s = map { (split ' ')[2] => 1 } grep { /^\S+ [A-Za-z] \S+$/ } split /\n/, `nm -D --defined-only $_[0]`;
	return \%s;
}
my $sv = dynsyms("$lib/vlake.so");
my $sp = dynsyms("$lib/vector.so");
my @both = sort grep { $sp->{$_} } keys %$sv;
is(join(' ', @both), 'Pg_magic_func _PG_init',
	'vlake.so and vector.so share no dynamic symbol but the module entry points');
ok(scalar(keys %$sp) > 100, 'pgvector exports its functions (' . scalar(keys %$sp) . ' symbols)');

my $node = PostgreSQL::Test::Cluster->new('coexist', install_path => dirname($bindir));
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$tmp'\n");
$node->start;

sub sq { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }
sub fails
{
	my ($db, $sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql($db, $sql);
	return $ret == 0 ? '' : $stderr;
}

# ------------------------------------------ pgvector first, then vlake ----
sq('postgres', 'CREATE DATABASE pv');
sq('pv', q{
CREATE EXTENSION vector;
SELECT setseed(0.71);
CREATE TABLE items (id int PRIMARY KEY, v vector(8), h halfvec(8), s sparsevec(8));
INSERT INTO items SELECT i, a::vector, a::halfvec, (SELECT array_agg(abs(e)) FROM unnest(a) e)::vector::sparsevec
  FROM generate_series(1, 1500) i,
       LATERAL (SELECT array_agg(round((random() * 2 - 1)::numeric, 4)::real) a
                FROM generate_series(1, 8) WHERE i > 0) x;
CREATE TABLE queries (qid int PRIMARY KEY, q vector(8));
INSERT INTO queries SELECT i, a::vector
  FROM generate_series(1, 20) i,
       LATERAL (SELECT array_agg(round((random() * 2 - 1)::numeric, 4)::real) a
                FROM generate_series(1, 8) WHERE i > 0) x;
CREATE INDEX items_hnsw_l2  ON items USING hnsw (v vector_l2_ops);
CREATE INDEX items_hnsw_cos ON items USING hnsw (v vector_cosine_ops);
CREATE INDEX items_hnsw_ip  ON items USING hnsw (v vector_ip_ops);
CREATE INDEX items_ivf_l2   ON items USING ivfflat (v vector_l2_ops) WITH (lists = 10);
CREATE INDEX items_ivf_cos  ON items USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
CREATE INDEX items_ivf_ip   ON items USING ivfflat (v vector_ip_ops) WITH (lists = 10);
});
my $hnsw_before = sq('pv', q{SET enable_seqscan = off; SET enable_indexscan = on;
  SELECT string_agg(id::text, ',' ORDER BY v <-> '[0,0,0,0,0,0,0,0]') FROM
  (SELECT id, v FROM items ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s});

sq('pv', 'CREATE EXTENSION vlake');
is(sq('pv', 'SELECT vlake.type_provider()'), 'pgvector', 'pgvector first: vlake uses pgvector\'s types');
is(sq('pv', q{SELECT count(*) FROM pg_type t JOIN pg_depend d ON d.objid = t.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid WHERE t.typname IN ('vector', 'halfvec', 'sparsevec')
  GROUP BY e.extname}), '3', 'one set of vector types, pgvector\'s');
is(sq('pv', q{SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vlake'
  WHERE p.proname IN ('l2_distance', 'vector_in', 'cosine_distance', 'avg')}), '0',
	'vlake defines none of pgvector\'s functions');
sq('pv', q{
CREATE INDEX items_vlake_l2  ON items USING vlake (v vector_l2_ops);
CREATE INDEX items_vlake_cos ON items USING vlake (v vector_cosine_ops);
CREATE INDEX items_vlake_ip  ON items USING vlake (v vector_ip_ops);
CREATE INDEX items_vlake_h   ON items USING vlake (h halfvec_l2_ops);
CREATE INDEX items_vlake_s   ON items USING vlake_sparse (s);
});

my %metric = (l2 => '<->', cos => '<=>', ip => '<#>');
my @all = map { my $am = $_; map { "items_${am}_$_" } sort keys %metric } qw(hnsw ivf vlake);

# the ids of the 10 nearest rows to query $qid with only index $idx present
# (the others dropped in a rolled-back transaction) and the plan; $idx ''
# = exact search (index scans off)
my %qvec;
sub topk
{
	my ($db, $idx, $op, $qid) = @_;
	$qvec{$db} //= [ '', split /\n/, sq($db, 'SELECT q FROM queries ORDER BY qid') ];
	my $q    = "'$qvec{$db}[$qid]'";
	my $drop = join('', map { "DROP INDEX IF EXISTS $_;" } grep { !$idx || $_ ne $idx } @all);
	# each index's own search setting only (vlake warns about hnsw.* and
	# ivfflat.* in sessions that use its indexes)
	my $set  = !$idx ? 'SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;'
	  : 'SET LOCAL enable_seqscan = off; '
	  . ($idx =~ /_vlake_/ ? 'SET LOCAL vlake.probes = 100000;'
		: $idx =~ /_ivf_/ ? 'SET LOCAL ivfflat.probes = 10;' : 'SET LOCAL hnsw.ef_search = 100;');
	my @out = split /\n/, sq($db, "BEGIN; $drop $set EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v $op $q LIMIT 10; "
		  . "SELECT string_agg(id::text, ',' ORDER BY d, id) FROM "
		  . "(SELECT id, v $op $q AS d FROM items ORDER BY v $op $q LIMIT 10) s; ROLLBACK");
	my $res  = pop @out;
	my $plan = join("\n", @out);
	return ($plan, $res);
}

sub check_all
{
	my ($db, $label) = @_;
	for my $m (sort keys %metric)
	{
		my $op = $metric{$m};
		my ($bad_plan, $vl_diff, $recall_ok) = ('', 0, 1);
		for my $qid (1 .. 10)
		{
			my (undef, $exact) = topk($db, '', $op, $qid);
			for my $am (qw(hnsw ivf vlake))
			{
				my $idx = "items_${am}_$m";
				next unless sq($db, "SELECT to_regclass('$idx') IS NOT NULL") eq 't';
				my ($plan, $res) = topk($db, $idx, $op, $qid);
				$bad_plan .= "$idx: $plan\n" unless $plan =~ /Index Scan using $idx on items/;
				if ($am eq 'vlake') { $vl_diff++ if $res ne $exact; }
				else
				{
					my %e = map { $_ => 1 } split /,/, $exact;
					my $hit = grep { $e{$_} } split /,/, $res;
					$recall_ok = 0 if $hit < 8;
				}
			}
		}
		is($bad_plan, '', "$label: $op plans use the intended index (hnsw, ivfflat, vlake)");
		is($vl_diff, 0, "$label: vlake's 10 nearest by $op equal exact search for 10 queries");
		ok($recall_ok, "$label: pgvector's indexes answer $op (recall\@10 >= 0.8)");
	}
}
check_all('pv', 'pgvector + vlake');

# halfvec (pgvector's) under a vlake index, against exact search
my $hq = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, h <-> '[0.1,0.2,0.3,0.4,-0.1,-0.2,-0.3,-0.4]' AS d
  FROM items ORDER BY h <-> '[0.1,0.2,0.3,0.4,-0.1,-0.2,-0.3,-0.4]' LIMIT 10) s};
is(sq('pv', "SET enable_seqscan = off; SET vlake.probes = 100000; $hq"),
	sq('pv', "SET enable_indexscan = off; SET enable_bitmapscan = off; $hq"),
	'vlake index on pgvector\'s halfvec equals exact search');
like(sq('pv', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $hq"), qr/items_vlake_h/, '... and is used');

# pgvector's stored values read by vlake's C code (the layouts are the same:
# int32 varlena header, int16 dim, int16 unused, float or binary16 elements;
# sparsevec int32 dim, nnz, unused, indices, float values)
my $sq_ = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, s <#> '{1:0.5,4:1,8:0.25}/8' AS d
  FROM items ORDER BY s <#> '{1:0.5,4:1,8:0.25}/8' LIMIT 10) s};
is(sq('pv', "SET enable_seqscan = off; $sq_"),
	sq('pv', "SET enable_indexscan = off; SET enable_bitmapscan = off; $sq_"),
	'vlake_sparse index on pgvector\'s sparsevec equals exact search');
like(sq('pv', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sq_"), qr/items_vlake_s/, '... and is used');
is(sq('pv', q{SELECT count(*) FROM items WHERE abs(vector_norm(h) - l2_norm(h)) > 1e-6 * l2_norm(h)
  OR vector_dims(s) <> 8 OR abs(l2_norm(s) - vector_norm(v)) > 1e-6 * vector_norm(v)}), '0',
	'vlake\'s vector_norm(halfvec), vector_dims(sparsevec) on pgvector\'s values agree with pgvector\'s functions');

# vlake's additions over pgvector's types: hash opclasses, overloads
is(sq('pv', q{SET enable_sort = off; SELECT count(*) FROM (SELECT DISTINCT v FROM items UNION SELECT v FROM items) x}),
	'1500', 'hash aggregation over pgvector\'s vector with vlake\'s hash opclass');
is(sq('pv', q{SET enable_sort = off; SELECT (SELECT count(*) FROM (SELECT DISTINCT h FROM items) a) = count(DISTINCT h::text)
  AND (SELECT count(*) FROM (SELECT DISTINCT s FROM items) b) = count(DISTINCT s::text) FROM items}), 't', '... and over halfvec and sparsevec');
like(sq('pv', q{SET enable_sort = off; EXPLAIN (COSTS OFF) SELECT DISTINCT v FROM items}), qr/HashAggregate/,
	'... planned as a HashAggregate');
is(sq('pv', q{SELECT vector_dims('{1:2}/7'::sparsevec), vector_norm('[3,4]'::halfvec)}), '7|5',
	'vlake\'s overloads over pgvector\'s types');

# DROP EXTENSION vector while vlake uses its types
my $err = fails('pv', 'DROP EXTENSION vector');
like($err, qr/cannot drop extension vector because other objects depend on it/,
	'DROP EXTENSION vector fails while vlake uses its types');
like($err, qr/extension vlake depends on/, '... naming vlake');
is(sq('pv', q{SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'items_vlake%'}), '5', '... and drops nothing');

# ------------------------------------------------------- dump / restore --
my $answers = sub {
	my ($db) = @_;
	my $r = sq($db, q{SELECT md5(string_agg(id || ':' || v::text || ':' || h::text || ':' || s::text, ';' ORDER BY id)) FROM items});
	$r .= "\n" . sq($db, "SET enable_seqscan = off; $sq_");
	$r .= "\n" . sq($db, q{SELECT string_agg(indexname || '=' || regexp_replace(indexdef, ' ON \S+', ''), E'\n' ORDER BY indexname)
	  FROM pg_indexes WHERE tablename = 'items'});
	for my $m (sort keys %metric)
	{
		for my $qid (1, 7, 13)
		{
			$r .= "\n$m/$qid exact " . (topk($db, '', $metric{$m}, $qid))[1];
			$r .= "\n$m/$qid vlake " . (topk($db, "items_vlake_$m", $metric{$m}, $qid))[1];
		}
	}
	$r .= "\n" . sq($db, 'SELECT vlake.type_provider()');
	return $r;
};
my $before = $answers->('pv');
my $dump = "$tmp/pv.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('pv'), '-f', $dump ], 'pg_dump of pgvector + vlake');
sq('postgres', 'CREATE DATABASE pv2');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('pv2'), $dump ], 'pg_restore into a fresh database');
is($answers->('pv2'), $before, 'restored: same data, indexes, exact and vlake answers, type provider');
check_all('pv2', 'restored');

# ------------------------------------------------------------ drop vlake --
sq('pv', 'DROP EXTENSION vlake CASCADE');
is(sq('pv', q{SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'items'}),
	'items_hnsw_cos,items_hnsw_ip,items_hnsw_l2,items_ivf_cos,items_ivf_ip,items_ivf_l2,items_pkey',
	'DROP EXTENSION vlake CASCADE: the vlake indexes go, pgvector\'s stay');
is(sq('pv', 'SELECT count(*) FROM items'), '1500', '... the table and its data stay');
my $hnsw_after = sq('pv', q{SET enable_seqscan = off; SET enable_indexscan = on;
  SELECT string_agg(id::text, ',' ORDER BY v <-> '[0,0,0,0,0,0,0,0]') FROM
  (SELECT id, v FROM items ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10) s});
is($hnsw_after, $hnsw_before, 'HNSW answers as before vlake came and went');
check_all('pv', 'pgvector after DROP EXTENSION vlake');

# DROP EXTENSION vector works once vlake is gone (a database without tables)
sq('postgres', 'CREATE DATABASE dropper');
sq('dropper', 'CREATE EXTENSION vector; CREATE EXTENSION vlake');
like(fails('dropper', 'DROP EXTENSION vector'), qr/extension vlake depends on/, 'DROP EXTENSION vector refused beside vlake');
sq('dropper', 'DROP EXTENSION vlake');
sq('dropper', 'DROP EXTENSION vector');
is(sq('dropper', q{SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'vlake')}), '0',
	'... and done after DROP EXTENSION vlake');

# vlake's lake layers over pgvector's types (the type OIDs they look up by
# name in vlake's schema are pgvector's): Parquet write and read, a vlake
# table flushed to the lake, a vlake index on it
q_lake: {
	sq('postgres', 'CREATE DATABASE pvlake');
	sq('pvlake', q{CREATE EXTENSION vector; CREATE EXTENSION vlake;
	  CREATE TABLE src (id int, v vector(3), h halfvec(3));
	  INSERT INTO src SELECT i, ARRAY[i % 13, i % 7, i * 0.01]::real[]::vector, ARRAY[i % 5, 1, -i * 0.5]::real[]::halfvec
	    FROM generate_series(1, 400) i;});
	my $md5 = q{SELECT md5(string_agg(id || v::text || h::text, ';' ORDER BY id)) FROM };
	my $want = sq('pvlake', "$md5 src");
	sq('pvlake', "SELECT vlake.parquet_write('file://$tmp/src.parquet', 'SELECT id, v, h FROM src')");
	is(sq('pvlake', "$md5 vlake.parquet_read('file://$tmp/src.parquet') AS t(id int, v vector, h halfvec)"), $want,
		'Parquet written and read back as pgvector\'s vector and halfvec');
	sq('pvlake', q{CREATE TABLE lk (id int, v vector(3), h halfvec(3)) USING vlake;
	  INSERT INTO lk SELECT * FROM src; SELECT vlake.flush('lk');
	  CREATE INDEX lk_v ON lk USING vlake (v vector_l2_ops);});
	is(sq('pvlake', "$md5 lk"), $want, 'a vlake table of pgvector\'s types, flushed to the lake, reads back');
	my $lq = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, v <-> '[3,2,1]' AS d FROM lk ORDER BY v <-> '[3,2,1]' LIMIT 5) s};
	is(sq('pvlake', "SET enable_seqscan = off; SET vlake.probes = 100000; $lq"),
		sq('pvlake', "SET enable_indexscan = off; SET enable_bitmapscan = off; $lq"), '... and its vlake index equals exact search');
}

# ------------------------------------------ vlake first, then pgvector ----
sq('postgres', 'CREATE DATABASE vp');
sq('vp', 'CREATE EXTENSION vlake');
like(fails('vp', 'CREATE EXTENSION vector'), qr/type "vector" already exists/,
	'vlake first: pgvector in the same schema collides');
sq('vp', q{
CREATE SCHEMA pgv;
CREATE EXTENSION vector SCHEMA pgv;
CREATE TABLE mine (id int, v public.vector(3));
CREATE TABLE theirs (id int, v pgv.vector(3));
INSERT INTO mine SELECT i, ARRAY[(i * 0.37) % 11, sqrt(i), 1]::real[]::public.vector FROM generate_series(1, 300) i;
INSERT INTO theirs SELECT id, v::text::pgv.vector FROM mine;
CREATE INDEX ON mine USING vlake (v vector_l2_ops);
CREATE INDEX ON theirs USING hnsw (v pgv.vector_l2_ops);
});
is(sq('vp', 'SELECT vlake.type_provider()'), 'vlake', '... in another schema: vlake keeps its own types');
my $mq = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, v OPERATOR(public.<->) '[5,3,1]' AS d FROM mine
  ORDER BY v OPERATOR(public.<->) '[5,3,1]' LIMIT 5) s};
my $tq = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (SELECT id, v OPERATOR(pgv.<->) '[5,3,1]' AS d FROM theirs
  ORDER BY v OPERATOR(pgv.<->) '[5,3,1]' LIMIT 5) s};
my $vq_exact = sq('vp', "SET enable_indexscan = off; SET enable_bitmapscan = off; $mq");
is(sq('vp', "SET enable_seqscan = off; SET vlake.probes = 100000; $mq"), $vq_exact, '... vlake index on vlake\'s vector');
like(sq('vp', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $tq"), qr/Index Scan using theirs_v_idx/, '... pgvector\'s HNSW on pgv.vector is used');
is(sq('vp', "SET enable_seqscan = off; $tq"), $vq_exact, '... and answers like vlake');

# pgvector first in another schema, then vlake in public: vlake's own types, a warning says why
# (an extension script's notices are not shown)
sq('postgres', 'CREATE DATABASE pv_other');
sq('pv_other', 'CREATE SCHEMA ext; CREATE EXTENSION vector SCHEMA ext');
my ($ret, $o, $notice) = $node->psql('pv_other', 'CREATE EXTENSION vlake');
is($ret, 0, 'pgvector in another schema, then vlake: installs');
like($notice, qr/WARNING:  pgvector is installed in schema ext: vlake creates its own vector types in schema public/,
	'... with a warning');
like($notice, qr/CREATE EXTENSION vlake SCHEMA ext/, '... whose hint names the way to share the types');
is(sq('pv_other', 'SELECT vlake.type_provider()'), 'vlake', '... and uses its own types');
sq('postgres', 'CREATE DATABASE pv_same');
sq('pv_same', 'CREATE SCHEMA ext; CREATE EXTENSION vector SCHEMA ext; CREATE EXTENSION vlake SCHEMA ext');
is(sq('pv_same', 'SELECT vlake.type_provider()'), 'pgvector', 'vlake installed in pgvector\'s schema uses its types');
sq('pv_same', q{SET search_path = ext; CREATE TABLE t (v vector(2)); INSERT INTO t VALUES ('[1,2]'), ('[3,4]');
  CREATE INDEX ON t USING vlake (v vector_l2_ops)});
is(sq('pv_same', q{SET search_path = ext; SET enable_seqscan = off; SELECT v FROM t ORDER BY v <-> '[3,3]' LIMIT 1}),
	'[3,4]', '... and indexes its columns');

# dump / restore of vlake-first + pgvector-in-another-schema keeps both sets of types
my $vp_before = sq('vp', "SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM mine") . '|'
  . sq('vp', "SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM theirs") . '|' . $vq_exact;
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('vp'), '-f', "$tmp/vp.dump" ], 'pg_dump of vlake + pgvector in another schema');
sq('postgres', 'CREATE DATABASE vp2');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('vp2'), "$tmp/vp.dump" ], 'pg_restore');
is(sq('vp2', "SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM mine") . '|'
	  . sq('vp2', "SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM theirs") . '|'
	  . sq('vp2', "SET enable_seqscan = off; SET vlake.probes = 100000; $mq"),
	$vp_before, 'restored: both tables and vlake\'s index answers');
is(sq('vp2', 'SELECT vlake.type_provider()'), 'vlake', '... vlake keeps its own types');

# -------------------------------------- the same distances from both ----
sq('postgres', 'CREATE DATABASE dist_vlake');
sq('postgres', 'CREATE DATABASE dist_pgv');
sq('dist_vlake', 'CREATE EXTENSION vlake');
sq('dist_pgv', 'CREATE EXTENSION vector');
is(sq('dist_vlake', 'SELECT vlake.type_provider()'), 'vlake', 'distance check: vlake\'s own types in one database');

srand(20261205);
sub rnd_float
{
	my $k = int(rand(10));
	return int(rand(17)) - 8 if $k < 3;
	return sprintf('%.9g', (rand(2) - 1) * 10**(int(rand(8)) - 4)) if $k < 9;
	return sprintf('%.3e', (rand(2) - 1) * 10**(int(rand(20)) - 10));
}
my @pairs = (
	[ '[0]', '[0]' ], [ '[0,0,0]', '[1,2,3]' ], [ '[1,2,3]', '[1,2,3]' ], [ '[-0,0]', '[0,-0]' ],
	[ '[1e-20,1e-20]', '[1e-20,-1e-20]' ], [ '[1e19,1e19]', '[-1e19,-1e19]' ], [ '[1,1]', '[-1,-1]' ],
	[ '[3.4e38]', '[-3.4e38]' ], [ '[1.17549435e-38,2]', '[3,1.4e-45]' ],
	[ '[' . join(',', (1) x 2000) . ']', '[' . join(',', map { $_ % 3 } 1 .. 2000) . ']' ]);
for my $i (1 .. 500)
{
	my $dim = (1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 100, 257, 1536)[ int(rand(13)) ];
	push @pairs, [ map { '[' . join(',', map { rnd_float() } 1 .. $dim) . ']' } 1 .. 2 ];
}
open my $fh, '>', "$tmp/pairs.txt" or die $!;
print $fh join("\t", $_ + 1, @{ $pairs[$_] }) . "\n" for 0 .. $#pairs;
close $fh;
my $load = "CREATE TABLE p (id int, a text, b text); COPY p FROM '$tmp/pairs.txt';";
sq('dist_vlake', $load);
sq('dist_pgv', $load);

# A helper that says whether a literal is a value of a type (both must agree).
my $okfn = q{CREATE FUNCTION ok_as(l text, t text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('SELECT %L::%s', l, t); RETURN true; EXCEPTION WHEN OTHERS THEN RETURN false; END $$;};
sq('dist_vlake', $okfn);
sq('dist_pgv', $okfn);

# float8 results as their exact bits (float8send), one line per pair
my @fns = ('x <-> y', 'l2_distance(x, y)', 'x <+> y', 'l1_distance(x, y)', 'l2_norm(x)',
	'x <#> y', 'inner_product(x, y)', 'x <=> y', 'cosine_distance(x, y)');
sub dists
{
	my ($db, $type) = @_;
	my $bits = join(" || ' ' || ", map { "coalesce(encode(float8send($_), 'hex'), 'null')" } @fns);
	$bits =~ s/l2_norm\(x\)/vector_norm(x)/ if $type eq 'vector';
	# sparsevec: the dense literal through each extension's own cast
	my $t = $type eq 'sparsevec' ? 'vector' : $type;
	my $c = $type eq 'sparsevec' ? '::vector::sparsevec' : "::$type";
	return sq($db, "SELECT string_agg(id || ' ' || $bits, E'\\n' ORDER BY id) FROM "
		  . "(SELECT id, a$c AS x, b$c AS y FROM p WHERE ok_as(a, '$t') AND ok_as(b, '$t')) s");
}

# the error bound of docs/vector.md ("Error bounds"): each side's float sum
# is within gamma(m) * sum|t_i| of the exact one, m <= n + 24 (pgvector
# sums in one accumulator, m = n), so the two differ by at most twice that
sub gamma { my $m = shift; my $u = 2**-24; return $m * $u / (1 - $m * $u); }
sub vals { my $l = shift; $l =~ s/^\[|\]$//g; return map { $_ + 0 } split /,/, $l; }
sub f8 { my $h = shift; return $h eq 'null' ? undef : unpack('d>', pack('H*', $h)); }

for my $type (qw(vector halfvec))
{
	my %va = map { my @f = split / /; (shift(@f) => \@f) } split /\n/, dists('dist_vlake', $type);
	my %vb = map { my @f = split / /; (shift(@f) => \@f) } split /\n/, dists('dist_pgv', $type);
	is(join(',', sort { $a <=> $b } keys %va), join(',', sort { $a <=> $b } keys %vb), "$type: both accept the same pairs");
	ok(keys(%va) > ($type eq 'vector' ? 500 : 200), "$type: " . scalar(keys %va) . ' pairs compared');
	my ($same, $total, @bad) = (0, 0);
	for my $id (sort { $a <=> $b } keys %va)
	{
		next unless $vb{$id};
		my @x = vals($pairs[ $id - 1 ][0]);
		my @y = vals($pairs[ $id - 1 ][1]);
		my $g = 2 * gamma(@x + 24) * ($type eq 'halfvec' ? 1.01 : 1);
		my ($sabs, $nx, $ny) = (0, 0, 0);
		for my $i (0 .. $#x) { $sabs += abs($x[$i] * $y[$i]); $nx += $x[$i]**2; $ny += $y[$i]**2; }
		for my $k (0 .. $#fns)
		{
			$total++;
			my ($h1, $h2) = ($va{$id}[$k], $vb{$id}[$k]);
			if ($h1 eq $h2) { $same++; next; }
			my ($f1, $f2) = (f8($h1), f8($h2));
			if (defined $f1 && defined $f2 && $f1 != $f1 && $f2 != $f2) { $same++; next; }    # NaN, either sign
			my $ok = defined $f1 && defined $f2 && $f1 == $f1 && $f2 == $f2
			  && abs($f2) != 9**9**9 && abs($f1) != 9**9**9;
			if ($ok)
			{
				my $tol = $k <= 4 ? $g * abs($f2)                       # L2, L1, norm: relative
				  : $k <= 6 ? $g * $sabs * 1.0001                         # inner product: to sum|a_i b_i|
				  : 2 * $g + 1e-12;                                     # cosine: absolute
				$ok = abs($f1 - $f2) <= $tol;
			}
			push @bad, "pair $id $fns[$k]: vlake $h1 pgvector $h2" unless $ok;
		}
	}
	is(join("\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]), '', "$type: every distance within the documented bound of pgvector's");
	note sprintf('%s: %d of %d results bit-identical to pgvector\'s', $type, $same, $total);
}

# sparsevec: the same pairs as sparse values; vlake's merge loops add in
# pgvector's source order, so every result but cosine is bit-identical
# (docs/vector.md, sparsevec), cosine within 1e-6 of max(1, |d|) as in TAP 070
{
	my %va = map { my @f = split / /; (shift(@f) => \@f) } split /\n/, dists('dist_vlake', 'sparsevec');
	my %vb = map { my @f = split / /; (shift(@f) => \@f) } split /\n/, dists('dist_pgv', 'sparsevec');
	is(join(',', sort { $a <=> $b } keys %va), join(',', sort { $a <=> $b } keys %vb), 'sparsevec: both accept the same pairs');
	my @bad;
	for my $id (sort { $a <=> $b } keys %va)
	{
		for my $k (0 .. $#fns)
		{
			my ($h1, $h2) = ($va{$id}[$k], $vb{$id}[$k]);
			next if $h1 eq $h2;
			my ($f1, $f2) = (f8($h1), f8($h2));
			next if defined $f1 && defined $f2 && $f1 != $f1 && $f2 != $f2;
			next if $k >= 7 && defined $f1 && defined $f2 && abs($f1 - $f2) <= 1e-6 * (abs($f2) > 1 ? abs($f2) : 1);
			push @bad, "pair $id $fns[$k]: vlake $h1 pgvector $h2";
		}
	}
	is(join("\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]), '',
		'sparsevec: <->, <+>, <#>, l2_norm, inner_product, l1_distance, l2_distance bit-identical, cosine within 1e-6');
}

done_testing();
