# The Parquet reader over s3:// (the objstore byte source) against the S3
# test server: a DuckDB-written file read back equals DuckDB's own reading
# (test/data/parquet/types.csv); on a vlake-written file with a page index,
# take of 1,000 random rows equals the generating query and costs two
# requests (offset indexes, then pages) after the footer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_setup_node s3_unique_prefix);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('pqread_s3');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'\nvlake.cache_size = 0\ntimezone = 'UTC'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $root = s3_setup_node($node);
my $base = $root . s3_unique_prefix('pqread');
sub sql { return $node->safe_psql('postgres', shift) }

# ---- a DuckDB-written file, uploaded as is
my $src = "$ENV{VLAKE_SRC}/test/data/parquet";
open(my $fh, '<:raw', "$src/types.parquet") or die $!;
my $bytes = do { local $/; <$fh> };
close $fh;
sql("SELECT vlake.lake_write('${base}types.parquet', '\\x" . unpack('H*', $bytes) . "'::bytea)");

my $cols = 'id bigint, i32 int, i16 int2, i8 int2, u32 int8, b bool, f real, d float8, s text, bin bytea,
  dt date, ts timestamp, tstz timestamptz, ts_ms timestamp, ts_ns timestamp, dec9 numeric, dec18 numeric,
  dec38 numeric, u uuid, vec real[], emb real[], ints int[], strs text[]';
sql("CREATE TABLE expected ($cols)");
sql("COPY expected FROM '$src/types.csv' WITH (FORMAT csv, NULL '\\N')");
is(sql("SELECT count(*) FROM vlake.parquet_read('${base}types.parquet') AS t($cols)"), '40', 'all rows over s3://');
is(sql("SELECT count(*) FROM (SELECT * FROM vlake.parquet_read('${base}types.parquet') AS t($cols)
        EXCEPT ALL SELECT * FROM expected) x"), '0', 'values equal what DuckDB reads');
is(sql("SELECT num_rows FROM vlake.parquet_file_info('${base}types.parquet')"), '40', 'file info over s3://');

# ---- page-indexed file written by vlake to S3; take touches only the pages
sql(q{CREATE VIEW oracle AS SELECT i::bigint AS id, 'n' || i AS name, ARRAY[i, -i]::real[] AS vec
      FROM generate_series(0, 199999) i});
sql("SELECT vlake.parquet_write('${base}big.parquet',
       'SELECT id, name, vec::vector AS vec FROM oracle', '{\"page_rows\": 1000, \"row_group_rows\": 100000}')");
is(sql("SELECT count(*) FROM (SELECT t.* FROM vlake.parquet_take('${base}big.parquet',
          (SELECT array_agg((i * 7919) % 200000) FROM generate_series(1, 1000) i)) AS t(id bigint, name text, vec real[])
        EXCEPT ALL SELECT o.* FROM generate_series(1, 1000) i JOIN oracle o ON o.id = (i * 7919) % 200000) x"),
	'0', 'take of 1,000 random rows equals the query');
my ($rows, $requests, $ranges, $bytes_read) = split /\|/, sql(
	"SELECT * FROM vlake.parquet_take_stats('${base}big.parquet', '{5,150000,99999}', '{id,vec}')");
is($rows, 3, 'three rows taken');
is($requests, 1, 'one request: the pages (the offset indexes came with the footer read)');
my $size = sql("SELECT file_size FROM vlake.parquet_file_info('${base}big.parquet')");
cmp_ok($bytes_read, '<', $size / 4, "take read $bytes_read of $size bytes");
is(sql("SELECT rows_returned || ',' || row_groups_skipped || ',' || pages_read || ',' || pages_skipped
        FROM vlake.parquet_scan_stats('${base}big.parquet', '{id}', 'id', '123000', '123999')"),
	'1000,1,1,99', 'pruning over s3://: one row group skipped by statistics, 99 of its 100 pages by the page index');

$node->stop;
done_testing();
