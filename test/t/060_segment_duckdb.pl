# The segment files of vlake tables (src/tableam/vltab_segment.h) read by an
# independent engine: DuckDB (npm @duckdb/node-api) reads every ColumnGroup
# file vlake.segment_write makes, sees the expected types, field ids (= attnums)
# and footer keys, and the same values as Postgres, row by row in row-ID
# order (file row number k is row ID first_row_id + k).  Columns stored as
# their type's text output read as that text.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $node = PostgreSQL::Test::Cluster->new('segment_duckdb');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\nTimeZone = 'UTC'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

sub duck
{
	my @sql = @_;
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/parquet_duckdb.mjs", 'query', @sql ],
		'>', \$out, '2>', \$err)
	  or die "duckdb failed: $err";
	return JSON::PP->new->decode($out);
}

sub pg_rows
{
	my ($sql) = @_;
	my $out = $node->safe_psql('postgres', $sql,
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	return [ map { [ split /\x1f/, $_, -1 ] } split /\n/, $out ];
}

sub num_eq { my ($a, $b) = @_; return $a eq $b || (($a =~ /^[-+0-9.eE]+$/) && ($b =~ /^[-+0-9.eE]+$/) && $a == $b); }

sub cell_eq
{
	my ($g, $w, $k) = @_;
	return $g eq $w if $g eq '<NULL>' || $w eq '<NULL>';
	return num_eq($g, $w) if $k eq 'f';
	if ($k eq 'fl')
	{
		my @a = split /,\s*/, ($g =~ s/^[\[{]|[\]}]$//gr);
		my @b = split /,\s*/, ($w =~ s/^[\[{]|[\]}]$//gr);
		return @a == @b && !grep { !num_eq($a[$_], $b[$_]) } 0 .. $#a;
	}
	return $g eq $w;
}

# IEEE binary16 bits (hex, little-endian) of values exactly representable.
sub half_hex
{
	my (@vals) = @_;
	my $hex = '';
	for my $v (@vals)
	{
		my $bits = 0;
		if ($v != 0)
		{
			my $s = $v < 0 ? 1 : 0;
			my $a = abs($v);
			my $e = 0;
			while ($a >= 2) { $a /= 2; $e++; }
			while ($a < 1)  { $a *= 2; $e--; }
			$bits = ($s << 15) | (($e + 15) << 10) | int(($a - 1) * 1024);
		}
		$hex .= sprintf('%02x%02x', $bits & 0xff, $bits >> 8);
	}
	return $hex;
}

# ------------------------------------------------------------------ data ---
$node->safe_psql('postgres', q{
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE t (
  id int8, b bool, i2 int2, i4 int4, f4 float4, f8 float8, dropped int,
  s text, vc varchar(20), by bytea, u uuid, d date, ts timestamp, tz timestamptz,
  js json, j jsonb, v vector(4), hv halfvec(3), vu vector, n numeric, m mood, ia int[]);
ALTER TABLE t DROP COLUMN dropped;
INSERT INTO t
SELECT g,
  CASE WHEN g % 7 = 1 THEN NULL ELSE g % 3 = 0 END,
  CASE WHEN g % 7 = 2 THEN NULL ELSE (g * 37 % 65536 - 32768) END,
  CASE WHEN g % 7 = 3 THEN NULL ELSE (g::int8 * 100003 % 2147483647 - 1000000000) END,
  CASE WHEN g % 7 = 4 THEN NULL ELSE (g % 64)::real / 8 - 3 END,
  CASE WHEN g % 7 = 5 THEN NULL ELSE g::float8 / 1024 - 1 END,
  CASE WHEN g % 7 = 6 THEN NULL WHEN g % 11 = 0 THEN '' ELSE 'str ' || g || repeat('é', g % 5) END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' || (g % 10) END,
  CASE WHEN g % 7 = 1 THEN NULL ELSE decode(md5(g::text), 'hex') END,
  CASE WHEN g % 7 = 2 THEN NULL ELSE md5(g::text)::uuid END,
  CASE WHEN g % 7 = 3 THEN NULL WHEN g = 10 THEN 'infinity' WHEN g = 12 THEN '-infinity'
       ELSE date '1970-01-01' + (g * 13 - 20000) END,
  CASE WHEN g % 7 = 4 THEN NULL WHEN g = 10 THEN 'infinity' WHEN g = 12 THEN '-infinity'
       ELSE timestamp '1980-01-01' + g * interval '1 hour 1.123456 second' END,
  CASE WHEN g % 7 = 5 THEN NULL WHEN g = 10 THEN 'infinity' WHEN g = 13 THEN '-infinity'
       ELSE timestamptz '2020-06-01 00:00:00+00' - g * interval '1 day 0.5 sec' END,
  CASE WHEN g % 7 = 6 THEN NULL ELSE ('{"x": ' || g || ', "y": [1, 2]}')::json END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE jsonb_build_object('k', g, 'a', array[g, g + 1]) END,
  CASE WHEN g % 7 = 1 THEN NULL ELSE array[(g % 8) / 4.0, -(g % 5), g / 2.0, 0.25]::vector(4) END,
  CASE WHEN g % 7 = 2 THEN NULL ELSE array[(g % 4) * 0.5, 1, -2]::halfvec(3) END,
  CASE WHEN g % 7 = 3 THEN NULL ELSE array_fill((g % 16)::real / 4, ARRAY[1 + g % 6])::vector END,
  CASE WHEN g % 7 = 4 THEN NULL WHEN g = 20 THEN 'NaN' ELSE (g - 1500)::numeric / 7 END,
  CASE WHEN g % 7 = 5 THEN NULL ELSE (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood END,
  CASE WHEN g % 7 = 6 THEN NULL ELSE ARRAY[g, NULL, -g] END
FROM generate_series(1, 3000) g;
});

my $first_row_id = 5000;
my $files = pg_rows("SELECT group_no, kind, path, array_to_string(attnums, ','), row_count
  FROM vlake.segment_write('t', 'file://$lake/', 'seg', $first_row_id) ORDER BY group_no");
is(scalar(@$files), 9, 'one scalar group and eight groups of their own');

# Postgres' canonical text of each column, in row-ID order (heap order)
my %pg_expr = (
	id => 'id', b => 'b::text', i2 => 'i2', i4 => 'i4', f4 => 'f4', f8 => 'f8', s => 's', vc => 'vc',
	by => "encode(by, 'hex')", u => 'u',
	d  => "CASE WHEN isfinite(d) THEN d::text ELSE d::text END",
	ts => "CASE WHEN isfinite(ts) THEN (extract(epoch FROM ts) * 1000000)::int8::text ELSE ts::text END",
	tz => "CASE WHEN isfinite(tz) THEN (extract(epoch FROM tz) * 1000000)::int8::text ELSE tz::text END",
	js => 'js::text', j => 'j::text', v => "array_to_string(v::real[], ',')",
	hv => 'id', vu => "array_to_string(vu::real[], ',')",
	n  => 'n::text', m => 'm::text', ia => 'ia::text');
my %duck_expr = (
	by => 'lower(hex("by"))',
	ts => "CASE WHEN isinf(ts) THEN ts::VARCHAR ELSE epoch_us(ts)::VARCHAR END",
	tz => "CASE WHEN isinf(tz) THEN tz::VARCHAR ELSE epoch_us(tz)::VARCHAR END",
	v  => "array_to_string(v, ',')", vu => "array_to_string(vu, ',')", hv => 'lower(hex(hv))');
my %kind = (f4 => 'f', f8 => 'f', v => 'fl', vu => 'fl');
my %want_type = (
	id => 'BIGINT', b => 'BOOLEAN', i2 => 'SMALLINT', i4 => 'INTEGER', f4 => 'FLOAT',
	f8 => 'DOUBLE', s => 'VARCHAR', vc => 'VARCHAR', by => 'BLOB', u => 'UUID', d => 'DATE',
	ts => 'TIMESTAMP', tz => 'TIMESTAMP WITH TIME ZONE', js => 'JSON', j => 'JSON',
	v => 'FLOAT[]', hv => 'BLOB', vu => 'FLOAT[]', n => 'VARCHAR', m => 'VARCHAR', ia => 'VARCHAR');
my %text_output = map { $_ => 1 } qw(j n m ia);

my %attnum = map { $_->[0] => $_->[1] } @{ pg_rows(
	"SELECT attname, attnum FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped") };
my %name_of = reverse %attnum;

my $seen_cols = 0;
for my $f (@$files)
{
	my ($group_no, $kind, $path, $atts, $rows) = @$f;
	my $file = "$lake/$path";
	my @cols = map { $name_of{$_} } split /,/, $atts;
	$seen_cols += @cols;
	is($rows, '3000', "$path: 3000 rows");

	# types and field ids
	my $types = duck("DESCRIBE SELECT * FROM read_parquet('$file')");
	my %got = map { $_->[0] => $_->[1] } @$types;
	is_deeply(\%got, { map { $_ => $want_type{$_} } @cols }, "$path: DuckDB sees the expected types");
	my $ids = duck("SELECT name, field_id FROM parquet_schema('$file') WHERE name <> 'element' AND field_id IS NOT NULL");
	is_deeply({ map { $_->[0] => $_->[1] } @$ids }, { map { $_ => $attnum{$_} } @cols },
		"$path: Parquet field ids are the attnums");

	# footer keys: first row ID, and which columns are text output
	my $kv = duck("SELECT decode(key), decode(value) FROM parquet_kv_metadata('$file')");
	my %kv = map { $_->[0] => $_->[1] } @$kv;
	is($kv{'vlake.first_row_id'}, $first_row_id, "$path: vlake.first_row_id");
	my @text = grep { $text_output{$_} } @cols;
	is($kv{'vlake.text_output'}, (@text ? join(',', map { $attnum{$_} } @text) : undef),
		"$path: vlake.text_output lists the columns stored as text");
	is($kv{'vlake.layout'}, ($kind eq 'vector_cg' ? 'vector_cg/1' : undef), "$path: layout key");

	# values, row by row in file order = row-ID order
	my $want = pg_rows("SELECT row_number() OVER (ORDER BY ctid) - 1, "
		  . join(', ', map { $pg_expr{$_} } @cols) . " FROM t ORDER BY ctid");
	if (grep { $_ eq 'hv' } @cols)
	{
		for my $row (@$want)
		{
			# halfvec bytes computed here from the row's id (independent of vlake)
			my $id = $row->[1];
			$row->[1] = ($id % 7 == 2) ? '<NULL>' : half_hex(($id % 4) * 0.5, 1, -2);
		}
	}
	my $got = duck("SELECT file_row_number, "
		  . join(', ', map { $duck_expr{$_} // "\"$_\"" } @cols)
		  . " FROM read_parquet('$file', file_row_number = true) ORDER BY file_row_number");
	my $bad = 0;
	if (@$got != @$want) { $bad = 1; diag("$path: " . scalar(@$got) . " rows from DuckDB"); }
	for my $r (0 .. $#$want)
	{
		last if $bad;
		for my $c (0 .. $#{ $want->[$r] })
		{
			my $g = $got->[$r][$c] // '<NULL>';
			my $w = $want->[$r][$c];
			next if cell_eq($g, $w, $c == 0 ? '' : ($kind{ $cols[ $c - 1 ] } // ''));
			diag("$path: row $r column " . ($c == 0 ? 'row number' : $cols[ $c - 1 ]) . ": DuckDB '$g', Postgres '$w'");
			$bad = 1;
			last;
		}
	}
	ok(!$bad, "$path: DuckDB reads the values Postgres has (" . join(' ', @cols) . ")");
}
is($seen_cols, scalar(keys %want_type), 'every column is in exactly one file');

# and vlake reads back what it wrote (the heap is the oracle)
my $diff = $node->safe_psql('postgres', qq{
CREATE TEMP TABLE f AS SELECT jsonb_agg(to_jsonb(w)) AS f
  FROM vlake.segment_write('t', 'file://$lake/', 'seg2', 0) w;
SELECT count(*) FROM (
  (SELECT r::text FROM t r EXCEPT ALL
   SELECT r::text FROM vlake.segment_read(NULL::t, 'file://$lake/', 0, 3000, (SELECT f FROM f)) r)
  UNION ALL
  (SELECT r::text FROM vlake.segment_read(NULL::t, 'file://$lake/', 0, 3000, (SELECT f FROM f)) r
   EXCEPT ALL SELECT r::text FROM t r)) x});
is($diff, '0', 'vlake reads back every row exactly');

done_testing();
