#!/usr/bin/perl
# The BM25 comparison corpus (docs/bm25.md, "Tests"): documents and queries
# from GCIDE (Debian dict-gcide), reproducibly.
#
#   bench/fulltext/corpus.pl OUTDIR [DOCS [QUERIES [SEED [REPEAT]]]]
#
# writes
#   OUTDIR/docs.csv     id,"title","body": one dictionary entry per document
#                       (head word as title, the definition text with the
#                       dictionary's markup stripped as body), ids 1..n;
#                       REPEAT > 1 writes every document REPEAT times (ids
#                       k*n + i), the synthetic larger variant of the bench
#   OUTDIR/queries.tsv  qid TAB kind TAB query (SQLite FTS5 query syntax)
#
# docs.csv is CSV that PostgreSQL (COPY ... WITH (FORMAT csv)) and the
# sqlite3 CLI (.import --csv) read identically: every text field quoted, a
# quote doubled, no NUL, no tab, no newline (whitespace runs become one
# space), ASCII only (GCIDE's dict file is ASCII but for three stray bytes,
# replaced by spaces), so UTF-8 questions cannot arise.
#
# DOCS (default 60000) entries are taken evenly spaced over the ~126,000
# entries of the dictionary (whose order is alphabetical). Queries (default
# 300) come from a Park-Miller generator seeded with SEED (default 12), so
# the same arguments give the same bytes everywhere. Terms are counted with
# the tokens FTS5's default tokenizer (unicode61) makes of ASCII text: runs of
# [a-z0-9], lower-cased -- vlake's 'simple' configuration. Kinds:
#   freq    one term in > 1% of the documents
#   rare    one term in 1..20 documents
#   and     2-3 terms of one document (implicit AND; every third with AND)
#   freqand 2 frequent terms
#   or      2-3 terms, OR
#   not     a NOT b, a b NOT c (b, c often in the documents of a)
#   phrase  "w1 w2" or "w1 w2 w3", consecutive tokens of a document
#   mixed   parentheses (with an explicit AND: FTS5 rejects "(a OR b) c"),
#           phrases with terms, precedence without parentheses
#   edge    an unknown term, upper case, digits, lower-case keywords as terms
use strict;
use warnings;

my ($out, $ndocs, $nqueries, $seed, $repeat) = @ARGV;
die "usage: $0 OUTDIR [DOCS [QUERIES [SEED [REPEAT]]]]\n" unless defined $out;
$ndocs //= 60000;
$nqueries //= 300;
$seed //= 12;
$repeat //= 1;
my $dict = $ENV{GCIDE_DICT} // '/usr/share/dictd/gcide.dict.dz';
my $index = $ENV{GCIDE_INDEX} // '/usr/share/dictd/gcide.index';
mkdir $out unless -d $out;

