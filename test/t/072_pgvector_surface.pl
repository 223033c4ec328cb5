# Nothing of pgvector 0.8.6's SQL is missing in vlake (issue 13), checked
# against pgvector itself (built from its release tarball by
# scripts/peer-pgvector.sh; never part of vlake).
#
# Two clusters, as in TAP 070: A runs pgvector (CREATE EXTENSION vector),
# B runs vlake alone.
#
# 1. The catalog: every function, aggregate, operator, cast, type, access
#    method, operator class and operator family pgvector's extension owns in A
#    (pg_depend, deptype 'e') exists in B with the same signature: functions
#    and aggregates with the same argument and result types, strictness,
#    volatility, parallel safety and kind; operators with the same result
#    and commutator / negator; casts with the same function (by signature)
#    and context; types with the same storage.  btree classes exist in B for
#    btree; an hnsw or ivfflat class exists in B under the vlake access
#    method with the same name and type.  The exceptions are listed below,
#    each with its reason.
# 2. Evaluation: every function and operator of (1) is called in both
#    clusters on the same seeded values (every combination of a pool per
#    argument type, bit strings included), as are every cast and the
#    aggregates; results must be identical, or — for floating-point results
#    that vlake computes with another summation order (SIMD kernels, double
#    accumulators) — equal within 1e-6 relative to max(1, |value|), the
#    tolerance TAP 070 uses for <=>; errors must be errors on both sides,
#    with the same SQLSTATE class (the codes that differ are listed).
# 3. A pgvector user's script (072_pgvector_user.sql, ~170 statements over
#    the features of pgvector's README) runs without error in B, and in A
#    with the index methods put back (vlake -> hnsw / ivfflat).
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakePeer qw(peer_pgvector);
use Time::HiRes qw(time);

my $src = $ENV{VLAKE_SRC} // '.';
my $tmp = PostgreSQL::Test::Utils::tempdir('surface');

my $t0  = time;
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
is($vl->safe_psql('postgres', "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"),
	'0', 'B has no pgvector');

# ------------------------------------------------------------- 1. catalog --
# One line per object an extension owns: kind, key, attributes.
my $catalog = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = '%s'),
owned AS (SELECT classid, objid FROM pg_depend
          WHERE refclassid = 'pg_extension'::regclass AND refobjid = (SELECT oid FROM ext)
            AND deptype = 'e')
SELECT 'function', p.oid::regprocedure::text,
       concat_ws(' ', 'returns', p.prorettype::regtype, CASE WHEN p.proretset THEN 'setof' END,
                 'kind', p.prokind, 'strict', p.proisstrict, 'volatility', p.provolatile,
                 'parallel', p.proparallel)
FROM owned o JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
UNION ALL
SELECT 'operator', op.oid::regoperator::text,
       concat_ws(' ', 'returns', op.oprresult::regtype,
                 'commutator', NULLIF(op.oprcom, 0)::regoperator,
                 'negator', NULLIF(op.oprnegate, 0)::regoperator)
FROM owned o JOIN pg_operator op ON o.classid = 'pg_operator'::regclass AND op.oid = o.objid
UNION ALL
SELECT 'cast', c.castsource::regtype || ' -> ' || c.casttarget::regtype,
       concat_ws(' ', 'function', c.castfunc::regprocedure, 'context', c.castcontext,
                 'method', c.castmethod)
FROM owned o JOIN pg_cast c ON o.classid = 'pg_cast'::regclass AND c.oid = o.objid
UNION ALL
SELECT 'type', t.typname,
       concat_ws(' ', 'len', t.typlen, 'byval', t.typbyval, 'align', t.typalign,
                 'storage', t.typstorage, 'category', t.typcategory, 'typmod', t.typmodin <> 0)
FROM owned o JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
UNION ALL
SELECT 'access method', a.amname, a.amtype::text
FROM owned o JOIN pg_am a ON o.classid = 'pg_am'::regclass AND a.oid = o.objid
UNION ALL
SELECT 'operator class', am.amname || ' ' || oc.opcname || ' ' || oc.opcintype::regtype,
       concat_ws(' ', 'default', oc.opcdefault)
