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
#  - the object lists (docs/manifest.md, "Object lists"): each version's
#    manifest names one per group holding the objref column, and the objects
#    read from those lists by DuckDB (minus the rows the delete vectors list;
#    the tool checks every list row against the group's column) are exactly
#    the table's distinct references at that version, with their row
#    counts; vlake.table_objects as of that version says the same;
#  - retention: a compaction retires a group file and its list; while a
#    retained version names the list, the table GC keeps it; once no
#    retained version does (retention 0), the GC removes both, and every
#    list the latest version names is still there;
#  - another engine (test/tools/foreign_writer.mjs, Node + DuckDB) appends a
#    segment whose group names its own object list: vlake.table_refresh
#    adopts it (the list recorded in vlake.files, the values read from the
#    engine's JSON column), vlake.table_objects and the lists read by DuckDB
#    agree, and vlake's next version keeps naming the engine's list;
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
	CREATE TABLE t (id int NOT NULL, r objref, note text) USING vlake WITH (location = 'file://$root', retention = '1 hour');
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
	# the distinct references and their rows, from the JSON text (the oracle)
	my $objs = $node->safe_psql('postgres', q{
		SELECT coalesce(json_agg(json_build_array(j->>'uri', (j->>'size')::bigint, j->>'sha256', j->>'mime', n)
		                         ORDER BY j->>'uri', j->>'mime' NULLS FIRST), '[]')
		  FROM (SELECT r::text::jsonb AS j, count(*) AS n FROM t WHERE r IS NOT NULL GROUP BY 1) s});
	return { rows => \@rows, refs => $refs, objects => JSON::PP->new->decode($objs) };
}

# [uri, size, sha256, mime, rows] lists in one order
sub canon
{
	my ($l) = @_;
	my $js = JSON::PP->new->canonical;
	return [ sort { $js->encode($a) cmp $js->encode($b) } map { [ map { defined $_ && /^[0-9]+$/ ? $_ + 0 : $_ } @$_ ] } @$l ];
}

