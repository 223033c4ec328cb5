# Object-store conformance: the same checks against every lake root.
#
# file:// always; s3:// when the S3 test server is running (scripts/test.sh
# exports VLAKE_TEST_S3_*).  Every read is checked against bytes this script
# generated itself (the oracle), never against vlake's own output.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $lake = PostgreSQL::Test::Utils::tempdir('lake');

my $node = PostgreSQL::Test::Cluster->new('objstore');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'vlake'
vlake.allowed_file_roots = '$lake'
max_connections = 40
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

# The roots under test.  Adding a store is one line here.
my @roots = ("file://$lake/conformance/");
push @roots, VlakeS3::s3_setup_node($node) . "conformance-$$/"
  if $ENV{VLAKE_TEST_S3_ENDPOINT} && eval { require VlakeS3; 1 };

sub sq { return $node->safe_psql('postgres', $_[0]); }
sub lit { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

# Deterministic pseudo-random bytes (xorshift), independent of vlake.
sub oracle_bytes
{
	my ($len, $seed) = @_;
	my $x = $seed || 1;
	my $out = '';
	while (length($out) < $len)
	{
		$x ^= ($x << 13) & 0xffffffff;
		$x ^= $x >> 17;
		$x ^= ($x << 5) & 0xffffffff;
		$out .= pack('V', $x);
	}
	return substr($out, 0, $len);
}
sub hexlit { return "'\\x" . unpack('H*', $_[0]) . "'::bytea"; }

sub stats_of
{
	my ($out, $prefix) = @_;
	my @cols = qw(head_requests get_requests bytes_requested bytes_read bytes_from_disk
	  disk_hits disk_misses disk_fill_bytes);
	my ($line) = grep { /^stats\|/ } split /\n/, $out;
	die "no stats line in: $out" unless defined $line;
	my @v = split /\|/, $line;
	shift @v;
	my %h;
	@h{@cols} = @v;
	return \%h;
}
sub stats_query
{
	my $prefix = lit(shift);
	return "SELECT 'stats', head_requests, get_requests, bytes_requested, bytes_read, "
	  . "bytes_from_disk, disk_hits, disk_misses, disk_fill_bytes "
	  . "FROM vlake.io_stats WHERE prefix = $prefix;";
}

foreach my $root (@roots)
{
	note "conformance against $root";
	my $u = sub { lit($root . $_[0]) };

	# ---- put, get, ranges, multi-range ----
	my $data = oracle_bytes(300_000, 7);
	sq("SELECT vlake.lake_write(" . $u->('blob') . ", " . hexlit($data) . ")");
	is(sq("SELECT size FROM vlake.lake_stat(" . $u->('blob') . ")"), length($data), "$root: head size");
	is(sq("SELECT encode(vlake.lake_read(" . $u->('blob') . "), 'hex')"), unpack('H*', $data), "$root: whole get");
	foreach my $r ([0, 1], [4095, 4098], [299_999, 1], [150_000, 0], [123_457, 65_536])
	{
		my ($o, $l) = @$r;
		is(sq("SELECT encode(vlake.lake_read(" . $u->('blob') . ", $o, $l), 'hex')"),
			unpack('H*', substr($data, $o, $l)), "$root: range $o+$l");
	}
	my @offs = (200_000, 3, 4096, 4000, 299_990);
	my @lens = (10, 4096, 4096, 200, 10);
	my $got = sq("SELECT encode(x, 'hex') FROM unnest(vlake.lake_read_ranges(" . $u->('blob')
		  . ", ARRAY[" . join(',', @offs) . "], ARRAY[" . join(',', @lens) . "])) WITH ORDINALITY t(x, n) ORDER BY n");
	is($got, join("\n", map { unpack('H*', substr($data, $offs[$_], $lens[$_])) } 0 .. $#offs),
		"$root: multi-range get");
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT vlake.lake_read(" . $u->('blob') . ", 299990, 11)");
	like($err, qr/beyond the end of lake object "\Q${root}blob\E"/, "$root: short object error names the URI");

	# ---- list with more than 1,000 keys, then delete ----
	sq("SELECT vlake.lake_write(" . lit($root . 'many/')
		  . " || lpad(i::text, 5, '0'), convert_to(i::text, 'UTF8')) FROM generate_series(1, 1234) i");
	my @expect = map { sprintf('%05d', $_) } 1 .. 1234;
	is(sq("SELECT string_agg(key, ',' ORDER BY ord) FROM vlake.lake_list(" . $u->('many/') . ") WITH ORDINALITY t(key, size, etag, ord)"),
		join(',', @expect), "$root: list of 1,234 keys complete and sorted");
	is(sq("SELECT sum(size) FROM vlake.lake_list(" . $u->('many/') . ")"),
		eval { my $s = 0; $s += length($_ + 0) for 1 .. 1234; $s }, "$root: listed sizes");
	is(sq("SELECT vlake.lake_delete_many(" . $u->('many/') . ", array_agg(lpad(i::text, 5, '0'))) FROM generate_series(1, 1234, 2) i"),
		617, "$root: delete many");
	sq("SELECT vlake.lake_delete(" . $u->('many/00002') . ")");
	sq("SELECT vlake.lake_delete(" . $u->('many/00002') . ")");
	is(sq("SELECT string_agg(key, ',' ORDER BY key) FROM vlake.lake_list(" . $u->('many/') . ")"),
		join(',', grep { $_ % 2 == 0 && $_ != 2 } @expect), "$root: delete removes exactly the deleted keys");

	# ---- put-if-absent race: N creators, exactly one wins ----
	my $n = 8;
	foreach my $round (1 .. 3)
	{
		my $key = "race/$round";
		my $holder = $node->background_psql('postgres');
		$holder->query_safe('SELECT pg_advisory_lock(4242)');
		my @s;
		foreach my $i (1 .. $n)
		{
			my $bg = $node->background_psql('postgres');
			$bg->query_until(qr/ready/,
				"\\echo ready\nSELECT pg_advisory_lock_shared(4242);\n"
				  . "SELECT 'result:' || vlake.lake_write_if_absent(" . $u->($key) . ", 'creator $i');\n");
			push @s, $bg;
		}
		$node->poll_query_until('postgres',
			"SELECT count(*) = $n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
		  or die "creators did not line up";
		$holder->query_safe('SELECT pg_advisory_unlock(4242)');
		my (@winners);
		foreach my $i (1 .. $n)
		{
			my $o = $s[ $i - 1 ]->query_safe("SELECT 'end'");
			die "no result from creator $i: $o" unless $o =~ /result:([tf])/;
			push @winners, $i if $1 eq 't';
			$s[ $i - 1 ]->quit;
		}
		$holder->quit;
		is(scalar(@winners), 1, "$root: round $round: exactly one of $n concurrent creators wins");
		is(sq("SELECT convert_from(vlake.lake_read(" . $u->($key) . "), 'UTF8')"),
			"creator $winners[0]", "$root: round $round: the object holds the winner's bytes");
	}

	# ---- If-Match: concurrent read-modify-write loses no update ----
	sq("SELECT vlake.lake_write(" . $u->('counter') . ", '0')");
	my @w;
	my $per = 15;
	foreach my $i (1 .. 4)
	{
		my $bg = $node->background_psql('postgres');
		$bg->query_until(qr/go/, "\\echo go\n" . qq{DO \$\$
DECLARE e text; v int; ok bool;
BEGIN
  FOR j IN 1..$per LOOP
    LOOP
      SELECT etag INTO e FROM vlake.lake_stat(${\ $u->('counter')});
      v := convert_from(vlake.lake_read(${\ $u->('counter')}), 'UTF8')::int;
      ok := vlake.lake_write_if_match(${\ $u->('counter')}, convert_to((v + 1)::text, 'UTF8'), e);
      EXIT WHEN ok;
    END LOOP;
  END LOOP;
END \$\$;
});
		push @w, $bg;
	}
	$_->query_safe("SELECT 1") for @w;
	$_->quit for @w;
	is(sq("SELECT convert_from(vlake.lake_read(" . $u->('counter') . "), 'UTF8')"), 4 * $per,
		"$root: 4 concurrent If-Match writers lose no update");

	# ---- kill -9 during a streamed write leaves nothing visible ----
	my $victim = $node->background_psql('postgres', on_error_stop => 0);
	$victim->query_until(qr/writing/, "\\echo writing\n"
		  . "SELECT vlake.lake_write_agg(" . $u->('killed/obj') . ", decode(repeat('ab', 65536), 'hex')) "
		  . "FROM generate_series(1, 20) i WHERE CASE WHEN i = 10 THEN pg_sleep(600)::text IS NOT NULL ELSE true END;\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%lake_write_agg%'")
	  or die "streamed write did not start";
	my $pid = sq("SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%lake_write_agg%'");
	if ($root =~ m{^file://(.*)$})
	{
		my @tmp = glob("$1killed/.vlake-tmp.*");
		ok(@tmp == 1 && -s $tmp[0] >= 9 * 65536, "$root: the streamed write is under way in a temporary file");
	}
	kill 'KILL', $pid;
	eval { $victim->quit; };
	$node->poll_query_until('postgres', 'SELECT 1', '1') or die "server did not come back";
	is(sq("SELECT count(*) FROM vlake.lake_stat(" . $u->('killed/obj') . ")"), 0,
		"$root: after kill -9 the object does not exist");
	is(sq("SELECT count(*) FROM vlake.lake_list(" . $u->('killed/') . ")"), 0,
		"$root: after kill -9 nothing is listed");
	if ($root =~ m{^file://(.*)$})
	{
		my $dir = "$1killed";
		is(sq("SELECT vlake.lake_reclaim_temporaries(" . $u->('killed/') . ", '1 hour')"), 0,
			"$root: a recent leftover is not reclaimed");
		is(sq("SELECT vlake.lake_reclaim_temporaries(" . $u->('killed/') . ", '0')"), 1,
			"$root: the leftover of the killed write is reclaimed");
		is(scalar(() = glob("$dir/.vlake-tmp.*")), 0, "$root: no temporary file remains");
	}

	# ---- cache: exact hit/miss counting, validation after replace, restart ----
	my $cset = "SET vlake.cache_file_uris = on; SET vlake.cache_block_size = '4kB'; "
	  . "SET vlake.cache_memory_size = 0; SELECT vlake.io_stats_reset();";
	my $big = oracle_bytes(1 << 20, 11);
	sq("SELECT vlake.lake_write(" . $u->('cache/big') . ", " . hexlit($big) . ")");
	my @co = (8192, 409_600, 1_044_480);
	my $rd = "SELECT 'data', encode(x, 'hex') FROM unnest(vlake.lake_read_ranges(" . $u->('cache/big')
	  . ", ARRAY[" . join(',', @co) . "], ARRAY[4096,4096,4096])) WITH ORDINALITY t(x, n) ORDER BY n;";
	my $want = join("\n", map { "data|" . unpack('H*', substr($big, $_, 4096)) } @co);
	my $cold = sq("$cset $rd " . stats_query($root . 'cache/'));
	like($cold, qr/\Q$want\E/, "$root: cold ranges read correctly");
	my $st = stats_of($cold);
	is_deeply([ @$st{qw(bytes_requested bytes_read disk_misses disk_hits disk_fill_bytes bytes_from_disk)} ],
		[ 12288, 12288, 3, 0, 12288, 0 ],
		"$root: cold cache: 3 x 4 KiB counted as exactly 12,288 bytes read, 3 misses");
	my $warm = sq("$cset $rd " . stats_query($root . 'cache/'));
	like($warm, qr/\Q$want\E/, "$root: warm ranges read correctly");
	$st = stats_of($warm);
	is_deeply([ @$st{qw(bytes_requested bytes_read disk_misses disk_hits bytes_from_disk)} ],
		[ 12288, 0, 0, 3, 12288 ], "$root: warm cache: 3 hits, nothing read from the store");

	$node->restart;
	$st = stats_of(sq("$cset $rd " . stats_query($root . 'cache/')));
	is_deeply([ @$st{qw(bytes_read disk_hits)} ], [ 0, 3 ], "$root: the disk cache survives a restart");

	# the object is replaced under the same key, with the same size
	my $big2 = oracle_bytes(1 << 20, 12);
	sq("SELECT vlake.lake_write(" . $u->('cache/big') . ", " . hexlit($big2) . ")");
	my $want2 = join("\n", map { "data|" . unpack('H*', substr($big2, $_, 4096)) } @co);
	my $after = sq("$cset $rd " . stats_query($root . 'cache/'));
	like($after, qr/\Q$want2\E/, "$root: after replace the new bytes are read, never stale ones");
	$st = stats_of($after);
	is_deeply([ @$st{qw(bytes_read disk_misses disk_hits)} ], [ 12288, 3, 0 ],
		"$root: after replace the old cache entries are not used");
}

# ---- eviction keeps the disk cache within its bound ----
{
	my $big = oracle_bytes(4 << 20, 5);
	my $root = $roots[0];
	sq("SELECT vlake.lake_write(" . lit($root . 'evict/big') . ", " . hexlit($big) . ")");
	my $cache = $node->data_dir . '/vlake_cache';
	my $cache_bytes = sub {
		my $t = 0;
		$t += -s $_ for glob("$cache/??/*");
		return $t;
	};
	sq("SELECT vlake.cache_sweep()");
	my $out = sq("SET vlake.cache_file_uris = on; SET vlake.cache_block_size = '64kB'; "
		  . "SET vlake.cache_size = '1MB'; SET vlake.cache_memory_size = 0; "
		  . "SELECT md5(vlake.lake_read(" . lit($root . 'evict/big') . ", 0, 4194304));");
	use Digest::MD5 qw(md5_hex);
	is($out, md5_hex($big), 'a 4 MiB read through a 1 MB cache returns the right bytes');
	my $total = $cache_bytes->();
	cmp_ok($total, '<=', 1 << 20,
		"with vlake preloaded, sweeps driven by the shared estimate keep the cache within 1 MB ($total bytes)");
	cmp_ok($total, '>', 0, 'the sweeps kept the most recent entries');
	# the per-bucket sweep (used on caches of more than 65,536 entries)
	sq("SET vlake.cache_file_uris = on; SET vlake.cache_block_size = '64kB'; SET vlake.cache_memory_size = 0; "
		  . "SELECT vlake.cache_sweep(); SET vlake.cache_size = '8MB'; "
		  . "SELECT md5(vlake.lake_read(" . lit($root . 'evict/big') . ", 0, 4194304));");
	my $before = $cache_bytes->();
	$out = sq("SET vlake.cache_sweep_exact_max = 0; SET vlake.cache_size = '2MB'; SELECT vlake.cache_sweep(); "
		  . "SET vlake.cache_file_uris = on; SET vlake.cache_block_size = '64kB'; SET vlake.cache_memory_size = 0; "
		  . "SELECT md5(vlake.lake_read(" . lit($root . 'evict/big') . ", 0, 4194304));");
	my $after = $cache_bytes->();
	cmp_ok($before, '>', 4 << 20, "the 4 MiB object is cached in an 8 MB cache ($before bytes)");
	cmp_ok($after, '<=', 2 << 20, "a per-bucket sweep brings it within 2 MB ($after bytes)");
	like($out, qr/\Q${\ md5_hex($big)}\E/, 'reads after a per-bucket sweep return the right bytes');
	sq("SET vlake.cache_size = 0; SELECT vlake.cache_sweep()");
	is($cache_bytes->(), 0, 'with vlake.cache_size = 0 an explicit sweep empties the cache');
}

# ---- concurrent readers, fills and evictions never deliver wrong bytes ----
{
	my $uri = lit($roots[0] . 'evict/shared');
	my $gen = "SELECT string_agg(decode(md5(i::text), 'hex'), '' ORDER BY i) FROM generate_series(1, 131072) i";
	sq("SELECT vlake.lake_write($uri, ($gen))");
	my @r;
	foreach my $k (1 .. 4)
	{
		my $bg = $node->background_psql('postgres');
		$bg->query_until(qr/go/, "\\echo go\n" . qq{
SET vlake.cache_file_uris = on; SET vlake.cache_block_size = '4kB';
SET vlake.cache_size = '1MB'; SET vlake.cache_memory_size = 0;
CREATE TEMP TABLE res (reads int, bad int);
DO \$\$
DECLARE blob bytea; bad int := 0; o int; l int;
BEGIN
  blob := ($gen);
  PERFORM setseed(0.$k);
  FOR j IN 1..300 LOOP
    o := floor(random() * (2097152 - 20000)); l := 1 + floor(random() * 20000);
    IF vlake.lake_read($uri, o, l) <> substring(blob from o + 1 for l) THEN bad := bad + 1; END IF;
  END LOOP;
  INSERT INTO res VALUES (300, bad);
END \$\$;
});
		push @r, $bg;
	}
	my $pfx = lit($roots[0] . 'evict/');
	my @res = map {
		$_->query_safe("SELECT 'res:' || reads || ':' || bad || ':' || "
			  . "(SELECT disk_hits > 0 AND disk_misses > 0 FROM vlake.io_stats WHERE prefix = $pfx) FROM res")
	} @r;
	$_->quit for @r;
	is(join(',', map { /res:(\d+:\d+:\w+)/ ? $1 : "none($_)" } @res), '300:0:true,300:0:true,300:0:true,300:0:true',
		'4 backends x 300 random reads through a 1 MB cache under constant eviction: no wrong byte');
}

$node->stop;
done_testing();