# ---- the entries: (offset, length) of the index, first head word each ----
my $b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
my %b64v;
@b64v{ split //, $b64 } = (0 .. 63);
sub b64num
{
	my $n = 0;
	$n = $n * 64 + $b64v{$_} for split //, shift;
	return $n;
}
my %entry;    # "off len" -> title (the first head word listed)
open(my $ix, '<', $index) or die "$index: $!";
while (my $l = <$ix>)
{
	chomp $l;
	my ($word, $off, $len) = split /\t/, $l;
	next unless defined $len && $word !~ /^00-/;
	my $k = b64num($off) . ' ' . b64num($len);
	$entry{$k} //= $word;
}
close $ix;
my @keys = sort { (split / /, $a)[0] <=> (split / /, $b)[0] } keys %entry;

open(my $dz, '-|', 'zcat', $dict) or die "zcat $dict: $!";
my $text = do { local $/; <$dz> };
close $dz or die "zcat $dict failed";
# three stray non-ASCII bytes (cp1252 quotes, a latin1 c-cedilla) in the
# whole file: a space each, so every document is ASCII and valid UTF-8
$text =~ s/[^\x00-\x7f]/ /g;

# phonetic letters of the dictionary's character codes, and symbols
my %letters = (ae => 'ae', oe => 'oe', ng => 'ng', th => 'th', eth => 'th', thorn => 'th',
	udd => 'u', yogh => 'y', imac => 'i', aum => 'a');
my %symbol = map { $_ => 1 } qw(root add asl deg sect dsdot bprime prime crescent bar break flat
  sharp sec min hand rarr larr pounds times trademark cuberoot natural middot);

sub strip
{
	my $t = shift;
	# the head word, its syllables \Ab"di*ca`tor\ and pronunciation (...)
	$t =~ s/^[^\n\\]*?\\[^\\\n]*\\[ \t]*(?:\([^)\n]*\))?//;
	# the other \syllables\ of a multi-form head line
	$t =~ s/\\[^\\\n]*\\//g;
	# source attributions alone on their line: [1913 Webster], [PJC], ...
	$t =~ s/^[ \t]*\[[^\]\n]*\][ \t]*$//mg;
	# accented letters: [a^] [=e] ['e] ["o] [.a] [~n] [-o] [=oo] [^o]
	$t =~ s/\[[\^=.'"`~\-]([a-zA-Z]{1,2})\]/$1/g;
	$t =~ s/\[([a-zA-Z]{1,2})[\^=.'"`~\-]\]/$1/g;
	$t =~ s/\[([a-z]+)\]/exists $letters{$1} ? $letters{$1} : exists $symbol{$1} ? ' ' : $1/ge;
	$t =~ tr/{}//d;
	$t =~ s/[\x00-\x20\x7f]+/ /g;
	$t =~ s/^ | $//g;
	return $t;
}

my @docs;     # [title, body]
for my $k (@keys)
{
	my ($off, $len) = split / /, $k;
	my $raw = substr($text, $off, $len);
	# the head word as the entry writes it, else the index's
	my $title = $raw =~ /^([^\n\\]*?)[ \t]*\\/ && $1 ne '' ? $1 : $entry{$k};
	my $body = strip($raw);
	$title =~ s/[\x00-\x20\x7f]+/ /g;
	next if $body eq '';
	push @docs, [ $title, $body ];
}
my $m = scalar @docs;
die "only $m entries\n" if $m < $ndocs;
my @sel = map { $docs[ int($_ * $m / $ndocs) ] } 0 .. $ndocs - 1;

sub csv { my $s = shift; $s =~ s/"/""/g; return "\"$s\""; }
open(my $dc, '>', "$out/docs.csv") or die "$out/docs.csv: $!";
for my $r (0 .. $repeat - 1)
{
	for my $i (0 .. $#sel)
	{
		printf $dc "%d,%s,%s\n", $r * $ndocs + $i + 1, csv($sel[$i][0]), csv($sel[$i][1]);
	}
}
close $dc or die;

# ---- queries ---------------------------------------------------------
my $state = $seed % 2147483647 || 1;
sub rnd { my $n = shift; $state = ($state * 48271) % 2147483647; return $state % $n; }
sub pick { my $a = shift; return $a->[ rnd(scalar @$a) ]; }

my (@toks, %df);
for my $d (@sel)
{
	my @t = grep { $_ ne '' } split /[^a-z0-9]+/, lc "$d->[1]";
	push @toks, \@t;
	my %seen;
	$df{$_}++ for grep { !$seen{$_}++ } @t;
}
my %kw = map { $_ => 1 } qw(and or not near);
my @terms = sort grep { !$kw{$_} } keys %df;
my @freq = grep { $df{$_} > $ndocs / 100 } @terms;
my @rare = grep { $df{$_} <= 20 && /^[a-z]/ } @terms;
my @mid = grep { $df{$_} > 20 && $df{$_} <= $ndocs / 100 } @terms;
die "too few terms\n" unless @freq > 20 && @rare > 100 && @mid > 100;

sub doc_terms    # distinct non-keyword tokens of a random document with >= n of them
{
	my $n = shift;
	while (1)
	{
		my $t = $toks[ rnd(scalar @toks) ];
		my %seen;
		my @u = grep { !$kw{$_} && !$seen{$_}++ } @$t;
		return @u if @u >= $n;
	}
}
sub some_terms    # n distinct terms of one document, at least one not frequent
{
	my $n = shift;
	while (1)
	{
		my @u = doc_terms($n);
		my @q;
		my %seen;
		push @q, grep { !$seen{$_}++ } pick(\@u) while @q < $n;
		return @q if grep { $df{$_} <= $ndocs / 100 } @q;
	}
}
sub phrase    # n consecutive tokens of a document
{
	my $n = shift;
	while (1)
	{
		my $t = $toks[ rnd(scalar @toks) ];
		next if @$t < $n;
		my $i = rnd(@$t - $n + 1);
		return '"' . join(' ', @{$t}[ $i .. $i + $n - 1 ]) . '"';
	}
}
sub any_term { my $r = rnd(3); return pick($r == 0 ? \@freq : $r == 1 ? \@mid : \@rare); }

my @q;
my %share = (freq => 40, rare => 40, and => 50, freqand => 20, or => 40, not => 30, phrase => 50, mixed => 20);
my $scale = ($nqueries - 10) / 290;
for my $kind (qw(freq rare and freqand or not phrase mixed))
{
	my $n = int($share{$kind} * $scale + 0.5);
	my %done;
	while ($n > 0)
	{
		my $s;
		if ($kind eq 'freq') { $s = pick(\@freq); }
		elsif ($kind eq 'rare') { $s = pick(\@rare); }
		elsif ($kind eq 'and')
		{
			my @t = some_terms(2 + rnd(2));
			$s = join(rnd(3) == 0 ? ' AND ' : ' ', @t);
		}
		elsif ($kind eq 'freqand') { $s = pick(\@freq) . ' ' . pick(\@freq); }
		elsif ($kind eq 'or') { $s = join(' OR ', map { any_term() } 1 .. 2 + rnd(2)); }
		elsif ($kind eq 'not')
		{
			my @t = doc_terms(3);
			my ($a, $b, $c) = map { pick(\@t) } 1 .. 3;
			next if $a eq $b || $a eq $c || $b eq $c;
			$s = rnd(2) ? "$a NOT $b" : "$a $b NOT $c";
		}
		elsif ($kind eq 'phrase') { $s = phrase(2 + rnd(2)); }
		else
		{
			my $r = rnd(5);
			my ($a, $b, $c) = (any_term(), any_term(), pick(\@freq));
			# FTS5 has no implicit AND next to parentheses: "(a OR b) c" is
			# a syntax error there
			$s = $r == 0 ? "($a OR $b) AND $c"
			  : $r == 1 ? phrase(2) . " OR $a"
			  : $r == 2 ? "$c AND ($a OR " . phrase(2) . ')'
			  : $r == 3 ? "$a OR $b $c"
			  : "$c NOT ($a OR $b)";
		}
		next if $done{$s}++;
		push @q, [ $kind, $s ];
		$n--;
	}
}
# the edge cases: a term no document holds, case folding, digits, the
# lower-case keywords are terms (only upper-case AND OR NOT are operators)
my @alpha = grep { /^[a-z]+$/ } @freq;
push @q, map { [ 'edge', $_ ] } 'zzzqqqxx', 'zzzqqqxx OR ' . $alpha[0], uc($alpha[1]),
  'Ab', '1913', 'and', '"not the"', 'or NOT and', 'near', '"of the" "in the"';
open(my $qf, '>', "$out/queries.tsv") or die "$out/queries.tsv: $!";
printf $qf "%d\t%s\t%s\n", $_ + 1, @{ $q[$_] } for 0 .. $#q;
close $qf or die;
printf STDERR "corpus: %d documents (of %d entries) x %d, %d queries, %d frequent, %d rare terms\n",
  $ndocs, $m, $repeat, scalar @q, scalar @freq, scalar @rare;