FROM owned o JOIN pg_opclass oc ON o.classid = 'pg_opclass'::regclass AND oc.oid = o.objid
JOIN pg_am am ON am.oid = oc.opcmethod
UNION ALL
SELECT 'operator family', am.amname || ' ' || f.opfname, ''
FROM owned o JOIN pg_opfamily f ON o.classid = 'pg_opfamily'::regclass AND f.oid = o.objid
JOIN pg_am am ON am.oid = f.opfmethod
UNION ALL
SELECT 'other', pg_describe_object(o.classid, o.objid, 0), ''
FROM owned o
WHERE o.classid NOT IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_cast'::regclass,
                        'pg_type'::regclass, 'pg_am'::regclass, 'pg_opclass'::regclass,
                        'pg_opfamily'::regclass)
ORDER BY 1, 2};

sub catalog_of
{
	my ($node, $ext) = @_;
	my %h;
	for my $line (split /\n/, $node->safe_psql('postgres', sprintf($catalog, $ext)))
	{
		my ($kind, $key, $attrs) = split /\|/, $line, 3;
		$h{"$kind: $key"} = $attrs // '';
	}
	return \%h;
}
my $ca = catalog_of($pgv, 'vector');
my $cb = catalog_of($vl, 'vlake');

# pgvector's objects vlake does not have, and why
my %exception = (
	'access method: hnsw'    => "pgvector's HNSW access method; vlake's is the vlake access method",
	'access method: ivfflat' => "pgvector's IVFFlat access method; vlake's is the vlake access method",
	map({ ("function: $_(internal)" => "the handler or a support function of pgvector's hnsw / ivfflat access methods") }
		qw(hnswhandler ivfflathandler hnsw_bit_support hnsw_halfvec_support hnsw_sparsevec_support
		  ivfflat_bit_support ivfflat_halfvec_support)),
);

# where B has an object of A: ANN classes and families under vlake
sub b_key
{
	my ($k) = @_;
	if ($k =~ /^operator (class|family): (?:hnsw|ivfflat) (.*)$/)
	{
		my ($what, $rest) = ($1, $2);
		return ("operator $what: vlake $rest");
	}
	return ($k);
}

my (%kinds, @missing, @differ, @excepted);
for my $k (sort keys %$ca)
{
	my ($kind) = $k =~ /^([^:]+):/;
	$kinds{$kind}++;
	if ($exception{$k})
	{
		push @excepted, $k;
		ok(!exists $cb->{ (b_key($k))[0] }, "exception: $k ($exception{$k})");
		next;
	}
	my ($bk) = b_key($k);
	if (!exists $cb->{$bk})
	{
		push @missing, $k;
		next;
	}
	# defaults of ANN classes are each access method's own choice (docs/index.md)
	next if $k =~ /^operator class: (?:hnsw|ivfflat) /;
	push @differ, "$k\n    pgvector: $ca->{$k}\n    vlake:    $cb->{$bk}" if $ca->{$k} ne $cb->{$bk};
}
note 'pgvector objects: ' . join(', ', map { "$kinds{$_} ${_}s" } sort keys %kinds);
ok(scalar(keys %$ca) > 200, 'pgvector owns ' . scalar(keys %$ca) . ' objects');
ok(!exists $kinds{other}, 'every object of pgvector is of a kind compared here')
  or diag join("\n", grep { /^other:/ } keys %$ca);
is(scalar(@missing), 0, 'every object of pgvector (but the exceptions) exists in vlake')
  or diag "missing in vlake:\n  " . join("\n  ", @missing);
is(scalar(@differ), 0, 'with the same signature, strictness, volatility, parallel safety, context')
  or diag "different:\n  " . join("\n  ", @differ);
is(scalar(@excepted), scalar(keys %exception), 'every exception names an object pgvector has');

# --------------------------------------------------------- 2. evaluation --
srand(20261205);
sub rnd_vec
{
	my ($dim, $int) = @_;
	return '[' . join(',', map { $int ? int(rand(17)) - 8 : sprintf('%.6g', (rand(2) - 1) * 10**(int(rand(5)) - 2)) } 1 .. $dim) . ']';
}
sub rnd_bits { my ($n) = @_; return join('', map { int(rand(2)) } 1 .. $n); }

