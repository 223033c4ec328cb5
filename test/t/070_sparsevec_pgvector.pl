# vlake's sparsevec against pgvector's (the peer: pgvector 0.8.6 built from
# its release tarball by scripts/peer-pgvector.sh; never part of vlake).
#
# Two clusters: A runs pgvector (CREATE EXTENSION vector) from a private
# install that has pgvector, B runs vlake.  (Both also run in one cluster
# now that vlake.so exports no name pgvector's library defines:
# test/t/071_pgvector_coexist.pl, docs/pgvector.md.)
#
# The same inputs (hand-picked edge cases and ~600 generated vectors, fixed
# seed) must give, in A and in B:
#  - the same acceptance (both accept or both refuse) and the same text output;
#  - the same bytes from COPY ... (FORMAT binary);
#  - binary COPY out of A loads into B and out of B into A, to equal values;
#  - the same distances for every pair of vectors of a group: bit-identical
#    for <->, <#>, <+> (and l2_norm, inner_product), cosine <=> within 1e-6
#    relative (to max(1, distance)).  pgvector is built here with
#    PGVECTOR_CFLAGS="" so its float sums run in the order of its source;
#    its stock flags (-ftree-vectorize -fassociative-math) let the compiler
#    reorder the sums of the trailing elements of <-> and <+>, which changes
#    the last bits (from one compiler or CPU flag set to another, too);
#  - the same ORDER BY v, casts to and from vector and halfvec, l2_normalize.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Compare qw(compare);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakePeer qw(peer_pgvector);
use Time::HiRes qw(time);

my $tmp = PostgreSQL::Test::Utils::tempdir('sparsevec');

# pgvector into a private install (cached build under build/peers/)
my $t0  = time;
# PGVECTOR_CFLAGS="": float sums in source order (no -fassociative-math)
my $bindir = peer_pgvector("$tmp/pgv", cflags => '');
note sprintf('pgvector private install ready in %.1f s', time - $t0);

my $pgv = PostgreSQL::Test::Cluster->new('pgvector', install_path => dirname($bindir));
$pgv->init;
$pgv->start;
$pgv->safe_psql('postgres', 'CREATE EXTENSION vector');
is($pgv->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'vector'"),
	'0.8.6', 'A runs pgvector 0.8.6');

my $vl = PostgreSQL::Test::Cluster->new('vlake');
$vl->init;
$vl->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\n");
$vl->start;
$vl->safe_psql('postgres', 'CREATE EXTENSION vlake');
is($vl->safe_psql('postgres',
	"SELECT count(*) FROM pg_extension WHERE extname = 'vector'"), '0', 'B has no pgvector');

# ------------------------------------------------------------ the inputs --
srand(20261204);

# a float written the ways people write them
sub rnd_value
{
	my $k = int(rand(10));
	return int(rand(17)) - 8 if $k < 3;                                   # small integers (and 0)
	return sprintf('%.9g', (rand(2) - 1) * 10**(int(rand(12)) - 6)) if $k < 8;
	return sprintf('%.3e', (rand(2) - 1) * 10**(int(rand(76)) - 38)) if $k < 9;  # wide range
	return sprintf('%.2e', (rand(2) - 1) * 1e-42);                        # subnormal floats
}

# a literal with nnz pairs over dim dimensions, indices from pool, any order
sub rnd_literal
{
	my ($dim, $nnz, $pool) = @_;
	my %idx;
	$idx{ $pool->[ int(rand(@$pool)) ] } = 1 while keys(%idx) < $nnz && keys(%idx) < @$pool;
	my @pairs = map { "$_:" . rnd_value() } keys %idx;
	return '{' . join(',', @pairs) . "}/$dim";
}

