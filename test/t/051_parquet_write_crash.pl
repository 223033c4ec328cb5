# vlake.parquet_write under kill -9 and concurrent writers.
#  - A backend killed (SIGKILL) in the middle of a write leaves no visible
#    object (at most a temporary file, which garbage collection reclaims), and
#    the server recovers; a new write of the same name then succeeds.
#  - Two sessions writing different files at the same time both produce
#    complete files (checked by reading them back); a second write of an
#    existing name is refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $node = PostgreSQL::Test::Cluster->new('parquet_crash');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\nrestart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

# a slow, small query: 4,000 rows at 5 ms each (20 s), flushed every 100 rows
my $slow = "SELECT array_fill((g + length(pg_sleep(0.005)::text))::real, ARRAY[16])::vector(16) AS e FROM generate_series(1, 4000) g";

# ---- kill -9 during a write
my ($in, $out, $err) = ('', '', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  "SELECT vlake.parquet_write('file://$lake/killed.parquet', '$slow', '{\"layout\": \"vector\", \"row_group_rows\": 100}')" ],
	'<', \$in, '>', \$out, '2>', \$err);
my $pid = '';
for (1 .. 600)
{
	$pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE '%killed.parquet%' AND pid <> pg_backend_pid()");
	last if $pid ne '';
	usleep(50_000);
}
ok($pid ne '', 'the writing backend is running');
# wait until it has started streaming (a temporary file appears)
for (1 .. 600)
{
	opendir(my $d, $lake) or die;
	my @f = grep { /^\.vlake-tmp\./ } readdir($d);
	closedir $d;
	last if @f;
	usleep(50_000);
}
my $still_running = $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid");
is($still_running, '1', 'killed while the write is under way');
kill 'KILL', $pid;
$h->finish;
ok(!-e "$lake/killed.parquet", 'after kill -9 the object is not visible');
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not recover';
is($node->safe_psql('postgres',
	"SELECT rows FROM vlake.parquet_write('file://$lake/killed.parquet', 'SELECT g FROM generate_series(1, 10) g')"),
	'10', 'after recovery the same name can be written');

# ---- two concurrent writers of different files
my @h;
for my $i (1, 2)
{
	my ($o, $e) = ('', '');
	push @h, IPC::Run::start(
		[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c',
		  "SELECT rows FROM vlake.parquet_write('file://$lake/conc$i.parquet', 'SELECT g, g * $i AS v FROM generate_series(1, 200000) g')" ],
		'>', \$o, '2>', \$e);
}
$_->finish for @h;
for my $i (1, 2)
{
	is($node->safe_psql('postgres',
		"SELECT count(*), sum(v) FROM vlake.parquet_read('file://$lake/conc$i.parquet') AS t(g int, v int)"),
		'200000|' . (200000 * 200001 / 2 * $i), "concurrent writer $i produced a complete file");
}
my ($ret, $o2, $e2) = $node->psql('postgres',
	"SELECT vlake.parquet_write('file://$lake/conc1.parquet', 'SELECT 1')");
like($e2, qr/already exists/, 'an existing file is never overwritten');

$node->stop;
done_testing();