my @vecs = ('[1,2,3]', '[0,0,0]', '[-1.5,0.25,3e-3]', '[4,-5,6]', '[1,2,3,4]', '[65504,1,-2]',
	rnd_vec(3, 1), rnd_vec(3, 0), rnd_vec(3, 0));
my @sparse = ('{1:1,3:2}/3', '{}/3', '{2:-1.5}/3', '{1:4,2:-5,3:6}/3', '{1:1}/4', '{1:0.1,3:7e3}/3');
my @bits = ('101', '110', '000', '111', '1010', rnd_bits(70), rnd_bits(70), ('0' x 69) . '1', '1');
my %pool = (
	'vector'             => [ map { "'$_'::vector" } @vecs ],
	'halfvec'            => [ map { "'$_'::halfvec" } @vecs ],
	'sparsevec'          => [ map { "'$_'::sparsevec" } @sparse ],
	'bit'                => [ map { "B'$_'" } @bits ],
	'integer'            => [ -1, 0, 1, 2, 3, 4 ],
	'boolean'            => [ 'false', 'true' ],
	'integer[]'          => [ "'{1,2,3}'::integer[]", "'{0,0,5}'::integer[]", "'{}'::integer[]", "'{1,NULL,3}'::integer[]", "'{{1,2},{3,4}}'::integer[]" ],
	'real[]'             => [ "'{1.5,-2,0}'::real[]", "'{0,0,0}'::real[]", "'{1e-40,2,3}'::real[]", "'{NaN,1,2}'::real[]", "'{1,2,3,4}'::real[]" ],
	# also the state of avg(): count, then one sum per dimension
	'double precision[]' => [ "'{1.5,-2,0}'::float8[]", "'{0}'::float8[]", "'{2,2,4,6}'::float8[]", "'{3,1e300,1,1}'::float8[]", "'{1e300,2,3}'::float8[]", "'{1,NULL,3}'::float8[]" ],
	'numeric[]'          => [ "'{1.5,-2,0}'::numeric[]", "'{1e50,1,2}'::numeric[]", "'{0.1,0.2,0.3}'::numeric[]", "'{Infinity,1,2}'::numeric[]" ],
);

my @exprs;
my %skipped;
for my $k (sort keys %$ca)
{
	next if $exception{$k};
	if ($k =~ /^function: ([\w.]+)\((.*)\)$/ && $ca->{$k} !~ /kind a/)
	{
		my ($name, $args) = ($1, $2);
		my @types = $args eq '' ? () : split /,/, $args;
		if (grep { !$pool{$_} } @types)
		{
			$skipped{$k} = 1;			# type I/O: cstring, internal, oid
			next;
		}
		my @calls = ('');
		for my $t (@types)
		{
			@calls = map { my $c = $_; map { $c eq '' ? $_ : "$c, $_" } @{ $pool{$t} } } @calls;
		}
		push @exprs, "$name($_)" for @calls;
	}
	elsif ($k =~ /^operator: (\S+)\((\w[\w ]*(?:\[\])?),(\w[\w ]*(?:\[\])?)\)$/)
	{
		my ($op, $l, $r) = ($1, $2, $3);
		for my $x (@{ $pool{$l} })
		{
			push @exprs, "($x $op $_)" for @{ $pool{$r} };
		}
	}
	elsif ($k =~ /^cast: (.*) -> (.*)$/)
	{
		my ($s, $t) = ($1, $2);
		push @exprs, "($_)::$t" for @{ $pool{$s} };
		push @exprs, "($_)::$t(3)" for grep { $t =~ /^(vector|halfvec|sparsevec)$/ } @{ $pool{$s} };
	}
}
# the aggregates, over the pools (same dimension, mixed, empty, NULLs)
for my $agg (qw(avg sum))
{
	for my $t (qw(vector halfvec))
	{
		push @exprs, "(SELECT $agg(v) FROM (VALUES ('[1,2,3]'::$t), ('[4,-5,6.5]'), (NULL)) s(v))",
		  "(SELECT $agg(v) FROM (VALUES ('[1,2,3]'::$t), ('[4,5]')) s(v))",
		  "(SELECT $agg(v) FROM (SELECT '[1]'::$t WHERE false) s(v))",
		  "(SELECT $agg(v) FROM (SELECT ('[' || i || ',' || (i * 0.5) || ',-1e-3]')::$t FROM generate_series(1, 1000) i) s(v))";
	}
}
note scalar(@exprs) . ' expressions; not called (type I/O): ' . join(' ', sort keys %skipped);

