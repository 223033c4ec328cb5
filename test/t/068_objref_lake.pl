# Object references in vlake tables (docs/objref.md), read by an independent
# engine, and never deleted by vlake:
#  - a vlake table with an objref column, over several published versions
#    (inserts, flushes, an update of lake rows, deletes): every version's
#    manifest is read straight from the lake directory with Node + DuckDB
#    (test/tools/table_manifest_read.mjs): its object_ref field, its rows
#    equal the table's at that version (the oracle, kept here), and the set
#    of objects the version references, decoded from DuckDB's text of the
#    JSON column, is the set the table referenced then; the SHA-256 and size
#    of each referenced object equal Perl's Digest::SHA of the file;
#  - DuckDB parses the segment's objref column as JSON (json_extract);
#  - GC: the referenced objects live next to the dataset root, inside it in
#    non-part paths, inside its data/ directory next to the parts, and even
#    in its deletes/ and _manifest/ directories; rows are deleted, the table
#    truncated, GC passes (vlake.table_gc with min age 0, retention 0)
#    remove every part the table no longer names, the table is dropped, and
#    every referenced object is still there, byte for byte.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use Digest::SHA qw(sha256_hex);
use File::Path qw(make_path);

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $root = "$lake/t";
my $node = PostgreSQL::Test::Cluster->new('objref_lake');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\n"
	  . "vlake.table_gc_min_age = 0\nvlake.table_retention = 0\n");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vlake;
	CREATE TABLE t (id int NOT NULL, r objref, note text) USING vlake WITH (location = 'file://$root');
});

# ---------------------------------------------------------------- objects --
# next to the dataset root, inside it (not a part), inside its data/ directory
my %objects = (
	beside  => "$lake/media/clip-beside.mp4",
	inside  => "$root/raw/clip-inside.mp4",
	in_data => "$root/data/clip-in-data.pdf",
	deeper  => "$root/data/not_a_part/frame.png",
	in_dels => "$root/deletes/user-clip.bin",
	in_mfst => "$root/_manifest/user-notes.json",
);
my %content;
for my $k (sort keys %objects)
{
	(my $dir = $objects{$k}) =~ s{/[^/]+$}{};
	make_path($dir);
	my $bytes = join('', map { chr(($_ * 7 + length($k)) % 256) } 1 .. (1000 + 337 * length($k)));
	open(my $fh, '>:raw', $objects{$k}) or die;
	print $fh $bytes;
	close $fh;
	$content{$k} = $bytes;
}

sub lake_read
{
	my @args = @_;
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $root, @args ],
		'>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	return JSON::PP->new->decode($out);
}

sub duckdb
{
	my ($sql) = @_;
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/parquet_duckdb.mjs", 'query', $sql ], '>', \$out, '2>', \$err)
	  or die "duckdb failed: $err";
	return JSON::PP->new->decode($out);
}