my @lits = (
	'{1:1.5,3:3.5}/5', ' { 3 : -2 , 1:0.1 ,2:0 } / 5 ', '{}/1', '{ }/3', '{1:0}/2',
	'{1:1.5e38,2:-1.4e-45,3:0.30000001}/3', '{1000000000:1}/1000000000', '{}/1000000000',
	'{1:+1,2:-0,3:.5,4:5.,5:0x1p-3}/5', '{1:1e-45}/1', '{1:3.4028235e38}/1', '{01:1}/2',
	'{+1:1}/2', '{1:1}/+2', '{1:1}/02',
	# refused by both
	'', '{', '{}', '{}/', '{}/1a', '[1,2]', '{:}/1', '{,}/1', '{1,}/1', '{:1}/1', '{1:}/1',
	'{1a:1}/1', '{1:1a}/1', '{1:1,}/1', '{1:1 2:1}/2', '{1:1}', '{1:1}/2/3', '{1.5:1}/2',
	'{1:hello}/2', '{1:NaN}/2', '{1:Infinity}/2', '{1:-inf}/2', '{1:4e38}/2', '{1:-1e-46}/2',
	'{}/0', '{}/-1', '{}/1000000001', '{}/99999999999999999999', '{0:1}/1', '{2:1}/1',
	'{-1:1}/3', '{2147483648:1}/3', '{2:0}/1', '{1:1,1:2}/2', '{2:1,1:1,2:3}/3', '{1:0,1:1}/2');
push @lits, '{' . join(',', map { "$_:1" } 1 .. 16000) . '}/100000';
push @lits, '{' . join(',', map { "$_:1" } 1 .. 16001) . '}/100000';