open my $fh, '>', "$tmp/exprs.txt" or die $!;
my $n = 0;
for my $e (@exprs)
{
	$n++;
	(my $esc = $e) =~ s/\\/\\\\/g;
	print $fh "$n\t$esc\n";
}
close $fh;
my $eval_setup = qq{
CREATE TABLE exprs (id int, e text);
COPY exprs FROM '$tmp/exprs.txt';
CREATE FUNCTION try(e text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE r text;
BEGIN
  EXECUTE 'SELECT (' || e || ')::text' INTO r;
  RETURN coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR ' || SQLSTATE;
END \$\$;
};
$pgv->safe_psql('postgres', $eval_setup);
$vl->safe_psql('postgres', $eval_setup);
my $q = 'SELECT id, try(e) FROM exprs ORDER BY id';
my %ra = map { split /\|/, $_, 2 } split /\n/, $pgv->safe_psql('postgres', $q);
my %rb = map { split /\|/, $_, 2 } split /\n/, $vl->safe_psql('postgres', $q);

# numbers in a result (a float, or a vector's elements)
sub numbers { my ($s) = @_; return $s =~ /(-?(?:\d+\.?\d*(?:e[-+]?\d+)?|NaN|Infinity))/gi; }
sub close_enough
{
	my ($x, $y) = @_;
	my @a = numbers($x);
	my @b = numbers($y);
	return 0 if @a != @b || @a == 0;
	(my $sa = $x) =~ s/-?(?:\d+\.?\d*(?:e[-+]?\d+)?|NaN|Infinity)/#/gi;
	(my $sb = $y) =~ s/-?(?:\d+\.?\d*(?:e[-+]?\d+)?|NaN|Infinity)/#/gi;
	return 0 if $sa ne $sb;				# same shape: brackets, indices
	for my $i (0 .. $#a)
	{
		next if $a[$i] eq $b[$i];
		return 0 if $a[$i] =~ /[a-z]/i && $a[$i] !~ /e/i || $b[$i] =~ /[a-z]/i && $b[$i] !~ /e/i;
		my $m = abs($a[$i]) > 1 ? abs($a[$i]) : 1;
		return 0 if abs($a[$i] - $b[$i]) / $m > 1e-6;
	}
	return 1;
}

# where vlake differs from pgvector on purpose: the call, and vlake's
# result, checked against a value computed independently
my @known = (
	# pgvector's combine of two empty states (count 0, no sums: what a
	# parallel worker that saw no row hands over) asks for a vector of 0
	# dimensions and fails (22000); vlake returns the empty state
	[ qr/^(vector|halfvec)_combine\('\{0\}'::float8\[\], '\{0\}'::float8\[\]\)$/, '{0}' ],
	# sum(vector) of 1,000 rows: pgvector adds in real, vlake in double
	# precision (docs/vector.md): the exact sums are 500500, 250250 and
	# 1000 x -0.001 = -1, which vlake returns (pgvector: -0.9999907)
	[ qr/^\(SELECT sum\(v\) FROM \(SELECT .* generate_series\(1, 1000\)/, '[500500,250250,-1]' ],
);
my ($same, $tol, $errs, $known, @bad, %codes) = (0, 0, 0, 0);
for my $id (1 .. $n)
{
	my ($x, $y) = ($ra{$id} // 'missing', $rb{$id} // 'missing');
	if ($x eq $y)
	{
		$same++;
		$errs++ if $x =~ /^ERROR/;
		next;
	}
	my ($kn) = grep { $exprs[ $id - 1 ] =~ $_->[0] } @known;
	if ($kn && $y eq $kn->[1])
	{
		$known++;
		next;
	}
	if ($x =~ /^ERROR (\w\w)(\w+)/)
	{
		my $cls = $1;
		# pgvector reports malformed aggregate states with elog (XX000,
		# internal error); vlake with a data exception
		if ($y =~ /^ERROR (\w\w)/ && ($1 eq $cls || $cls eq 'XX'))
		{
			$errs++;
			$codes{"$x (pgvector) / $y (vlake)"}++;
			next;
		}
	}
	elsif ($y !~ /^ERROR/ && close_enough($x, $y))
	{
		$tol++;
		next;
	}
	push @bad, "$exprs[$id - 1]\n    pgvector: $x\n    vlake:    $y";
}
note "$n calls: $same identical ($errs errors on both sides), $tol within 1e-6, $known known differences";
note "SQLSTATEs that differ within their class: $_ x $codes{$_}" for sort keys %codes;
ok($n > 3000, "every function, operator and cast called ($n calls)");
is(scalar(@bad), 0, 'same results (or within 1e-6) and errors of the same class in A and B')
  or diag scalar(@bad) . " differ:\n  " . join("\n  ", @bad[0 .. ($#bad < 40 ? $#bad : 40)]);

# bit operators on longer strings than the pools: every length 1 .. 200 and
# pairs at random, Hamming and Jaccard bit-identical (float8send)
my @pairs;
for my $len (1 .. 200)
{
	push @pairs, [ rnd_bits($len), rnd_bits($len) ] for 1 .. 3;
}
open $fh, '>', "$tmp/bits.txt" or die $!;
print $fh join("\t", $_, @{ $pairs[ $_ - 1 ] }) . "\n" for 1 .. @pairs;
close $fh;
my $bitq = qq{
CREATE TABLE bp (id int, a bit varying, b bit varying);
COPY bp FROM '$tmp/bits.txt';
SELECT id, float8send(a <~> b), float8send(a <%> b), float8send(hamming_distance(a, a)),
       float8send(jaccard_distance(a, a)), float8send(b <%> b)
FROM bp ORDER BY id};
is($vl->safe_psql('postgres', $bitq), $pgv->safe_psql('postgres', $bitq),
	'<~> and <%> on ' . scalar(@pairs) . ' bit string pairs of 1 to 200 bits: bit-identical');
my $bq = q{SELECT i, binary_quantize(v)::text, binary_quantize(v::halfvec)::text FROM
  (SELECT i, (SELECT array_agg(sin(i * j * 0.37) * (j % 3) ORDER BY j)::real[]::vector
              FROM generate_series(1, 1 + i % 77) j) v FROM generate_series(1, 300) i) s ORDER BY i};
is($vl->safe_psql('postgres', $bq), $pgv->safe_psql('postgres', $bq),
	'binary_quantize of 300 vectors and halfvecs (zeros included): identical');

# ------------------------------------------------------ 3. a user's script --
my $script = "$src/test/t/072_pgvector_user.sql";
open $fh, '<', $script or die $!;
my $text = do { local $/; <$fh> };
close $fh;
my $stmts = () = $text =~ /;\s*$/mg;
ok($stmts >= 150, "the user's script has $stmts statements");

my ($ok, $stdout, $stderr) = (0, '', '');
$ok = $vl->psql('postgres', undef, stdout => \$stdout, stderr => \$stderr,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $script ]);
is($ok, 0, "the user's script runs in B without an error") or diag $stderr;

# the same script for pgvector: its index methods instead of vlake's
(my $a_text = $text) =~ s/USING vlake \(embedding vector_l2_ops\) WITH \(lists = 20\)/USING ivfflat (embedding vector_l2_ops) WITH (lists = 20)/g;
$a_text =~ s/USING vlake \(embedding\)/USING ivfflat (embedding)/g;
$a_text =~ s/USING vlake_sparse/USING hnsw/g;
$a_text =~ s/USING vlake/USING hnsw/g;
open $fh, '>', "$tmp/user_pgvector.sql" or die $!;
print $fh $a_text;
close $fh;
$ok = $pgv->psql('postgres', undef, stdout => \$stdout, stderr => \$stderr,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/user_pgvector.sql" ]);
is($ok, 0, "the same script with hnsw / ivfflat runs in A (it is a pgvector script)") or diag $stderr;

$pgv->stop;
$vl->stop;
done_testing();
