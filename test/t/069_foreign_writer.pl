# Versions of a vlake table committed by another engine (docs/manifest.md,
# "Commits by other engines"; docs/tables.md, "Adopting other engines'
# versions"):
#  - test/tools/foreign_writer.mjs (Node + DuckDB, written from the protocol
#    alone) adds a column computed from id for every row of every segment,
#    appends a segment of new rows and deletes rows by row ID; after
#    vlake.table_refresh() the table equals a heap twin given the same
#    changes (sequential and index scans), and DuckDB reading the files of
#    the latest manifest equals both; vlake's next commit builds on them;
#  - races for a version number, both orders: the script commits N+1 while a
#    Postgres transaction waits in its pre-commit (the commit fails with
#    40001, succeeds after the refresh); the script commits N+1 between a
#    Postgres commit and its manifest put (the put finds other bytes, vlake
#    refuses to build on that parent until the refresh merges: vlake's
#    version is renumbered after the script's and published with both);
#    Postgres commits N+1 while the script is about to (the script's link()
#    fails with EEXIST and it rebases on N+1);
#  - both append in one race window (race 4): a Postgres transaction flushes
#    rows and deletes one, and waits between its commit and its put; the
#    script appends a segment at the same row IDs (its file's footer says
#    so), then deletes a row of it and one of the segment Postgres deleted
#    from.  An ERROR at refresh_before_commit and a SIGKILL of the
#    postmaster in the refresh leave the lost version as it was; the refresh
#    then gives the script's segment the next row IDs, merges both delete
#    vectors, and publishes vlake's version after the script's two; the
#    script's versions stay in the lake as written;
#  - the script writes new values of a field for every segment (a column
#    patch) while a lake row's update waits in the delta: after the refresh
#    the table and an index scan on the patched column equal the heap twin
#    (the updated row keeps its value, also after a flush folds it back);
#  - after each step the chain 1..latest is complete, each version once, each
#    the successor of the one before;
#  - bad versions are refused with an ERROR naming the manifest: a file of
#    the wrong size, a skipped field id.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use Time::HiRes qw(usleep);

my $src   = $ENV{VLAKE_SRC} // '.';
my $tools = "$src/test/tools";
plan skip_all => 'DuckDB test tooling not installed (scripts/install-deps.sh test)'
  unless -d "$tools/node_modules/\@duckdb/node-api";

my $lake = PostgreSQL::Test::Utils::tempdir('lake');
my $root = "$lake/t";
my $node = PostgreSQL::Test::Cluster->new('foreign_writer');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'vlake'\nvlake.allowed_file_roots = '$lake'\nTimeZone = 'UTC'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');

# ---------------------------------------------------------------- helpers --
sub writer
{
	my ($cmd, $arg, @opts) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'node', "$tools/foreign_writer.mjs", $root, $cmd,
			encode_json($arg), @opts ], '>', \$out, '2>', \$err);
	die "foreign_writer $cmd failed: $err" unless $ok;
	return decode_json($out);
}

sub writer_start
{
	my ($cmd, $arg, @opts) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ 'node', "$tools/foreign_writer.mjs", $root, $cmd,
			encode_json($arg), @opts ], '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

sub writer_finish
{
	my ($w) = @_;
	$w->{h}->finish or die "foreign_writer failed: ${ $w->{err} }";
	return decode_json(${ $w->{out} });
}

sub lake_read
{
	my ($out, $err);
	IPC::Run::run([ 'node', "$tools/table_manifest_read.mjs", $root ], '>', \$out, '2>', \$err)
	  or die "table_manifest_read failed: $err";
	return decode_json($out);
}

sub num_eq
{
	my ($a, $b) = @_;
	return $a eq $b
	  || (($a =~ /^[-+0-9.eE]+$/) && ($b =~ /^[-+0-9.eE]+$/) && $a == $b);
}

