# BM25 against SQLite FTS5 over a real corpus (docs/bm25.md, "Tests").
#
# 60,000 GCIDE entries (Debian dict-gcide; bench/fulltext/corpus.pl: head
# word as title, definition as body) and 300 queries generated from them with
# a fixed seed (single frequent and rare terms, implicit and explicit AND, OR,
# NOT, "phrases" of 2-3 words taken from documents, parentheses, precedence,
# edge cases) go into a heap table with two vlake_bm25 indexes, config
# 'simple':
#     docs_body_idx  (body)
#     docs_tb_idx    ((ARRAY[title, body])) WITH (weights = '2,1')
# and into two FTS5 tables with the default tokenizer (unicode61):
#     d   fts5(body)          scored by bm25(d)
#     d2  fts5(title, body)   scored by bm25(d2, 2.0, 1.0)
# For every query (q = to_bm25query('...', index)), vlake's
#     SELECT id, col <@> q FROM docs WHERE col @@@ q ORDER BY col <@> q LIMIT 100
# (through the index: EXPLAIN is checked for every query) is compared with
# FTS5's top 100 ordered by bm25(), and count(*) WHERE col @@@ q with FTS5's
# count of matches. "Equal up to ties", precisely: F is FTS5's list ordered by
# (score, rowid), cut at 100 rows, plus every further row whose score ties
# the 100th; V is vlake's list. Then
#   - |V| = min(100, FTS5's count) and V has no id twice;
#   - V's scores do not decrease;
#   - at every rank i, V[i].score is within a relative 1e-6 of F[i].score;
#   - at every rank i, V[i].id is a row of F whose FTS5 score is within a
#     relative 1e-6 of F[i].score: the id FTS5 has there, or one tied with it
#     (so two documents may swap only when FTS5 cannot tell them apart at
#     the precision required of the scores).
# Three states, both indexes each time:
#   A. after CREATE INDEX over 99% of the documents (ids not multiple of 100);
#   B. after inserting the other 1% (they go to the indexes' deltas);
#   C. after deleting ~1% (ids = 7 mod 97, base and delta rows) and VACUUM:
#      the deleted rows are never returned but, as docs/bm25-index.md says,
#      still count in the statistics until a merge, so FTS5 keeps them in its
#      tables and leaves them out of its answers;
#   D. after vlake.bm25_merge() folded each delta and the tombstones into a
#      new lake part, and FTS5 deleted the rows.
# Queries with an AND under an OR ("a OR b c") are checked on their own too:
# FTS5's bm25() leaves out the phrases of a sub-expression that did not match
# (a row holding "a" and "c" but not "b" scores like "a" alone), and so does
# vlake (docs/bm25-index.md).  At default settings the planner may take a
# bitmap scan and a sort for LIMIT 100 (docs/bm25-index.md says when): the
# plans are reported, and checked with bitmap and sequential scans off.
# FTS5 gets the same rows at each step. The oracle is checked too: in state A,
# FTS5's scores of the term-only queries equal docs/bm25.md's formula computed
# here in perl (relative 1e-12).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Time::HiRes qw(time);

my $gcide = '/usr/share/dictd/gcide.dict.dz';
my $corpus_pl = dirname(__FILE__) . '/../../bench/fulltext/corpus.pl';
my $ndocs = $ENV{VLAKE_BM25_DOCS} // 60000;
my $nqueries = $ENV{VLAKE_BM25_QUERIES} // 300;
my $tol = 1e-6;