# The table's rows (id, r as text, note) and its distinct references.
sub pg_state
{
	my $out = $node->safe_psql('postgres', "SELECT id, r::text, note FROM t ORDER BY id",
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	my @rows = map { [ map { $_ eq '<NULL>' ? undef : $_ } split /\x1f/, $_, -1 ] } split /\n/, $out;
	my $refs = $node->safe_psql('postgres',
		"SELECT string_agg(DISTINCT vlake.objref_uri(r), ' ' ORDER BY vlake.objref_uri(r)) FROM t");
	return { rows => \@rows, refs => $refs };
}

sub version
{
	return $node->safe_psql('postgres', "SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
}

my %oracle;    # version -> pg_state() right after the flush that made it
sub flush_and_record
{
	$node->safe_psql('postgres', "SELECT vlake.flush('t')");
	$oracle{ version() } = pg_state();
}

# ---------------------------------------------------------------- versions --
my $refsql = join(', ', map { "('$_', vlake.objref('file://$objects{$_}'))" } sort keys %objects);
$node->safe_psql('postgres', qq{
	SET vlake.copy_lake_threshold = 0;
	CREATE TEMP TABLE o (k text, r objref);
	INSERT INTO o VALUES $refsql;
	INSERT INTO t SELECT i, CASE WHEN i % 10 = 0 THEN NULL
	                             ELSE (SELECT r FROM o WHERE k IN ('beside', 'inside') ORDER BY k LIMIT 1 OFFSET i % 2) END,
	                     'n' || i
	  FROM generate_series(1, 300) i;
});
flush_and_record();
$node->safe_psql('postgres', qq{
	INSERT INTO t SELECT 1000 + i, vlake.objref('file://$objects{in_data}', 'application/pdf'), 'pdf' FROM generate_series(1, 50) i;
	INSERT INTO t VALUES (2000, vlake.objref('s3://elsewhere/never-read.mp4', 12, repeat('ab', 32), 'video/mp4'), 'by parts');
});
flush_and_record();
# an update of lake rows: the version after it references "deeper", no longer "inside"
$node->safe_psql('postgres', qq{
	UPDATE t SET r = vlake.objref('file://$objects{deeper}', 'image/png') WHERE vlake.objref_uri(r) LIKE '%clip-inside.mp4';
	DELETE FROM t WHERE id BETWEEN 1001 AND 1010;
});
flush_and_record();

my @versions = sort { $a <=> $b } keys %oracle;
cmp_ok(scalar(@versions), '>=', 3, 'three recorded versions: ' . join(',', @versions));
for my $v (@versions)
{
	my $lv = lake_read($v);
	is_deeply($lv->{fields}, [qw(id r note)], "v$v: fields");
	my $doc = JSON::PP->new->decode(do {
		local $/;
		open(my $fh, '<', sprintf("$root/_manifest/%020d.json", $v)) or die;
		<$fh>;
	});
	is($doc->{format_version}, 2, "v$v: format_version 2");
	is((grep { $_->{name} eq 'r' } @{ $doc->{schema}{fields} })[0]{type}, 'object_ref', "v$v: r is an object_ref field");
	my @got = sort { $a->[0] <=> $b->[0] } @{ $lv->{rows} };
	my $want = $oracle{$v}{rows};
	is(scalar(@got), scalar(@$want), "v$v: as many rows in the lake as in the table");
	my $bad = 0;
	for my $i (0 .. $#$want)
	{
		for my $c (0 .. 2)
		{
			next if (defined $got[$i][$c] ? $got[$i][$c] : "\0") eq (defined $want->[$i][$c] ? $want->[$i][$c] : "\0");
			diag("v$v: row $i col $c: lake " . ($got[$i][$c] // 'NULL') . ", table " . ($want->[$i][$c] // 'NULL'))
			  if $bad++ < 5;
		}
	}
	is($bad, 0, "v$v: every value (the objref text too) equals the table's");
	# the objects version v references, from the lake alone
	my %uris;
	for my $r (@got)
	{
		next unless defined $r->[1];
		my $ref = JSON::PP->new->decode($r->[1]);
		$uris{ $ref->{uri} } = $ref;
	}
	is(join(' ', sort keys %uris), $oracle{$v}{refs}, "v$v: the referenced objects are the table's");
	my $badref = 0;
	for my $ref (values %uris)
	{
		next unless $ref->{uri} =~ m{^file://(.*)$};
		my ($k) = grep { $objects{$_} eq $1 } keys %objects;
		$badref++ unless defined $k && $ref->{size} == length($content{$k})
		  && $ref->{sha256} eq sha256_hex($content{$k});
	}
	is($badref, 0, "v$v: each reference's size and sha256 are the object's (Digest::SHA)");
}

# DuckDB reads the objref column as JSON
my @files = map { $_ =~ s/^/$root\//r } split /\n/, $node->safe_psql('postgres',
	"SELECT f.path FROM vlake.files f WHERE f.relid = 't'::regclass AND 2 = ANY (f.attnums) ORDER BY 1");
ok(@files > 0, 'files hold the objref column');
my $list = join(', ', map { "'$_'" } @files);
my $dd = duckdb("SELECT json_extract_string(r, '\$.uri') AS uri, max(CAST(json_extract(r, '\$.size') AS BIGINT)) AS size,
	max(json_extract_string(r, '\$.sha256')) AS sha, max(json_extract_string(r, '\$.mime')) AS mime
	FROM read_parquet([$list]) WHERE r IS NOT NULL AND json_extract_string(r, '\$.uri') = 'file://$objects{in_data}' GROUP BY 1");
is_deeply($dd, [ [ "file://$objects{in_data}", length($content{in_data}), sha256_hex($content{in_data}), 'application/pdf' ] ],
	'DuckDB parses the objref JSON of the segment files');

# -------------------------------------------------------------------- GC --
sub parts
{
	opendir(my $d, "$root/data") or return ();
	# a removed part may leave its empty directory behind (file://)
	# glob in list context: in scalar context it iterates, per call site
	my @p = grep { /^db[0-9]+_rel/ && (() = glob("$root/data/$_/*")) } readdir($d);
	closedir $d;
	return @p;
}
my @old_parts = parts();
ok(scalar(@old_parts) > 0, 'the table has parts: ' . scalar(@old_parts));
$node->safe_psql('postgres', "DELETE FROM t WHERE id % 2 = 0");
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
$node->safe_psql('postgres', "TRUNCATE t");
$node->safe_psql('postgres', "INSERT INTO t VALUES (1, vlake.objref('file://$objects{beside}'), 'after truncate')");
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
# every part of before the TRUNCATE is unnamed now (retention 0): GC passes
# (vlake.table_gc, as the maintenance task runs them) mark, then remove them
my $gone = 0;
for (1 .. 60)
{
	$node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_gc('t', '0')");
	my %now = map { $_ => 1 } parts();
	if (!grep { $now{$_} } @old_parts) { $gone = 1; last; }
	sleep 1;
}
ok($gone, 'GC removed every part the truncated table no longer names');
my @live = split /\n/, $node->safe_psql('postgres', "SELECT path FROM vlake.files WHERE relid = 't'::regclass");
ok(@live && !(grep { !-f "$root/$_" } @live), 'the files of the segment written after the TRUNCATE stay');
is($node->safe_psql('postgres', "SELECT vlake.objref_verify(r) FROM t"), 't', 'its row still verifies');
$node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_gc('t', '0')") for 1 .. 3;
$node->safe_psql('postgres', "DROP TABLE t");
for my $k (sort keys %objects)
{
	ok(-f $objects{$k}, "object '$k' is still there");
	my $bytes = do { local $/; open(my $fh, '<:raw', $objects{$k}) or die; <$fh> };
	is(sha256_hex($bytes // ''), sha256_hex($content{$k}), "object '$k' is unchanged");
}

$node->stop;
done_testing();