sub q_rows
{
	my ($sql) = @_;
	my $out = $node->safe_psql('postgres', $sql,
		extra_params => [ '-F', "\x1f", '-P', 'null=<NULL>' ]);
	return [ map { [ map { $_ eq '<NULL>' ? undef : $_ } split(/\x1f/, $_, -1) ] }
		  grep { length } split(/\n/, $out) ];
}

sub rows_eq
{
	my ($name, $got, $want) = @_;
	my $bad = 0;
	if (@$got != @$want)
	{
		fail("$name: " . scalar(@$got) . " rows, expected " . scalar(@$want));
		return;
	}
	for my $r (0 .. $#$want)
	{
		for my $c (0 .. $#{ $want->[$r] })
		{
			my ($g, $w) = ($got->[$r][$c], $want->[$r][$c]);
			next if !defined($g) && !defined($w);
			next if defined($g) && defined($w) && num_eq($g, $w);
			diag("$name: row $r column $c: got '" . ($g // 'NULL') . "', expected '"
				  . ($w // 'NULL') . "'")
			  if $bad++ < 5;
		}
	}
	is($bad, 0, "$name: every row equals the oracle's");
}

my @cols = qw(id name score label);

# The table equals its heap twin: a sequential scan and index scans.
sub table_matches_twin
{
	my ($name) = @_;
	my $c = join(', ', @cols);
	my $want = q_rows("SELECT $c FROM h ORDER BY id");
	rows_eq("$name (seq scan)", q_rows("SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT $c FROM t ORDER BY id"), $want);
	my $ids = '3, 97, 1500, 2001, 2400, 2401, 2500, 2999, 5001, 5005, 5010, 6001, 7001, 7002, '
	  . '7004, 7008, 8001, 8101, 8102, 8103, 8104';
	rows_eq("$name (index scan)",
		q_rows("SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT $c FROM t WHERE id IN ($ids) ORDER BY id"),
		q_rows("SELECT $c FROM h WHERE id IN ($ids) ORDER BY id"));
	return $want;
}

# DuckDB over the latest manifest's files equals the table.
sub lake_matches_table
{
	my ($name) = @_;
	my $lake = lake_read();
	is_deeply([ @{ $lake->{fields} }[ 0 .. $#cols ] ], \@cols, "$name: fields of the manifest");
	my @got = map { [ @$_[ 0 .. $#cols ] ] } sort { $a->[0] <=> $b->[0] } @{ $lake->{rows} };
	rows_eq("$name (DuckDB over the lake)", \@got,
		q_rows("SELECT " . join(', ', @cols) . " FROM t ORDER BY id"));
	return $lake;
}

sub latest_committed
{
	return $node->safe_psql('postgres',
		"SELECT version FROM vlake.datasets WHERE relid = 't'::regclass");
}

# The chain 1..latest: each version once, each the successor of the one before.
sub chain_complete
{
	my ($name) = @_;
	my $latest = latest_committed();
	opendir(my $d, "$root/_manifest") or die;
	my @keys = sort grep { /^[0-9]{20}\.json$/ } readdir($d);
	closedir $d;
	is_deeply([ map { 0 + substr($_, 0, 20) } @keys ], [ 1 .. $latest ],
		"$name: versions 1..$latest in the lake, no gap, none beyond the catalog's");
	my $ok = 1;
	my $prev_next_row = 0;
	for my $v (1 .. $latest)
	{
		my $doc = decode_json(slurp_file("$root/_manifest/$keys[$v - 1]"));
		$ok = 0 unless $doc->{version} == $v
		  && (($doc->{parent_version} // 0) == $v - 1)
		  && $doc->{next_row_id} >= $prev_next_row;
		$prev_next_row = $doc->{next_row_id};
	}
	ok($ok, "$name: every version is its parent's successor");
}

sub rowid_of
{
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT ((ctid::text::point)[0]::bigint - 2147483648) * 256 + (ctid::text::point)[1]::bigint - 1 FROM t WHERE id = $id");
}

sub wait_log
{
	my ($pattern, $offset) = @_;
	for (1 .. 600)
	{
		return 1 if slurp_file($node->logfile, $offset) =~ $pattern;
		usleep(100_000);
	}
	return 0;
}

sub go
{
	my ($point) = @_;
	open(my $f, '>', $node->data_dir . "/$point.go") or die;
	close $f;
}

# ------------------------------------------------------------------- setup --
$node->safe_psql('postgres', qq{
	CREATE TABLE t (id bigint NOT NULL, name text, score float8) USING vlake
	  WITH (location = 'file://$root');
	CREATE TABLE h (id bigint NOT NULL, name text, score float8);
	CREATE INDEX ON t (id);
	INSERT INTO t SELECT i, 'name ' || i, i * 0.25 FROM generate_series(1, 2000) i;
	INSERT INTO h SELECT i, 'name ' || i, i * 0.25 FROM generate_series(1, 3000) i;
	SELECT vlake.flush('t');
	INSERT INTO t SELECT i, 'name ' || i, i * 0.25 FROM generate_series(2001, 3000) i;
	SELECT vlake.flush('t');
	DELETE FROM t WHERE id % 97 = 0;
	DELETE FROM h WHERE id % 97 = 0;
});
is(latest_committed(), '3', 'two flushes and a delete: version 3');

# ------------------------------------- the script's versions, then adopted --
my $add = writer('add-column', { name => 'label', type => 'string', from => 'id',
		expr => "'L' || (x % 11)" });
is_deeply([ $add->{version}, $add->{field_id} ], [ 4, 4 ],
	'the script adds field 4 (label) as version 4');
$node->safe_psql('postgres', "ALTER TABLE h ADD COLUMN label text; UPDATE h SET label = 'L' || (id % 11)");

my @new = map { [ $_, ($_ % 3 ? "foreign $_" : undef), ($_ % 4 ? $_ / 8 : undef) ] } 5001 .. 5010;
my $app = writer('append', { fields => [qw(id name score)], rows => \@new });
is($app->{version}, 5, 'the script appends a segment as version 5');
is($app->{first_row_id}, 3000, 'its rows take row IDs from next_row_id on');
$node->safe_psql('postgres', 'INSERT INTO h (id, name, score) VALUES '
	  . join(', ', map { '(' . join(', ', map { defined $_ ? "'$_'" : 'NULL' } @$_) . ')' } @new));

my @del_ids = (3, 1500, 2999);
my @del_rows = map { rowid_of($_) } @del_ids;
push @del_rows, 3000 + 4;    # id 5005, in the script's own segment
is(writer('delete', { row_ids => [ map { 0 + $_ } @del_rows ] })->{version}, 6,
	'the script deletes rows by row ID as version 6');
$node->safe_psql('postgres', 'DELETE FROM h WHERE id IN (3, 1500, 2999, 5005)');

is(latest_committed(), '3', 'nothing is adopted before a refresh');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '3', 'table_refresh adopts 3 versions');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '0', 'a second refresh has nothing to do');
is(latest_committed(), '6', 'the catalog is at version 6');
is($node->safe_psql('postgres',
		"SELECT string_agg(operation || ':' || (writer LIKE 'foreign_writer.mjs%')::text, ',' ORDER BY version) FROM vlake.versions WHERE relid = 't'::regclass AND version > 3"),
	'add_columns:true,append:true,delete:true', 'the lineage of the adopted versions is the script\'s');
is($node->safe_psql('postgres',
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum = 4"),
	'text', 'the new field is column 4, of type text');
table_matches_twin('adopted');
lake_matches_table('adopted');

# vlake's next commit builds on the adopted versions
$node->safe_psql('postgres', qq{
	INSERT INTO t VALUES (6001, 'pg', 1.5, 'own');
	INSERT INTO h VALUES (6001, 'pg', 1.5, 'own');
	SELECT vlake.flush('t');
});
is(latest_committed(), '7', 'a flush after the adoption commits version 7');
table_matches_twin('flush after adoption');
lake_matches_table('flush after adoption');
chain_complete('after adoption');

# ----------------------------- race 1: the script first, Postgres in pre-commit --
my $offset = -s $node->logfile;
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe("SET vlake.fault_points = 'publish_before_check:wait'");
$bg->query_until(qr/started/, q{
	\echo started
	INSERT INTO t VALUES (7001, 'race one', 2);
	SELECT vlake.flush('t');
	\echo flushed
});
ok(wait_log(qr/fault point publish_before_check reached/, $offset),
	'the flush waits in its pre-commit');
is(writer('append', { fields => [qw(id name score)], rows => [ [ 8001, 'foreign race', 3 ] ] })->{version},
	8, 'meanwhile the script commits version 8');
go('publish_before_check');
my $stderr = '';
$bg->{stderr} = '';
$bg->query_until(qr/done/, "\\echo done\n");
like($bg->{stderr}, qr/version 8 of its dataset was committed by another engine/,
	'the flush fails: version 8 was taken');
$bg->quit;
is(latest_committed(), '7', 'the catalog did not take version 8');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '1', 'the refresh adopts version 8');
# the INSERT committed (to the delta) before the failed flush: retry the flush
$node->safe_psql('postgres', qq{
	SELECT vlake.flush('t');
	INSERT INTO h (id, name, score) VALUES (7001, 'race one', 2), (8001, 'foreign race', 3);
});
is(latest_committed(), '9', 'the retried flush commits version 9');
table_matches_twin('race 1');
lake_matches_table('race 1');
chain_complete('race 1');

# ------------------ race 2: the script between a Postgres commit and its put --
$offset = -s $node->logfile;
$bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe("SET vlake.fault_points = 'publish_before_put:wait'");
$bg->query_until(qr/started/, q{
	\echo started
	INSERT INTO t VALUES (7002, 'race two', 4);
	SELECT vlake.flush('t');
});
ok(wait_log(qr/fault point publish_before_put reached/, $offset),
	'version 10 is committed, its put waits');
is(latest_committed(), '10', 'the catalog has version 10');
my $add2 = writer('add-column', { name => 'label2', type => 'int64', from => 'id', expr => 'x * 3' });
is_deeply([ $add2->{version}, $add2->{field_id} ], [ 10, 5 ],
	'meanwhile the script commits version 10 (field 5, label2)');
go('publish_before_put');
$bg->{stderr} = '';
$bg->query_until(qr/done/, "\\echo done\n");
like($bg->{stderr}, qr/version 10 of vlake table "t" is committed but not published.*already exists with different content/s,
	'the put finds the script\'s version 10: a WARNING');
$bg->quit;

my ($ret, $out, $err) = $node->psql('postgres',
	"BEGIN; INSERT INTO t VALUES (7003, 'x', 1); SELECT vlake.flush('t'); COMMIT;");
like($err, qr/version 10 of its dataset was committed by another engine/,
	'no commit builds on the lost version 10 before the merge');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '1',
	'the refresh adopts the script\'s version 10');
is(latest_committed(), '11', 'vlake\'s version became 11');
is($node->safe_psql('postgres',
		"SELECT operation FROM vlake.versions WHERE relid = 't'::regclass AND version = 11"),
	'flush', 'version 11 is the flush');
$node->safe_psql('postgres', qq{
	ALTER TABLE h ADD COLUMN label2 bigint;
	UPDATE h SET label2 = id * 3;
	INSERT INTO h VALUES (7002, 'race two', 4, NULL, NULL);
});
@cols = qw(id name score label label2);
table_matches_twin('race 2');
my $l = lake_matches_table('race 2');
is($l->{version}, 11, 'the lake\'s latest is version 11, published by the merge');
chain_complete('race 2');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '0', 'nothing left to adopt');

# ---------------- race 3: Postgres commits while the script is about to ----
my ($hold, $ready) = ("$lake/hold", "$lake/ready");
my $w = writer_start('append', { fields => [qw(id name score)], rows => [ [ 9001, 'late', 5 ] ] },
	"--hold=$hold", "--ready=$ready", '--retries=2');
for (1 .. 600) { last if -e $ready; usleep(100_000); }
ok(-e $ready, 'the script has built version 12 on version 11');
$node->safe_psql('postgres', qq{
	INSERT INTO t VALUES (7003, 'x', 1);
	SELECT vlake.flush('t');
	INSERT INTO h VALUES (7003, 'x', 1, NULL, NULL);
});
is(latest_committed(), '12', 'meanwhile Postgres commits version 12');
open(my $hf, '>', $hold) or die;
close $hf;
my $r3 = writer_finish($w);
is_deeply([ $r3->{version}, $r3->{lost} ], [ 13, 1 ],
	'the script lost version 12, rebased and committed version 13');
$node->safe_psql('postgres', "INSERT INTO h VALUES (9001, 'late', 5, NULL, NULL)");
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '1', 'the refresh adopts version 13');
table_matches_twin('race 3');
lake_matches_table('race 3');
chain_complete('race 3');


# ------- race 4: both append rows in one race window (the same row IDs) --
my $pg4 = "INSERT INTO t (id, name, score) SELECT i, 'race four ' || i, i / 4.0 FROM generate_series(7004, 7008) i";
$offset = -s $node->logfile;
$bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe("SET vlake.fault_points = 'publish_before_put:wait'");
$bg->query_until(qr/started/, qq{
	\\echo started
	BEGIN;
	$pg4;
	SELECT vlake.flush('t');
	DELETE FROM t WHERE id = 2500;
	COMMIT;
});
ok(wait_log(qr/fault point publish_before_put reached/, $offset),
	'version 14 (a flush and a delete) is committed, its put waits');
is(latest_committed(), '14', 'the catalog has version 14');
my $pg_first = rowid_of(7004);
my @f4 = map { [ $_, "foreign four $_", $_ / 2 ] } 8101 .. 8104;
my $app4 = writer('append', { fields => [qw(id name score)], rows => \@f4 });
is_deeply([ $app4->{version}, $app4->{first_row_id} ], [ 14, $pg_first ],
	'meanwhile the script appends a segment as version 14, at the row IDs of Postgres\'s new rows');
is(writer('delete', { row_ids => [ 0 + rowid_of(2400), $app4->{first_row_id} + 1 ] })->{version}, 15,
	'and deletes id 2400 (the segment Postgres deleted from) and its own row 8102 as version 15');
my $doc14_path = sprintf("$root/_manifest/%020d.json", 14);
my $doc14 = slurp_file($doc14_path);
my $app4_path = decode_json($doc14)->{segments}[-1]{groups}[0]{path};
go('publish_before_put');
$bg->{stderr} = '';
$bg->query_until(qr/done/, "\\echo done\n");
like($bg->{stderr}, qr/version 14 of vlake table "t" is committed but not published/,
	'the put finds the script\'s version 14: a WARNING');
$bg->quit;
(my $h4sql = $pg4) =~ s/INTO t/INTO h/;
$node->safe_psql('postgres', qq{
	$h4sql;
	INSERT INTO h (id, name, score) VALUES } . join(', ', map { "($_->[0], '$_->[1]', $_->[2])" } @f4) . qq{;
	DELETE FROM h WHERE id IN (2400, 2500, 8102);
});

sub catalog_state
{
	return $node->safe_psql('postgres', q{
		SELECT (SELECT version || '/' || next_row_id || '/' || next_segment_id FROM vlake.datasets WHERE relid = 't'::regclass),
		       (SELECT string_agg(segment_id || ':' || first_row_id || '-' || end_row_id || '@' || version, ',' ORDER BY first_row_id)
		          FROM vlake.segments WHERE relid = 't'::regclass),
		       (SELECT count(*) FROM vlake.row_states WHERE relid = 't'::regclass),
		       (SELECT string_agg(segment_id || ':' || path, ',' ORDER BY segment_id) FROM vlake.delete_files WHERE relid = 't'::regclass)});
}
my $before = catalog_state();

($ret, $out, $err) = $node->psql('postgres',
	"SET vlake.fault_points = 'refresh_before_commit:error'; SELECT vlake.table_refresh('t')");
like($err, qr/fault point refresh_before_commit reached/, 'a refresh fails at refresh_before_commit');
is(catalog_state(), $before, 'the failed refresh changed nothing in the catalog');

$offset = -s $node->logfile;
my $h4 = $node->background_psql('postgres', on_error_stop => 0);
$h4->query_until(qr/started/, q{
	\echo started
	SET vlake.fault_points = 'refresh_before_commit:sleep';
	SELECT vlake.table_refresh('t');
});
ok(wait_log(qr/fault point refresh_before_commit reached/, $offset),
	'a second refresh is in its transaction, before the commit');
$node->kill9;
eval { $h4->quit; };
my $started = 0;
for (1 .. 60)
{
	if ($node->start(fail_ok => 1)) { $started = 1; last; }
	$node->{_pid} = undef;
	sleep 1;
}
ok($started, 'the server starts again after SIGKILL of the postmaster in the refresh');
is(catalog_state(), $before, 'the killed refresh left the catalog as it was');

is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '2',
	'the refresh adopts the script\'s versions 14 and 15');
is(latest_committed(), '16', 'vlake\'s version became 16');
is($node->safe_psql('postgres',
		"SELECT string_agg(version || ':' || operation, ',' ORDER BY version) FROM vlake.versions WHERE relid = 't'::regclass AND version >= 14"),
	'14:append,15:delete,16:flush', 'versions 14 and 15 are the script\'s, 16 is the flush');
is(rowid_of(7004), $pg_first, 'Postgres\'s rows keep their row IDs');
is(rowid_of(8101), $pg_first + 5, 'the script\'s rows take the row IDs after them');
is(rowid_of(8104), $pg_first + 8, '... all four of them');
is(slurp_file($doc14_path), $doc14, 'the script\'s version 14 stays in the lake as written');
table_matches_twin('race 4');
$l = lake_matches_table('race 4');
is($l->{version}, 16, 'the lake\'s latest is version 16, published by the merge');
{
	my $d16 = decode_json(slurp_file(sprintf("$root/_manifest/%020d.json", 16)));
	my ($s4) = grep { $_->{groups}[0]{path} eq $app4_path } @{ $d16->{segments} };
	ok($s4, 'version 16 lists the script\'s segment');
	is_deeply([ $s4->{first_row_id}, $s4->{end_row_id} ], [ $pg_first + 5, $pg_first + 9 ],
		'at its new row IDs');
	like($s4->{deletes}{path}, qr{^deletes/}, 'with a delete vector of vlake\'s at those row IDs');
	is($d16->{next_row_id}, $pg_first + 9, 'next_row_id covers both appends');
	my $d15 = decode_json(slurp_file(sprintf("$root/_manifest/%020d.json", 15)));
	my ($o4) = grep { $_->{groups}[0]{path} eq $app4_path } @{ $d15->{segments} };
	is($o4->{first_row_id}, $pg_first, 'version 15 (the script\'s) has it at the script\'s row IDs');
}
chain_complete('race 4');
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '0', 'nothing left to adopt');
$node->safe_psql('postgres', qq{
	INSERT INTO t VALUES (7009, 'after four', 1);
	SELECT vlake.flush('t');
	INSERT INTO h VALUES (7009, 'after four', 1, NULL, NULL);
});
is(latest_committed(), '17', 'vlake\'s next commit builds on the merge: version 17');
table_matches_twin('after race 4');
lake_matches_table('after race 4');
chain_complete('after race 4');

# ------------ the script replaces the values of a field (a column patch) --
$node->safe_psql('postgres', q{
	CREATE INDEX t_label ON t (label);
	CREATE INDEX h_label ON h (label);
	UPDATE t SET score = -1 WHERE id = 1501;
	UPDATE h SET score = -1 WHERE id = 1501;
});
is(latest_committed(), '18', 'an UPDATE of a lake row (its new version in the delta) is version 18');
is(writer('patch-column', { name => 'label', from => 'id', expr => "'P' || (x % 7)" })->{version}, 19,
	'the script writes new values of label for every segment as version 19');
# the script wrote the lake's rows: id 1501's live version is in the delta
$node->safe_psql('postgres', "UPDATE h SET label = 'P' || (id % 7) WHERE id <> 1501");
is($node->safe_psql('postgres', "SELECT vlake.table_refresh('t')"), '1', 'the refresh adopts the patch');
table_matches_twin('patch adopted');
my $by_label = "SET enable_seqscan = off; SET enable_bitmapscan = off; SELECT id FROM %s WHERE label IN ('P3', 'L5') ORDER BY id";
rows_eq('patch adopted (index scan on the patched column)', q_rows(sprintf($by_label, 't')),
	q_rows(sprintf($by_label, 'h')));
$node->safe_psql('postgres', "SELECT vlake.flush('t')");
is(latest_committed(), '20', 'a flush of the updated row is version 20');
table_matches_twin('patch, then a flush');
rows_eq('patch, then a flush (index scan on the patched column)', q_rows(sprintf($by_label, 't')),
	q_rows(sprintf($by_label, 'h')));
lake_matches_table('patch, then a flush');
chain_complete('patch, then a flush');

# ------------------------------------------------------------ bad versions --
my $doc = decode_json(slurp_file(sprintf("$root/_manifest/%020d.json", 20)));
my $bad = JSON::PP->new->decode(encode_json($doc));
$bad->{version} = 21;
$bad->{parent_version} = 20;
push @{ $bad->{schema}{fields} }, { id => 7, name => 'skipped', type => 'int32', nullable => JSON::PP::true };
$bad->{schema}{next_field_id} = 8;
$bad->{lineage}{writer} = 'bad writer';
open(my $bf, '>', sprintf("$root/_manifest/%020d.json", 21)) or die;
print $bf encode_json($bad);
close $bf;
($ret, $out, $err) = $node->psql('postgres', "SELECT vlake.table_refresh('t')");
like($err, qr/cannot adopt vlake manifest ".*00000000000000000021\.json".*\n.*should have id 6/,
	'a skipped field id is refused, naming the manifest');
$bad->{schema}{fields}[-1]{id} = 6;
$bad->{schema}{next_field_id} = 7;
$bad->{segments}[0]{groups}[0]{size} += 1;
open($bf, '>', sprintf("$root/_manifest/%020d.json", 21)) or die;
print $bf encode_json($bad);
close $bf;
($ret, $out, $err) = $node->psql('postgres', "SELECT vlake.table_refresh('t')");
like($err, qr/cannot adopt vlake manifest ".*21\.json".*changes ColumnGroup 0 of segment/s,
	'a changed group of an existing segment is refused');
is(latest_committed(), '20', 'nothing of a refused version is kept');
unlink(sprintf("$root/_manifest/%020d.json", 21));

# ------------------------------- the workers' publication task adopts too --
$node->append_conf('postgresql.conf',
	"vlake.worker_databases = 'postgres'\nvlake.publish_naptime = 1\n"
	  # no compaction pass (it would make versions of its own)
	  . "vlake.compact_small_segment_rows = 0\nvlake.compact_min_savings = 1\n");
$node->restart;
my @more = map { [ $_, "worker $_", $_ / 2 ] } 9101 .. 9105;
# (the task may commit a version of its own first: compaction drops the
# files the script's column patch superseded)
my $wv = writer('append', { fields => [qw(id name score)], rows => \@more }, '--retries=3')->{version};
cmp_ok($wv, '>=', 21, 'the script appends a version');
$node->safe_psql('postgres', 'INSERT INTO h (id, name, score) VALUES '
	  . join(', ', map { "($_->[0], '$_->[1]', $_->[2])" } @more));
ok($node->poll_query_until('postgres',
		"SELECT version = $wv FROM vlake.datasets WHERE relid = 't'::regclass"),
	'the publication task adopted it');
table_matches_twin('adopted by the task');
chain_complete('adopted by the task');

$node->stop;
done_testing();
