# Parquet interop with an independent engine: vlake writes files with varied
# options and DuckDB (npm @duckdb/node-api) reads back identical values and
# the expected types, compression, encodings, statistics, field ids and
# key-value metadata; vector ColumnGroups are read by DuckDB as FLOAT[] and
# taken by row number by vlake with the values DuckDB sees.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_setup_node s3_unique_prefix);

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $node = PostgreSQL::Test::Cluster->new('parquet_duckdb');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\nTimeZone = 'UTC'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

# ---------------------------------------------------------------- helpers --
sub duck
{
	my @sql = @_;
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/parquet_duckdb.mjs", 'query', @sql ],
		'>', \$out, '2>', \$err)
	  or die "duckdb failed: $err";
	# keep UTF-8 as bytes, like the psql output it is compared with
	return JSON::PP->new->decode($out);
}

# Rows of a Postgres query as arrays of text ('<NULL>' for null).
sub pg_rows
{
	my ($sql) = @_;
	my $out = $node->safe_psql('postgres', $sql,
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	return [ map { [ split /\x1f/, $_, -1 ] } split /\n/, $out ];
}

sub num_eq { my ($a, $b) = @_; return $a eq $b || (($a =~ /^[-+0-9.eE]+$/) && ($b =~ /^[-+0-9.eE]+$/) && $a == $b); }

# Compare two row sets cell by cell; $kinds->[i] 'f' = float, 'fl' = float list.
sub same_rows
{
	my ($got, $want, $kinds, $name) = @_;
	if (@$got != @$want)
	{
		fail("$name: " . scalar(@$got) . " rows, expected " . scalar(@$want));
		return;
	}
	for my $r (0 .. $#$want)
	{
		for my $c (0 .. $#{ $want->[$r] })
		{
			my $g = $got->[$r][$c] // '<NULL>';
			my $w = $want->[$r][$c] // '<NULL>';
			my $k = $kinds->[$c] // '';
			my $ok;
			if ($g eq '<NULL>' || $w eq '<NULL>') { $ok = $g eq $w; }
			elsif ($k eq 'f') { $ok = num_eq($g, $w); }
			elsif ($k eq 'fl')
			{
				my @a = split /,\s*/, ($g =~ s/^[\[{]|[\]}]$//gr);
				my @b = split /,\s*/, ($w =~ s/^[\[{]|[\]}]$//gr);
				$ok = @a == @b && !grep { !num_eq($a[$_], $b[$_]) } 0 .. $#a;
			}
			else { $ok = $g eq $w; }
			if (!$ok)
			{
				fail("$name: row $r column $c: got '$g', expected '$w'");
				return;
			}
		}
	}
	pass("$name: " . scalar(@$want) . " rows identical");
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
CREATE TABLE t (
  id int8 NOT NULL, b bool, i2 int2, i4 int4, f4 float4, f8 float8,
  n numeric(12,3), nu numeric, nbig numeric(30,5),
  s text, vc varchar(20), j jsonb, js json, by bytea, u uuid, d date,
  ts timestamp, tstz timestamptz, v vector(4), hv halfvec(3));
INSERT INTO t
SELECT g,
  CASE WHEN g % 7 = 1 THEN NULL ELSE g % 3 = 0 END,
  CASE WHEN g % 7 = 2 THEN NULL ELSE (g * 37 % 65536 - 32768) END,
  CASE WHEN g % 7 = 3 THEN NULL ELSE (g::int8 * 100003 % 2147483647 - 1000000000) END,
  CASE WHEN g % 7 = 4 THEN NULL ELSE (g % 64)::real / 8 - 3 END,
  CASE WHEN g % 7 = 5 THEN NULL ELSE g::float8 / 1024 - 1 END,
  CASE WHEN g % 7 = 6 THEN NULL ELSE g * 1.234 - 1000 END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE (g - 1500)::numeric / 7 END,
  CASE WHEN g % 7 = 1 THEN NULL ELSE (g - 1500) * 12345678901234567.89 END,
  CASE WHEN g % 7 = 2 THEN NULL WHEN g % 11 = 0 THEN '' ELSE 'str ' || g || repeat('é', g % 5) END,
  CASE WHEN g % 7 = 3 THEN NULL ELSE 'v' || (g % 10) END,
  CASE WHEN g % 7 = 4 THEN NULL ELSE jsonb_build_object('k', g, 'a', array[g, g + 1]) END,
  CASE WHEN g % 7 = 5 THEN NULL ELSE ('{"x": ' || g || '}')::json END,
  CASE WHEN g % 7 = 6 THEN NULL ELSE decode(md5(g::text), 'hex') END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text)::uuid END,
  CASE WHEN g % 7 = 1 THEN NULL ELSE date '1970-01-01' + (g * 13 - 20000) END,
  CASE WHEN g % 7 = 2 THEN NULL ELSE timestamp '1980-01-01' + g * interval '1 hour 1.123456 second' END,
  CASE WHEN g % 7 = 3 THEN NULL ELSE timestamptz '2020-06-01 00:00:00+00' - g * interval '1 day 0.5 sec' END,
  CASE WHEN g % 7 = 4 THEN NULL ELSE array[(g % 8) / 4.0, -(g % 5), g / 2.0, 0.25]::vector(4) END,
  CASE WHEN g % 7 = 5 THEN NULL ELSE array[(g % 4) * 0.5, 1, -2]::halfvec(3) END
FROM generate_series(1, 3000) g;
});

my @cols = qw(id b i2 i4 f4 f8 n nu nbig s vc j js by u d ts tstz v hv);
my $kinds = [ '', '', '', '', 'f', 'f', '', '', '', '', '', '', '', '', '', '', '', '', 'fl', '' ];

my $pg_canon = q{
SELECT id, b::text, i2, i4, f4, f8, n, round(nu, 16), nbig, s, vc, j::text, js::text,
  encode(by, 'hex'), u, d, (extract(epoch FROM ts) * 1000000)::int8,
  (extract(epoch FROM tstz) * 1000000)::int8, array_to_string(v::real[], ','), NULL::text
FROM t ORDER BY id};

# halfvec bytes computed here from the exact values (independent of vlake)
my $want = pg_rows($pg_canon);
for my $row (@$want)
{
	my $g = $row->[0];
	$row->[19] = ($g % 7 == 5) ? '<NULL>' : half_hex(($g % 4) * 0.5, 1, -2);
}

sub duck_canon
{
	my ($file) = @_;
	return "SELECT id, b, i2, i4, f4, f8, n, nu, nbig, s, vc, j, js, lower(hex(\"by\")), u, d, "
	  . "epoch_us(ts), epoch_us(tstz), array_to_string(v, ','), lower(hex(hv)) "
	  . "FROM read_parquet('$file') ORDER BY id";
}

my %want_type = (
	id => 'BIGINT', b => 'BOOLEAN', i2 => 'SMALLINT', i4 => 'INTEGER', f4 => 'FLOAT',
	f8 => 'DOUBLE', n => 'DECIMAL(12,3)', nu => 'DECIMAL(38,16)', nbig => 'DECIMAL(30,5)',
	s => 'VARCHAR', vc => 'VARCHAR', j => 'JSON', js => 'JSON', by => 'BLOB', u => 'UUID',
	d => 'DATE', ts => 'TIMESTAMP', tstz => 'TIMESTAMP WITH TIME ZONE', v => 'FLOAT[]',
	hv => 'BLOB');

my %cases = (
	default => '{}',
	snappy_plain => '{"compression": "snappy", "dictionary": false}',
	gzip_groups => '{"compression": "gzip", "row_group_rows": 1000, "page_bytes": 4096}',
	lz4_small_pages => '{"compression": "lz4_raw", "row_group_rows": 700, "page_rows": 50}',
	mixed => '{"compression": "none", "columns": {"s": {"compression": "zstd", "dictionary": false, "field_id": 100}}, "metadata": {"origin": "tap"}}',
	tiny_dict => '{"dictionary_max_bytes": 1024, "row_group_bytes": 65536}',
	column_pages => '{"compression": "none", "dictionary": false, "page_rows": 128, "columns": {"s": {"page_rows": 8, "compression": "zstd"}, "v": {"page_rows": 33}}}',
	encodings => '{"page_rows": 300, "columns": {"id": {"encoding": "delta_binary_packed"}, "i4": {"encoding": "delta_binary_packed"}, "f4": {"encoding": "byte_stream_split"}, "f8": {"encoding": "byte_stream_split"}, "s": {"encoding": "delta_length_byte_array"}}}',
);

for my $case (sort keys %cases)
{
	my $file = "$lake/$case.parquet";
	my $res = $node->safe_psql('postgres',
		"SELECT rows FROM vlake.parquet_write('file://$file', 'SELECT * FROM t ORDER BY id', '$cases{$case}')");
	is($res, '3000', "$case: vlake wrote 3000 rows");
	same_rows(duck(duck_canon($file)), $want, $kinds, "$case: DuckDB reads vlake's values");

	my $types = duck("DESCRIBE SELECT * FROM read_parquet('$file')");
	my %got = map { $_->[0] => $_->[1] } @$types;
	is_deeply(\%got, \%want_type, "$case: DuckDB sees the expected types");

	my $meta = duck("SELECT path_in_schema, compression, encodings, row_group_id FROM parquet_metadata('$file')");
	my %codec = map { $_->[0] => $_->[1] } @$meta;
	my $want_codec = {
		default => 'ZSTD', snappy_plain => 'SNAPPY', gzip_groups => 'GZIP',
		lz4_small_pages => 'LZ4_RAW', mixed => 'UNCOMPRESSED', tiny_dict => 'ZSTD',
		column_pages => 'UNCOMPRESSED',
		encodings => 'ZSTD' }->{$case};
	is($codec{id}, $want_codec, "$case: compression $want_codec");
	if ($case eq 'mixed')
	{
		is($codec{s}, 'ZSTD', 'mixed: per-column compression');
		my $fid = duck("SELECT field_id FROM parquet_schema('$file') WHERE name = 's'");
		is($fid->[0][0], '100', 'mixed: field id from the column options');
		my $fid2 = duck("SELECT field_id FROM parquet_schema('$file') WHERE name = 'tstz'");
		is($fid2->[0][0], '18', 'mixed: default field id is the attribute number');
		my $kv = duck("SELECT decode(value) FROM parquet_kv_metadata('$file') WHERE decode(key) = 'origin'");
		is($kv->[0][0], 'tap', 'mixed: key-value metadata');
	}
	my @dict = grep { $_->[2] =~ /RLE_DICTIONARY/ } @$meta;
	if ($case eq 'snappy_plain')
	{
		is(scalar(@dict), 0, "$case: no dictionary encoding");
	}
	elsif ($case eq 'default')
	{
		ok((grep { $_->[0] eq 'vc' } @dict), "$case: low-cardinality column is dictionary-encoded");
	}
	if ($case eq 'encodings')
	{
		my %enc = map { $_->[0] => $_->[2] } @$meta;
		like($enc{id}, qr/DELTA_BINARY_PACKED/, 'encodings: bigint as DELTA_BINARY_PACKED');
		like($enc{i4}, qr/DELTA_BINARY_PACKED/, 'encodings: integer as DELTA_BINARY_PACKED');
		like($enc{f8}, qr/BYTE_STREAM_SPLIT/, 'encodings: double as BYTE_STREAM_SPLIT');
		like($enc{s}, qr/DELTA_LENGTH_BYTE_ARRAY/, 'encodings: text as DELTA_LENGTH_BYTE_ARRAY');
	}
	my %groups = map { $_->[3] => 1 } @$meta;
	my $want_groups = { gzip_groups => 3, lz4_small_pages => 5 }->{$case} // 1;
	$want_groups = scalar(keys %groups) if $case eq 'tiny_dict';
	is(scalar(keys %groups), $want_groups, "$case: $want_groups row groups");
}

# Statistics: per row group min/max/null count equal what Postgres computes.
{
	my $file = "$lake/gzip_groups.parquet";
	my $stats = duck("SELECT row_group_id, stats_min_value, stats_max_value, stats_null_count "
		  . "FROM parquet_metadata('$file') WHERE path_in_schema = 'i4' ORDER BY row_group_id");
	my $pg = pg_rows("SELECT (id - 1) / 1000, min(i4), max(i4), count(*) - count(i4) "
		  . "FROM t GROUP BY 1 ORDER BY 1");
	same_rows($stats, $pg, [], 'row-group statistics of i4 match Postgres');
	my $sstats = duck("SELECT stats_min_value, stats_max_value "
		  . "FROM parquet_metadata('$file') WHERE path_in_schema = 's' ORDER BY row_group_id");
	my $spg = pg_rows("SELECT min(s COLLATE \"C\"), max(s COLLATE \"C\") FROM t GROUP BY (id - 1) / 1000 ORDER BY (id - 1) / 1000");
	same_rows($sstats, $spg, [], 'row-group statistics of a text column match Postgres (byte order)');
}

# The vector ColumnGroup: DuckDB reads FLOAT[]; vlake takes rows by number.
{
	my $file = "$lake/vectors.parquet";
	$node->safe_psql('postgres',
		"SELECT vlake.parquet_write('file://$file', 'SELECT v AS embedding FROM t ORDER BY id', '{\"layout\": \"vector\", \"page_rows\": 64}')");
	my $d = duck("SELECT file_row_number, array_to_string(embedding, ',') FROM read_parquet('$file', file_row_number = true) ORDER BY 1");
	my $p = pg_rows("SELECT id - 1, array_to_string(v::real[], ',') FROM t ORDER BY id");
	same_rows($d, $p, [ '', 'fl' ], 'vector ColumnGroup: DuckDB reads the vectors');
	my $types = duck("DESCRIBE SELECT * FROM read_parquet('$file')");
	is($types->[0][1], 'FLOAT[]', 'vector ColumnGroup: DuckDB type FLOAT[]');

	my @rows = (2999, 0, 63, 64, 65, 127, 128, 1000, 3, 10, 11, 1000, 2998);
	my $list = join(',', @rows);
	my $take = pg_rows("SELECT row_number, array_to_string(embedding, ',') FROM vlake.vector_cg_take('file://$file', '{$list}') ORDER BY ord");
	my $dt = duck("SELECT file_row_number, array_to_string(embedding, ',') FROM read_parquet('$file', file_row_number = true) WHERE file_row_number IN ($list)");
	my %dmap = map { $_->[0] => $_->[1] // '<NULL>' } @$dt;
	same_rows($take, [ map { [ $_, $dmap{$_} ] } @rows ], [ '', 'fl' ],
		'vector_cg_take returns the rows DuckDB reads at those positions');

	# take reads only the needed ranges: a larger null-free ColumnGroup,
	# memory cache off so the object-store counters see every byte
	my $nn = "$lake/vectors_big.parquet";
	$node->safe_psql('postgres',
		"SELECT vlake.parquet_write('file://$nn', 'SELECT array_fill(g::real, ARRAY[64])::vector(64) FROM generate_series(0, 19999) g', '{\"layout\": \"vector\"}')");
	my $io = $node->safe_psql('postgres', qq{
		SET vlake.cache_memory_size = 0;
		SELECT vlake.io_stats_reset();
		SELECT string_agg(embedding[1]::text || '/' || embedding[64]::text, ',' ORDER BY ord)
		  FROM vlake.vector_cg_take('file://$nn', '{5,9000,17000,19999,5}');
		SELECT bytes_read, get_requests FROM vlake.io_stats WHERE prefix = 'file://$lake/'});
	my @lines = split /\n/, $io;
	is($lines[-2], '5/5,9000/9000,17000/17000,19999/19999,5/5', 'take of a 20000-row ColumnGroup returns the right vectors');
	my ($bytes, $gets) = split /\|/, $lines[-1];
	# opening checks both magics: the leading "PAR1" (4 bytes) goes with the
	# footer tail (64 KiB) in one request
	cmp_ok($bytes, '<=', 4 + 65536 + 4 * 256,
		"take of 4 distinct rows reads the magic, the footer tail and 4 vectors only ($bytes bytes)");
	cmp_ok($gets, '<=', 6, "... in at most 6 requests ($gets)");
}

# ------------------------------------------------ DuckDB writes, vlake reads --
# DuckDB writes the same data with varied options; vlake's reader
# (vlake.parquet_read) must return exactly what DuckDB reads from its own file.
{
	my $gen = q{
SELECT g::BIGINT AS id,
  CASE WHEN g % 7 = 1 THEN NULL ELSE g % 3 = 0 END AS b,
  CASE WHEN g % 7 = 2 THEN NULL ELSE (g * 37 % 65536 - 32768)::INTEGER END AS i4,
  CASE WHEN g % 7 = 3 THEN NULL ELSE ((g % 64)::FLOAT / 8)::FLOAT END AS f4,
  CASE WHEN g % 7 = 4 THEN NULL ELSE (g / 1024.0 - 1)::DOUBLE END AS f8,
  CASE WHEN g % 7 = 5 THEN NULL ELSE (g * 1.25 - 100)::DECIMAL(12,3) END AS n,
  CASE WHEN g % 7 = 6 THEN NULL WHEN g % 11 = 0 THEN '' ELSE 'str ' || g || repeat('é', (g % 5)::INTEGER) END AS s,
  CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' || (g % 10) END AS vc,
  CASE WHEN g % 7 = 1 THEN NULL ELSE DATE '1970-01-01' + (g * 13 - 20000)::INTEGER END AS d,
  CASE WHEN g % 7 = 2 THEN NULL ELSE TIMESTAMP '1980-01-01' + to_microseconds(g * 3601123456) END AS ts,
  CASE WHEN g % 7 = 3 THEN NULL WHEN g % 13 = 0 THEN []::FLOAT[] ELSE [(g % 8) / 4.0, -(g % 5), g / 2.0]::FLOAT[] END AS l,
  CASE WHEN g % 7 = 4 THEN NULL ELSE md5(g::VARCHAR)::UUID END AS u,
  CASE WHEN g % 7 = 5 THEN NULL ELSE g::BIGINT * 1000000007 END AS big
FROM range(1, 3001) t(g)};
	my %dcases = (
		d_uncompressed => 'COMPRESSION uncompressed',
		d_snappy => 'COMPRESSION snappy',
		d_gzip_groups => 'COMPRESSION gzip, ROW_GROUP_SIZE 1000',
		d_zstd_v2 => 'COMPRESSION zstd, PARQUET_VERSION V2',
		d_lz4_v2_groups => 'COMPRESSION lz4_raw, PARQUET_VERSION V2, ROW_GROUP_SIZE 700',
		d_no_dictionary => 'COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 1',
	);
	my $dkinds = [ '', '', '', 'f', 'f', '', '', '', '', '', 'fl', '', '' ];
	for my $case (sort keys %dcases)
	{
		my $file = "$lake/$case.parquet";
		duck("COPY ($gen) TO '$file' (FORMAT parquet, $dcases{$case})");
		chmod 0644, $file;
		my $d = duck("SELECT id, b, i4, f4, f8, n, s, vc, d, epoch_us(ts), "
			  . "CASE WHEN l IS NULL THEN NULL ELSE '[' || array_to_string(l, ',') || ']' END, u, big "
			  . "FROM read_parquet('$file') ORDER BY id");
		my $p = pg_rows("SELECT id, b::text, i4, f4, f8, n, s, vc, d, "
			  . "(extract(epoch FROM ts) * 1000000)::int8, '[' || array_to_string(l, ',') || ']', u, big "
			  . "FROM vlake.parquet_read('file://$file') AS t(id int8, b bool, i4 int4, f4 real, f8 float8, "
			  . "n numeric, s text, vc text, d date, ts timestamp, l real[], u uuid, big int8) ORDER BY id");
		same_rows($p, $d, $dkinds, "$case: vlake reads what DuckDB wrote ($dcases{$case})");
	}
	my $enc = duck("SELECT DISTINCT unnest(string_split(encodings, ', ')) FROM parquet_metadata('$lake/d_zstd_v2.parquet') ORDER BY 1");
	ok((grep { $_->[0] =~ /DELTA/ } @$enc), 'the V2 file exercises DELTA encodings: ' . join(',', map { $_->[0] } @$enc));
}

# Bad input: a truncated file and a non-take-able file give clear errors.
{
	my $file = "$lake/vectors.parquet";
	my $cut = "$lake/cut.parquet";
	open(my $in, '<:raw', $file) or die;
	local $/;
	my $bytes = <$in>;
	close $in;
	open(my $out, '>:raw', $cut) or die;
	print $out substr($bytes, 0, length($bytes) - 100);
	close $out;
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT * FROM vlake.vector_cg_take('file://$cut', '{1}')");
	like($stderr, qr/invalid Parquet file ".*cut\.parquet"/, 'truncated file: ERROR names the file');
	($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT * FROM vlake.vector_cg_take('file://$lake/default.parquet', '{1}', 'v')");
	like($stderr, qr/cannot read Parquet file ".*default\.parquet": not laid out for take by row/,
		'compressed file: ERROR names the file and says it is not take-able');
}

# ------------------------------------------- S3: cold take fetches <= 2x --
# A 100,000-row vector ColumnGroup (128 dimensions) on the S3 test server,
# written as a multipart upload; in a fresh session with the disk cache off,
# taking 1,000 random rows must return the right vectors and fetch at most
# twice their bytes (object-store counters).
SKIP:
{
	skip 'S3 test server not running', 4 unless s3_available();
	my $root = s3_setup_node($node);
	my $uri = $root . s3_unique_prefix('parquet') . 'vec100k.parquet';
	$node->safe_psql('postgres', qq{SET vlake.s3_part_size = '5MB';
		SELECT vlake.parquet_write('$uri',
		  'SELECT array_fill((g % 1000)::real, ARRAY[128])::vector(128) FROM generate_series(0, 99999) g',
		  '{"layout": "vector"}')});
	my $out = $node->safe_psql('postgres', qq{
		SET vlake.cache_size = 0;
		SELECT setseed(0.5);
		CREATE TEMP TABLE ids AS SELECT DISTINCT (random() * 99999)::int8 AS r FROM generate_series(1, 1000);
		SELECT vlake.io_stats_reset();
		SELECT count(*), count(*) FILTER (WHERE t.embedding = array_fill((t.row_number % 1000)::real, ARRAY[128]))
		  FROM vlake.vector_cg_take('$uri', (SELECT array_agg(r) FROM ids)) t;
		SELECT sum(bytes_read), sum(get_requests), (SELECT count(*) * 512 FROM ids) FROM vlake.io_stats WHERE prefix LIKE 's3://%'});
	my @l = split /\n/, $out;
	my ($n, $ok) = split /\|/, $l[-2];
	my ($bytes, $gets, $want) = split /\|/, $l[-1];
	cmp_ok($n, '>', 900, "S3: took $n distinct random rows");
	is($ok, $n, 'S3: every vector taken is the one written');
	cmp_ok($bytes, '<=', 2 * $want, "S3: cold take read $bytes bytes for $want bytes of vectors (<= 2x)");
	cmp_ok($gets, '<=', 4, "S3: in $gets GET calls");
}

$node->stop;
done_testing();