my $node = PostgreSQL::Test::Cluster->new('bm25');
$node->init;
$node->append_conf('postgresql.conf', "max_parallel_workers_per_gather = 0\njit = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
if ($node->safe_psql('postgres', "SELECT count(*) FROM pg_am WHERE amname = 'vlake_bm25'") ne '1')
{
	plan skip_all => 'this build has no vlake_bm25 index access method yet (issue 12)';
}
ok(-r $gcide, "$gcide is installed (scripts/install-deps.sh test)") or BAIL_OUT("missing $gcide");
ok(system('command -v sqlite3 >/dev/null') == 0, 'sqlite3 is installed') or BAIL_OUT('missing sqlite3');
my $dir = PostgreSQL::Test::Utils::tempdir('bm25');
my $t0 = time;
sub elapsed { return sprintf('%.1f s', time - $t0); }

# ---- the corpus ---------------------------------------------------------
system('perl', $corpus_pl, $dir, $ndocs, $nqueries) == 0 or BAIL_OUT('corpus.pl failed');
my @queries;    # [qid, kind, text]
open(my $qf, '<', "$dir/queries.tsv") or die;
while (<$qf>)
{
	chomp;
	push @queries, [ split /\t/, $_, 3 ];
}
close $qf;
is(scalar @queries, $nqueries, "$nqueries queries");
note('corpus written: ' . elapsed());

sub sql_str { my $s = shift; $s =~ s/'/''/g; return "'$s'"; }

# ---- SQLite FTS5 --------------------------------------------------------
my $db = "$dir/fts5.db";
sub sqlite
{
	my ($script, $out) = @_;
	open(my $fh, '>', "$dir/sqlite.sql") or die;
	print $fh $script;
	close $fh;
	system("sqlite3 -bail $db < $dir/sqlite.sql > $out") == 0 or BAIL_OUT("sqlite3 failed, see $out");
}
sqlite(<<SQL, "$dir/sqlite_load.out");
CREATE TABLE src (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
.import --csv $dir/docs.csv src
CREATE VIRTUAL TABLE d USING fts5(body);
CREATE VIRTUAL TABLE d2 USING fts5(title, body);
CREATE TABLE gone (id INTEGER PRIMARY KEY);
INSERT INTO d (rowid, body) SELECT id, body FROM src WHERE id % 100 <> 0;
INSERT INTO d2 (rowid, title, body) SELECT id, title, body FROM src WHERE id % 100 <> 0;
SQL

# every query's count and top 100 (+ ties of the 100th), as lines
#   Q qid | C count | R id score
sub fts5_run
{
	my ($table, $rank, $out) = @_;
	my $s = ".mode tabs\n";
	for my $q (@queries)
	{
		my $m = sql_str($q->[2]);
		$s .= "SELECT 'Q', $q->[0];\n";
		$s .= "SELECT 'C', count(*) FROM $table WHERE $table MATCH $m AND rowid NOT IN (SELECT id FROM gone);\n";
		$s .= "WITH r AS MATERIALIZED (SELECT rowid AS id, $rank AS s FROM $table WHERE $table MATCH $m\n"
		  . "                         AND rowid NOT IN (SELECT id FROM gone)),\n"
		  . "  b AS (SELECT s FROM r ORDER BY s LIMIT 1 OFFSET 99)\n"
		  . "SELECT 'R', id, printf('%.17g', s) FROM r\n"
		  . "  WHERE NOT EXISTS (SELECT 1 FROM b) OR s <= (SELECT s + abs(s) * $tol FROM b) ORDER BY s, id;\n";
	}
	sqlite($s, $out);
}

# ---- vlake --------------------------------------------------------------
$node->safe_psql('postgres', qq{
CREATE TABLE src (id int, title text, body text);
COPY src FROM '$dir/docs.csv' WITH (FORMAT csv);
CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
INSERT INTO docs SELECT * FROM src WHERE id % 100 <> 0;
VACUUM ANALYZE docs;
});
note('loaded: ' . elapsed());
my $b0 = time;
$node->safe_psql('postgres',
	"CREATE INDEX docs_body_idx ON docs USING vlake_bm25 (body) WITH (config = 'simple')");
my $build1 = time - $b0;
$b0 = time;
$node->safe_psql('postgres',
	"CREATE INDEX docs_tb_idx ON docs USING vlake_bm25 ((ARRAY[title, body])) WITH (config = 'simple', weights = '2,1')");
my $build2 = time - $b0;
note(sprintf('CREATE INDEX over %d documents: (body) %.1f s, (ARRAY[title, body]) %.1f s', $ndocs * 0.99, $build1, $build2));

my %index = (body => [ 'docs_body_idx', 'body' ], tb => [ 'docs_tb_idx', 'ARRAY[title, body]' ]);

sub vlake_sql
{
	my ($which, $q) = @_;
	my ($idx, $col) = @{ $index{$which} };
	my $b = 'to_bm25query(' . sql_str($q) . ", '$idx')";
	return "SELECT id, $col <@> $b FROM docs WHERE $col @@@ $b ORDER BY $col <@> $b LIMIT 100";
}

# every query's count (plan of the planner's choice) and top 100 through the
# index's ordered scan (bitmap and sequential scans off: the comparison is of
# the top-k path; the plans at default settings are checked apart), or, with
# $seq, the operators outside any index scan (sequential scan and sort) for
# the queries given
sub vlake_run
{
	my ($which, $out, $seq, @qs) = @_;
	my ($idx, $col) = @{ $index{$which} };
	open(my $fh, '>', "$dir/vlake.sql") or die;
	print $fh "SET enable_indexscan = off;\nSET enable_bitmapscan = off;\n" if $seq;
	for my $q (@qs)
	{
		my $b = 'to_bm25query(' . sql_str($q->[2]) . ", '$idx')";
		print $fh "SELECT 'Q', $q->[0];\n";
		print $fh "SELECT 'C', count(*) FROM docs WHERE $col @@@ $b;\n";
		print $fh "SET enable_bitmapscan = off;\nSET enable_seqscan = off;\n" unless $seq;
		print $fh "SELECT 'R', x.* FROM (" . vlake_sql($which, $q->[2]) . ") x;\n";
		print $fh "RESET enable_bitmapscan;\nRESET enable_seqscan;\n" unless $seq;
	}
	close $fh;
	my ($stdout, $stderr);
	$node->psql('postgres', undef, extra_params => [ '-f', "$dir/vlake.sql", '-F', "\t" ],
		stdout => \$stdout, stderr => \$stderr, on_error_stop => 0);
	open(my $o, '>', $out) or die;
	print $o $stdout, "\n";
	close $o;
	return $stderr;
}

# parse: qid -> { count, rows => [[id, score], ...] }
sub parse
{
	my $f = shift;
	my (%r, $cur);
	open(my $fh, '<', $f) or die "$f: $!";
	while (my $l = <$fh>)
	{
		chomp $l;
		my @c = split /\t/, $l;
		next unless @c;
		if ($c[0] eq 'Q') { $cur = $r{ $c[1] } = { rows => [] }; }
		elsif ($c[0] eq 'C') { $cur->{count} = $c[1]; }
		elsif ($c[0] eq 'R') { push @{ $cur->{rows} }, [ $c[1], $c[2] ]; }
	}
	close $fh;
	return \%r;
}

sub near
{
	my ($a, $b) = @_;
	return abs($a - $b) <= $tol * abs($b);
}

# the comparison described at the top; returns (failures, stats)
sub compare
{
	my ($want, $got, @qs) = @_;
	my (@fail, %bad_kind);
	my ($maxrel, $swapped, $rows, $matches) = (0, 0, 0, 0);
	for my $q (@qs)
	{
		my ($qid, $kind, $text) = @$q;
		my $w = $want->{$qid};
		my $g = $got->{$qid};
		my @why;
		if (!defined $g || !defined $g->{count}) { push @why, 'no result (error)'; }
		else
		{
			my $nw = $w->{count} < 100 ? $w->{count} : 100;
			my @F = @{ $w->{rows} };
			my @V = @{ $g->{rows} };
			my %fs = map { $_->[0] => $_->[1] } @F;
			my %seen;
			push @why, "count $g->{count}, FTS5 $w->{count}" if $g->{count} != $w->{count};
			push @why, scalar(@V) . " rows, FTS5 $nw" if @V != $nw;
			for my $i (0 .. $#V)
			{
				my ($id, $s) = @{ $V[$i] };
				if ($seen{$id}++) { push @why, "id $id twice"; last; }
				if ($i > 0 && $s < $V[ $i - 1 ][1]) { push @why, "rank $i: score $s after $V[$i-1][1]"; last; }
				last if $i >= @F;
				my $fscore = $F[$i][1];
				my $rel = abs($s - $fscore) / (abs($fscore) || 1);
				$maxrel = $rel if $rel > $maxrel;
				if (!near($s, $fscore)) { push @why, "rank $i: score $s, FTS5 $fscore"; last; }
				if (!defined $fs{$id}) { push @why, "rank $i: id $id, not in FTS5's top $nw (+ ties); FTS5 has $F[$i][0]"; last; }
				if (!near($fs{$id}, $fscore)) { push @why, "rank $i: id $id (FTS5 score $fs{$id}), FTS5 has $F[$i][0] ($fscore)"; last; }
				$swapped++ if $id != $F[$i][0];
			}
			$rows += @V;
			$matches += $g->{count};
		}
		if (@why)
		{
			push @fail, "query $qid ($kind) [$text]: " . join('; ', @why);
			$bad_kind{$kind}++;
		}
	}
	return (\@fail, { maxrel => $maxrel, swapped => $swapped, rows => $rows, matches => $matches, bad_kind => \%bad_kind });
}

# ---- the oracle itself --------------------------------------------------
# FTS5's bm25() is the formula of docs/bm25.md: recomputed here in perl
# (k1 1.2, b 0.75, FTS5's IDF with its 1e-6 floor, f = sum of column weight x
# occurrences, |d| = tokens of every column, avgdl over the rows) for the
# queries made of bare terms only (kinds freq, rare, and, freqand, or), over
# the rows of state A. Tokens of ASCII text under unicode61: runs of [a-z0-9].
sub brute_check
{
	my $fts5 = shift;    # which -> parsed FTS5 results
	my (%post, %len, %ntok);    # which -> term -> doc -> f; which -> doc -> |d|; which -> tokens
	open(my $fh, '<', "$dir/docs.csv") or die;
	while (my $l = <$fh>)
	{
		chomp $l;
		my ($id, $rest) = $l =~ /^(\d+),(.*)$/ or die "docs.csv: $l";
		next if $id % 100 == 0;
		my @f = $rest =~ /"((?:[^"]|"")*)"/g;
		s/""/"/g for @f;
		my @title = grep { $_ ne '' } split /[^a-z0-9]+/, lc $f[0];
		my @body = grep { $_ ne '' } split /[^a-z0-9]+/, lc $f[1];
		$post{body}{$_}{$id} += 1 for @body;
		$post{tb}{$_}{$id} += 2 for @title;
		$post{tb}{$_}{$id} += 1 for @body;
		$len{body}{$id} = @body;
		$len{tb}{$id} = @title + @body;
		$ntok{body} += @body;
		$ntok{tb} += @title + @body;
	}
	close $fh;
	for my $which (qw(body tb))
	{
		my ($post, $len) = ($post{$which}, $len{$which});
		my $N = keys %$len;
		my $avgdl = $ntok{$which} / $N;
		my ($checked, $maxrel, @bad) = (0, 0);
		for my $q (@queries)
		{
			my ($qid, $kind, $text) = @$q;
			next unless $kind =~ /^(?:freq|rare|and|freqand|or)$/;
			my $or = $text =~ / OR /;
			my @terms = $or ? split(/ OR /, $text) : grep { $_ ne 'AND' } split(/ /, $text);
			my (%score, %hits);
			for my $t (@terms)
			{
				my $p = $post->{$t} || {};
				my $n = keys %$p;
				my $idf = log(($N - $n + 0.5) / ($n + 0.5));
				$idf = 1e-6 if $idf <= 0;
				for my $d (keys %$p)
				{
					my $f = $p->{$d};
					$score{$d} += $idf * ($f * 2.2) / ($f + 1.2 * (1 - 0.75 + 0.75 * $len->{$d} / $avgdl));
					$hits{$d}++;
				}
			}
			my @s = sort { $a <=> $b } map { -$score{$_} } grep { $or || $hits{$_} == @terms } keys %score;
			my $w = $fts5->{$which}{$qid};
			my $why = @s != $w->{count} ? scalar(@s) . " matches, FTS5 $w->{count}" : '';
			for my $i (0 .. ($#s < 99 ? $#s : 99))
			{
				last if $why;
				my $fs = $w->{rows}[$i][1];
				my $rel = abs($s[$i] - $fs) / abs($fs);
				$maxrel = $rel if $rel > $maxrel;
				$why = "rank $i: $s[$i], FTS5 $fs" if $rel > 1e-12;
			}
			$checked++;
			push @bad, "query $qid [$text]: $why" if $why;
		}
		diag($_) for @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ];
		is(scalar @bad, 0, "the oracle: FTS5's bm25() is docs/bm25.md's formula for the $checked term-only queries ($which)");
		note(sprintf('%s: N %d, avgdl %.4f, max relative difference %.3g', $which, $N, $avgdl, $maxrel));
	}
}

# an OR one of whose operands is an AND of phrases (implicit or explicit),
# as in "a OR b c": the only form the generator makes of that kind
sub or_of_and
{
	my $t = shift;
	(my $u = $t) =~ s/"[^"]*"/P/g;
	return 0 if $u !~ / OR / || $u =~ /[()]/;
	return (grep { / / } split(/ OR /, $u)) ? 1 : 0;
}

sub check_state
{
	my $state = shift;
	my %fts5;
	for my $which (qw(body tb))
	{
		my ($table, $rank) = $which eq 'body' ? ('d', 'bm25(d)') : ('d2', 'bm25(d2, 2.0, 1.0)');
		my $s0 = time;
		fts5_run($table, $rank, "$dir/fts5_$state$which.tsv");
		note(sprintf('%s: FTS5 %s %.1f s', $state, $table, time - $s0));
		$fts5{$which} = parse("$dir/fts5_$state$which.tsv");
	}
	brute_check(\%fts5) if $state eq 'A';
	for my $which (qw(body tb))
	{
		my $what = $which eq 'body' ? '(body)' : "(ARRAY[title, body]) weights '2,1'";
		my @runs = ([ 'index scan', 0, @queries ]);
		# the operators evaluated row by row: every 20th query, in state A
		push @runs, [ 'sequential scan', 1, grep { $_->[0] % 20 == 3 } @queries ] if $state eq 'A';
		for my $run (@runs)
		{
			my ($how, $seq, @all) = @$run;
			my $s1 = time;
			my $err = vlake_run($which, "$dir/vlake_$state$which$seq.tsv", $seq, @all);
			my $s2 = time;
			my $got = parse("$dir/vlake_$state$which$seq.tsv");
			my @qs = grep { !or_of_and($_->[2]) } @all;
			my @ooa = grep { or_of_and($_->[2]) } @all;
			my ($fail, $st) = compare($fts5{$which}, $got, @qs);
			diag("psql: " . substr($err, 0, 2000)) if @$fail && $err ne '';
			diag($_) for @$fail[ 0 .. ($#$fail < 14 ? $#$fail : 14) ];
			is(scalar @$fail, 0,
				sprintf('%s %s, %s: %d queries, top 100 and count equal FTS5\'s up to ties', $state, $what, $how, scalar @qs));
			my @cbad = grep { ($got->{ $_->[0] }{count} // -1) != $fts5{$which}{ $_->[0] }{count} } @ooa;
			is(scalar @cbad, 0, sprintf('%s %s, %s: the %d queries with an AND under an OR: counts equal FTS5\'s',
					$state, $what, $how, scalar @ooa));
			{
				my ($ofail) = compare($fts5{$which}, $got, @ooa);
				is(scalar @$ofail, 0, sprintf('%s %s, %s: the %d queries with an AND under an OR: top 100 equal FTS5\'s',
						$state, $what, $how, scalar @ooa));
			}
			note(sprintf('%s %s, %s: %d rows, %d matches, max relative score error %.3g, %d ranks with a tied id swapped, '
				  . 'failures by kind: %s; vlake %.1f s',
				$state, $what, $how, $st->{rows}, $st->{matches}, $st->{maxrel}, $st->{swapped},
				join(' ', map { "$_=$st->{bad_kind}{$_}" } sort keys %{ $st->{bad_kind} }) || 'none',
				$s2 - $s1));
		}
	}
}

# ---- the plans ----------------------------------------------------------
# with bitmap and sequential scans off (the comparisons' top-100 statements)
# the index's ordered scan is the only plan; at default settings the count of
# ordered scans is reported
for my $which (qw(body tb))
{
	my $idx = $index{$which}[0];
	for my $forced (0, 1)
	{
		open(my $fh, '>', "$dir/explain.sql") or die;
		print $fh "SET enable_bitmapscan = off;\nSET enable_seqscan = off;\n" if $forced;
		print $fh "EXPLAIN (COSTS OFF) " . vlake_sql($which, $_->[2]) . ";\n" for @queries;
		close $fh;
		my ($stdout, $stderr);
		$node->psql('postgres', undef, extra_params => [ '-f', "$dir/explain.sql" ],
			stdout => \$stdout, stderr => \$stderr, on_error_stop => 0);
		my @plans = split /^(?=Limit)/m, $stdout;
		my @other = grep { !/Index (?:Only )?Scan using $idx on docs/ } @plans;
		my $uses = @plans - @other;
		if (!$forced)
		{
			note("EXPLAIN at default settings: $uses of the $nqueries top-100 queries scan $idx in order "
				  . "(the others: a bitmap scan and a sort, docs/bm25-index.md)");
			next;
		}
		is($uses, scalar @queries,
			"EXPLAIN: the $nqueries top-100 queries scan $idx (bitmap and sequential scans off)")
		  or diag(join('', @other[ 0 .. ($#other < 2 ? $#other : 2) ]) . $stderr);
	}
}

# the index's own counters, when this build has them
my $info = $node->safe_psql('postgres', "SELECT count(*) FROM pg_proc WHERE proname = 'bm25_index_info'") eq '1';
sub delta_docs
{
	my $idx = shift;
	return $node->safe_psql('postgres', "SELECT delta_docs FROM vlake.bm25_index_info('$idx')");
}

# ---- A, B, C ------------------------------------------------------------
check_state('A');

my @extra = grep { $_ % 100 == 0 } 1 .. $ndocs;
$node->safe_psql('postgres', 'INSERT INTO docs SELECT * FROM src WHERE id % 100 = 0');
sqlite(<<SQL, "$dir/sqlite_insert.out");
INSERT INTO d (rowid, body) SELECT id, body FROM src WHERE id % 100 = 0;
INSERT INTO d2 (rowid, title, body) SELECT id, title, body FROM src WHERE id % 100 = 0;
SQL
note(scalar(@extra) . ' documents inserted: ' . elapsed());
if ($info)
{
	is(delta_docs($_), scalar @extra, "$_: the inserted documents are in its delta") for qw(docs_body_idx docs_tb_idx);
}
check_state('B');

my $ndel = $node->safe_psql('postgres', 'WITH x AS (DELETE FROM docs WHERE id % 97 = 7 RETURNING id) SELECT count(*) FROM x');
$node->safe_psql('postgres', 'VACUUM docs');
# docs/bm25-index.md: a deleted document keeps counting in N, avgdl and the
# document frequencies until the next merge. So FTS5 keeps the rows (its
# statistics count them) and its queries leave them out (table gone).
sqlite(<<SQL, "$dir/sqlite_delete.out");
INSERT INTO gone SELECT id FROM src WHERE id % 97 = 7 AND id % 100 <> 0;
INSERT INTO gone SELECT id FROM src WHERE id % 97 = 7 AND id % 100 = 0;
SQL
note("$ndel documents deleted and VACUUM: " . elapsed());
check_state('C');

# D. the deltas folded into new lake parts
if ($node->safe_psql('postgres', "SELECT count(*) FROM pg_proc WHERE proname = 'bm25_merge'") eq '1')
{
	$node->safe_psql('postgres', "SELECT vlake.bm25_merge('$_')") for qw(docs_body_idx docs_tb_idx);
	sqlite(<<SQL, "$dir/sqlite_merge.out");
DELETE FROM d WHERE rowid IN (SELECT id FROM gone);
DELETE FROM d2 WHERE rowid IN (SELECT id FROM gone);
SQL
	if ($info)
	{
		is(delta_docs($_), 0, "$_: vlake.bm25_merge emptied its delta") for qw(docs_body_idx docs_tb_idx);
	}
	note('merged: ' . elapsed());
	check_state('D');
}

note('total: ' . elapsed());
$node->stop;
done_testing();