# groups of vectors of one dimension count whose indices overlap (drawn from
# a small pool), with few and with many non-zeros (long merge tails)
my @groups;
my @gdims = (1, 2, 3, 10, 50, 300, 1000, 16000, 100000, 1000000000);
for my $g (0 .. $#gdims)
{
	my $dim = $gdims[$g];
	my $poolsize = $dim < 600 ? $dim : 600;
	my %inpool = map { (1 + int(rand($dim))) => 1 } 1 .. $poolsize;
	$inpool{1} = $inpool{$dim} = 1;
	my @pool = keys %inpool;
	my @members;
	for my $m (1 .. 30)
	{
		my $nnz = $m % 5 == 0 ? int(rand(400)) : int(rand(12));
		$nnz = 0 if $m == 1;
		push @members, rnd_literal($dim, $nnz, \@pool);
	}
	push @groups, \@members;
}

my $lits_file = "$tmp/lits.txt";
open my $fh, '>', $lits_file or die $!;
my $id = 0;
for my $l (@lits)
{
	$id++;
	print $fh "$id\t0\t$l\n";
}
for my $g (0 .. $#groups)
{
	for my $l (@{ $groups[$g] })
	{
		$id++;
		print $fh "$id\t" . ($g + 1) . "\t$l\n";
	}
}
close $fh;
note "$id literals";

my $setup = qq{
CREATE TABLE lits (id int, grp int, lit text);
COPY lits FROM '$lits_file';
CREATE FUNCTION out_or_error(l text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
  RETURN l::sparsevec::text;
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR';
END \$\$;
CREATE TABLE t AS SELECT id, grp, lit::sparsevec AS v FROM lits WHERE out_or_error(lit) <> 'ERROR';
};
$pgv->safe_psql('postgres', $setup);
$vl->safe_psql('postgres', $setup);

# compare one query's output in A and B line by line
sub same_output
{
	my ($name, $sql) = @_;
	my $ra = $pgv->safe_psql('postgres', $sql);
	my $rb = $vl->safe_psql('postgres', $sql);
	if ($ra eq $rb)
	{
		my $n = () = $ra =~ /\n/g;
		pass("$name (" . ($n + 1) . ' rows)');
		return;
	}
	my @la = split /\n/, $ra;
	my @lb = split /\n/, $rb;
	my $shown = 0;
	for my $i (0 .. ($#la > $#lb ? $#la : $#lb))
	{
		next if defined $la[$i] && defined $lb[$i] && $la[$i] eq $lb[$i];
		diag "difference at line " . ($i + 1) . ":\n  pgvector: "
		  . substr($la[$i] // '(none)', 0, 300) . "\n  vlake:    " . substr($lb[$i] // '(none)', 0, 300);
		last if ++$shown == 8;
	}
	fail($name);
}

same_output('text input: same acceptance and same output',
	'SELECT id, out_or_error(lit) FROM lits ORDER BY id');
ok($vl->safe_psql('postgres', 'SELECT count(*) FROM t') > 250, 'most generated literals accepted');

# binary COPY: identical bytes, and each side loads the other's
$pgv->safe_psql('postgres', "COPY (SELECT id, v FROM t ORDER BY id) TO '$tmp/a.bin' (FORMAT binary)");
$vl->safe_psql('postgres', "COPY (SELECT id, v FROM t ORDER BY id) TO '$tmp/b.bin' (FORMAT binary)");
ok(-s "$tmp/a.bin" > 10000, 'binary COPY out of A is not empty');
is(compare("$tmp/a.bin", "$tmp/b.bin"), 0, 'COPY (FORMAT binary) bytes are identical');
for my $n ([ $pgv, "$tmp/b.bin", 'A loads B' ], [ $vl, "$tmp/a.bin", 'B loads A' ])
{
	my ($node, $file, $what) = @$n;
	$node->safe_psql('postgres', "CREATE TABLE t2 (id int, v sparsevec); COPY t2 FROM '$file' (FORMAT binary)");
	is($node->safe_psql('postgres',
		'SELECT count(*), count(*) FILTER (WHERE t.v = t2.v AND t.v::text = t2.v::text) FROM t JOIN t2 USING (id)'),
		$node->safe_psql('postgres', 'SELECT count(*) || \'|\' || count(*) FROM t'),
		"binary COPY: $what, values equal");
}

# distances: every pair of one group; float8send shows every bit
same_output('<->, <#>, <+>, l2_norm, inner_product: bit-identical', q{
SELECT x.id, y.id, float8send(x.v <-> y.v), float8send(x.v <#> y.v), float8send(x.v <+> y.v),
       float8send(inner_product(x.v, y.v)), float8send(l2_norm(x.v))
FROM t x JOIN t y ON x.grp = y.grp AND x.grp > 0 ORDER BY 1, 2});
my $cos = q{SELECT x.id || ' ' || y.id, (x.v <=> y.v)::text FROM t x JOIN t y ON x.grp = y.grp AND x.grp > 0 ORDER BY x.id, y.id};
my %ca = map { split /\|/ } split /\n/, $pgv->safe_psql('postgres', $cos);
my %cb = map { split /\|/ } split /\n/, $vl->safe_psql('postgres', $cos);
my ($bad, $n, $worst) = (0, 0, 0);
for my $k (keys %ca)
{
	$n++;
	my ($x, $y) = ($ca{$k}, $cb{$k} // 'missing');
	if ($x eq 'NaN' || $y eq 'NaN' || $y eq 'missing')
	{
		next if $x eq $y;
		$bad++;
		diag "cosine $k: pgvector $x, vlake $y" if $bad <= 5;
		next;
	}
	# relative, but to at least 1: distances near 0 (a vector and itself)
	# differ by the rounding of 1 - cos, not of the distance
	my $rel = abs($x - $y) / (abs($x) > 1 ? abs($x) : 1);
	$worst = $rel if $rel > $worst;
	if ($rel > 1e-6) { $bad++; diag "cosine $k: pgvector $x, vlake $y" if $bad <= 5; }
}
ok($n > 5000 && $bad == 0, "<=> within 1e-6 relative ($n pairs, $bad differ, worst $worst)");

same_output('ORDER BY v (across dimension counts too)', 'SELECT id FROM t ORDER BY v, id');
same_output('casts to vector and halfvec, l2_normalize', q{
SELECT id, v::vector::text, v::vector::sparsevec::text, l2_normalize(v)::text
FROM t WHERE grp BETWEEN 1 AND 8 ORDER BY id});
same_output('halfvec casts', q{
SELECT id, v::halfvec::text, v::halfvec::sparsevec::text FROM t
WHERE grp BETWEEN 1 AND 8 AND (SELECT bool_and(abs(x) < 65504) FROM unnest(v::vector::real[]) x) ORDER BY id});

$pgv->stop;
$vl->stop;
done_testing();