# vlake.table_objects('t') as of version v (undef: the latest)
sub table_objects
{
	my ($v) = @_;
	my $set = defined $v ? "SET vlake.as_of_version = $v;" : '';
	return JSON::PP->new->decode($node->safe_psql('postgres', qq{$set
		SELECT coalesce(json_agg(json_build_array(uri, size, sha256, mime, rows)), '[]') FROM vlake.table_objects('t')}));
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
	is($doc->{format_version}, 3, "v$v: format_version 3 (object lists)");
	my @rgroups = map { my $g = $_; grep { grep { $_ == 2 } @{ $_->{field_ids} } } @{ $g->{groups} } } @{ $doc->{segments} };
	ok(@rgroups && !(grep { !$_->{objects} } @rgroups), "v$v: every group holding r has an object list");
	is($lv->{object_lists}{fallback}, 0, "v$v: no group read without its list");
	cmp_ok($lv->{object_lists}{read}, '>', 0, "v$v: object lists read by DuckDB: $lv->{object_lists}{read}");
	is_deeply(canon($lv->{objects}), canon($oracle{$v}{objects}),
		"v$v: the objects of the lists minus deleted rows are the table's references then, with their rows");
	is_deeply(canon(table_objects($v)), canon($oracle{$v}{objects}), "v$v: vlake.table_objects as of v$v says the same");
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

# ------------------------------------------- retention of the object lists --
# a compaction rewriting the segment with deleted rows retires its files and
# their lists; retained versions keep them, an expired one lets them go
my $v_before = version();
my %before_lists = map { $_ => 1 } split /\n/, $node->safe_psql('postgres',
	"SELECT objects_path FROM vlake.files WHERE relid = 't'::regclass AND objects_path IS NOT NULL");
$node->safe_psql('postgres', "SELECT * FROM vlake.compact('t', 0.0, merge => false)");
my @retired = split /\n/, $node->safe_psql('postgres',
	"SELECT path FROM vlake.retired_files WHERE relid = 't'::regclass AND path LIKE '%.objects.parquet' ORDER BY 1");
ok(@retired > 0, 'the compaction retired object lists: ' . scalar(@retired));
ok(!(grep { !$before_lists{$_} } @retired), 'the retired lists are lists of the version before it');
my $named_before = do { local $/; open(my $fh, '<', sprintf("$root/_manifest/%020d.json", $v_before)) or die; <$fh> };
ok(!(grep { index($named_before, "\"$_\"") < 0 } @retired), "version $v_before names every retired list");
$node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_gc('t', '0')") for 1 .. 2;
ok(!(grep { !-f "$root/$_" } @retired), 'retained version: the GC keeps the retired lists');
is_deeply(canon(lake_read($v_before)->{objects}), canon($oracle{$v_before}{objects}),
	"version $v_before still reads its objects from its lists");
$node->safe_psql('postgres', "ALTER TABLE t SET (retention = '0')");
$node->safe_psql('postgres', "INSERT INTO t VALUES (3000, NULL, 'a newer version'); SELECT vlake.flush('t')");
my $lists_gone = 0;
for (1 .. 60)
{
	$node->safe_psql('postgres', "SELECT count(*) FROM vlake.table_gc('t', '0')");
	if (!(grep { -f "$root/$_" } @retired)) { $lists_gone = 1; last; }
	sleep 1;
}
ok($lists_gone, 'no retained version names them: the GC removed the retired lists');
ok(!(grep { -f "$root/" . ($_ =~ s/\.objects\.parquet$/.parquet/r) } @retired), 'and their group files');
my $latest = lake_read();
is($latest->{object_lists}{fallback}, 0, 'the latest version reads every list it names');
is_deeply(canon($latest->{objects}), canon(table_objects()), 'the latest lists equal vlake.table_objects');

# ------------------------------------- another engine's segment and list --
{
	my $ref = sub {
		my ($k, $mime) = @_;
		return undef unless defined $k;
		return sprintf('{"uri":"file://%s","size":%d,"sha256":"%s"%s}', $objects{$k}, length($content{$k}),
			sha256_hex($content{$k}), defined $mime ? qq{,"mime":"$mime"} : '');
	};
	my $rows = JSON::PP->new->encode({ fields => [qw(id r note)],
		rows => [ [ 4000, $ref->('in_dels', 'application/octet-stream'), 'foreign' ],
				  [ 4001, undef, 'foreign, no reference' ],
				  [ 4002, $ref->('beside'), 'foreign' ] ] });
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/foreign_writer.mjs", $root, 'append', $rows ], '>', \$out, '2>', \$err)
	  or die "foreign_writer failed: $err";
	my $fv = JSON::PP->new->decode($out)->{version};
	$node->safe_psql('postgres', "SELECT vlake.table_refresh('t')");
	is(version(), $fv, "vlake adopted the other engine's version $fv");
	like($node->safe_psql('postgres', "SELECT objects_path FROM vlake.files f JOIN vlake.segments s USING (relid, segment_id)
		WHERE relid = 't'::regclass AND s.first_row_id = (SELECT max(first_row_id) FROM vlake.segments WHERE relid = 't'::regclass)"),
		qr{^foreign/.*\.objects\.parquet$}, "the engine's object list is recorded in vlake.files");
	is($node->safe_psql('postgres', "SELECT vlake.objref_uri(r) FROM t WHERE id = 4000"), "file://$objects{in_dels}",
		"the engine's references read back (its JSON column)");
	my $lv = lake_read($fv);
	is($lv->{object_lists}{fallback}, 0, "version $fv: every group read through its list");
	is_deeply(canon($lv->{objects}), canon(table_objects()), "version $fv: the lists equal vlake.table_objects");
	$node->safe_psql('postgres', "INSERT INTO t VALUES (4003, NULL, 'vlake after the engine'); SELECT vlake.flush('t')");
	my $doc = JSON::PP->new->decode(do {
		local $/;
		open(my $fh, '<', sprintf("$root/_manifest/%020d.json", version())) or die;
		<$fh>;
	});
	ok((grep { $_->{objects} && $_->{objects}{path} =~ m{^foreign/} } map { @{ $_->{groups} } } @{ $doc->{segments} }),
		"vlake's next version names the engine's list");
	is_deeply(canon(lake_read()->{objects}), canon(table_objects()), "and its lists equal vlake.table_objects");
}

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
