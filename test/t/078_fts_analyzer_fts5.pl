# The full-text analyzer against SQLite FTS5 (docs/fulltext.md).
#
# 1. Real text: ~3,000 lines of GCIDE (Debian dict-gcide), the server's own
#    stop word lists (Latin, Cyrillic, Devanagari, Turkish scripts) and, when
#    installed, localized man pages, loaded into an FTS5 table with the
#    default tokenizer (unicode61, remove_diacritics 1); the tokens FTS5
#    stored, read back through fts5vocab 'instance' (term, doc, offset), must
#    equal vlake.fts_tokens(line, 'simple') row by row: same terms at the
#    same positions.
# 2. Every Unicode scalar value c: the document 'a' c 'b ' c tokenizes as in
#    FTS5, except the code points whose properties changed between SQLite's
#    built-in tables (Unicode 6.1) and ours (Unicode 15): assigned after 6.1
#    (DerivedAge.txt, Debian unicode-data) or recategorized since (named
#    below).  That is more than 1.1 million identical code points.
# 3. Stemming: every distinct word of the GCIDE lines stemmed by
#    vlake.fts_tokens(word, '<language>') equals the Snowball `stemwords`
#    command's output (Debian libstemmer-tools) for english, porter and
#    german; the language's stop words give no term.
# 4. Other server encodings: LATIN1 (converted both ways), SQL_ASCII (bytes
#    that are not UTF-8: a clear error).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode qw(decode FB_CROAK);

my $gcide = '/usr/share/dictd/gcide.dict.dz';
my $ages = '/usr/share/unicode/DerivedAge.txt';
for my $need ($gcide, $ages)
{
	ok(-r $need, "$need is installed (scripts/install-deps.sh test)") or BAIL_OUT("missing $need");
}
for my $cmd (qw(sqlite3 stemwords))
{
	ok(system("command -v $cmd >/dev/null") == 0, "$cmd is installed") or BAIL_OUT("missing $cmd");
}

my $node = PostgreSQL::Test::Cluster->new('fts');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $dir = PostgreSQL::Test::Utils::tempdir('fts');

sub valid_utf8
{
	my $b = shift;
	return eval { decode('UTF-8', $b, FB_CROAK); 1 };
}

# ---- the documents ------------------------------------------------------
my @docs;
open(my $gz, '-|', 'zcat', $gcide) or die "zcat: $!";
my $n = 0;
while (my $l = <$gz>)
{
	chomp $l;
	push @docs, $l if ($n++ % 400) == 0 && $l =~ /\S/;
}
close $gz;
my $ngcide = scalar @docs;
cmp_ok($ngcide, '>=', 2000, "$ngcide lines of GCIDE");

my $share = $node->safe_psql('postgres', "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'");
my $nstop = 0;
for my $f (sort glob("$share/tsearch_data/*.stop"))
{
	open(my $fh, '<:raw', $f) or die "$f: $!";
	my @w = grep { /\S/ } map { chomp; $_ } <$fh>;
	close $fh;
	while (my @chunk = splice(@w, 0, 8))
	{
		push @docs, join(' ', @chunk);
		$nstop++;
	}
}
my $nman = 0;
for my $lang (qw(de fr ru pl cs es it pt_BR sv ja ko))
{
	for my $f ((sort glob("/usr/share/man/$lang/man1/*.gz"))[0 .. 3])
	{
		next unless defined $f && -r $f;
		open(my $mz, '-|', 'zcat', $f) or next;
		while (my $l = <$mz>)
		{
			chomp $l;
			next unless $l =~ /[^\x00-\x7f]/ && valid_utf8($l);
			push @docs, $l;
			last if ++$nman % 100 == 0;
		}
		close $mz;
	}
}
note("documents: $ngcide GCIDE lines, $nstop lines of stop words, $nman man page lines");
@docs = grep { valid_utf8($_) && !/\x00/ } @docs;

# the same bytes to both engines, in hex
my $sqlite_sql = "$dir/load.sql";
open(my $sq, '>', $sqlite_sql) or die;
print $sq "CREATE VIRTUAL TABLE t USING fts5(x);\n";
print $sq "CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');\nBEGIN;\n";
open(my $pg, '>', "$dir/docs.tsv") or die;
for my $i (0 .. $#docs)
{
	my $hex = unpack('H*', $docs[$i]);
	printf $sq "INSERT INTO t(rowid, x) VALUES (%d, CAST(X'%s' AS TEXT));\n", $i + 1, $hex;
	printf $pg "%d\t%s\n", $i + 1, $hex;
}
close $pg;
print $sq "COMMIT;\n.mode tabs\n.output $dir/fts5.tsv\n";
print $sq "SELECT doc, \"offset\", term FROM v ORDER BY doc, \"offset\";\n";

# the code point sweep, one document per scalar value (row IDs from 10^7)
print $sq <<'SQL';
.output stdout
CREATE VIRTUAL TABLE s USING fts5(x);
CREATE VIRTUAL TABLE sv USING fts5vocab(s, 'instance');
WITH RECURSIVE c(cp) AS (SELECT 1 UNION ALL SELECT cp + 1 FROM c WHERE cp < 1114111)
INSERT INTO s(rowid, x) SELECT cp, 'a' || char(cp) || 'b ' || char(cp) FROM c
  WHERE cp NOT BETWEEN 55296 AND 57343;
SQL
print $sq ".mode tabs\n.output $dir/fts5_sweep.tsv\n";
print $sq "SELECT doc, group_concat(term, ' ') FROM (SELECT doc, term FROM sv ORDER BY doc, \"offset\") GROUP BY doc ORDER BY doc;\n";
close $sq;
system("sqlite3 :memory: < $sqlite_sql") == 0 or die "sqlite3 failed";

$node->safe_psql('postgres', qq{
CREATE TABLE docs (id int, hex text);
COPY docs FROM '$dir/docs.tsv';
COPY (SELECT d.id, t.position, t.term
      FROM docs d, vlake.fts_tokens(convert_from(decode(d.hex, 'hex'), 'UTF8'), 'simple') t
      ORDER BY d.id, t.position) TO '$dir/vlake.tsv';
COPY (SELECT cp, (SELECT string_agg(term, ' ' ORDER BY position)
                  FROM vlake.fts_tokens('a' || chr(cp) || 'b ' || chr(cp), 'simple'))
      FROM generate_series(1, 1114111) cp WHERE cp NOT BETWEEN 55296 AND 57343
      ORDER BY cp) TO '$dir/vlake_sweep.tsv';
});

# ---- 1. real text: row by row -------------------------------------------
sub lines
{
	my $f = shift;
	open(my $fh, '<:raw', $f) or die "$f: $!";
	my @l = map { chomp; $_ } <$fh>;
	return \@l;
}
my $want = lines("$dir/fts5.tsv");
my $got = lines("$dir/vlake.tsv");
my @diff;
for my $i (0 .. ($#$want > $#$got ? $#$want : $#$got))
{
	my ($w, $g) = ($want->[$i] // '<none>', $got->[$i] // '<none>');
	push @diff, "row $i: FTS5 $w, vlake $g" if $w ne $g;
}
diag($_) for @diff[0 .. ($#diff < 9 ? $#diff : 9)];
cmp_ok(scalar @$want, '>', 20000, scalar(@$want) . ' tokens from FTS5');
is(scalar @diff, 0, scalar(@docs) . ' documents: vlake simple terms and positions equal FTS5\'s, row by row');

# ---- 2. every code point --------------------------------------------------
my %changed;
open(my $af, '<', $ages) or die;
while (<$af>)
{
	s/#.*//;
	next unless /^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*([0-9.]+)/;
	my ($lo, $hi, $v) = (hex $1, hex($2 // $1), $3);
	my ($maj, $min) = split /\./, $v;
	next unless $maj > 6 || ($maj == 6 && $min > 1);
	$changed{$_} = 1 for $lo .. $hi;
}
close $af;
# general category changed since Unicode 6.1: U+1885..1886 (letters then,
# marks now), U+19B0..19C0, U+19C8..19C9, U+1CF2..1CF3 (spacing marks then,
# letters now)
$changed{$_} = 1 for 0x1885 .. 0x1886, 0x19B0 .. 0x19C0, 0x19C8 .. 0x19C9, 0x1CF2 .. 0x1CF3;

my %f = map { split /\t/, $_, 2 } @{ lines("$dir/fts5_sweep.tsv") };
my %v = map { split /\t/, $_, 2 } @{ lines("$dir/vlake_sweep.tsv") };
my ($same, $bad, $skipped) = (0, 0, 0);
for my $cp (1 .. 0x10FFFF)
{
	next if $cp >= 0xD800 && $cp <= 0xDFFF;
	if ($changed{$cp}) { $skipped++; next; }
	if (($f{$cp} // '') eq ($v{$cp} // ''))
	{
		$same++;
	}
	else
	{
		diag(sprintf("U+%04X: FTS5 [%s], vlake [%s]", $cp, $f{$cp} // '', $v{$cp} // '')) if $bad++ < 10;
	}
}
is($bad, 0, "$same code points tokenize as in FTS5 ($skipped changed since Unicode 6.1 left out)");
cmp_ok($same, '>', 1050000, 'the sweep covered the code space');
# what the left-out code points look like: a documented difference, not a rule
my $newdiff = grep { $changed{$_} && ($f{$_} // '') ne ($v{$_} // '') } keys %changed;
note("$newdiff of the $skipped changed code points tokenize differently from FTS5's Unicode 6.1");

# ---- 3. stemming against the stemwords command ---------------------------
my %words;
$node->safe_psql('postgres', qq{
COPY (SELECT DISTINCT t.term FROM docs d,
        vlake.fts_tokens(convert_from(decode(d.hex, 'hex'), 'UTF8'), 'simple') t
      WHERE d.id <= $ngcide AND t.term ~ '^[a-z]+\$' ORDER BY 1) TO '$dir/words.txt';
CREATE TABLE words (w text);
COPY words FROM '$dir/words.txt';
});
my $words = lines("$dir/words.txt");
cmp_ok(scalar @$words, '>', 4000, scalar(@$words) . ' distinct words');
for my $lang (qw(english porter german))
{
	# the server's stop word list of the language, if it has one
	my %stop;
	if (open(my $sf, '<', "$share/tsearch_data/$lang.stop"))
	{
		while (<$sf>) { chomp; s/^\s+|\s+$//g; $stop{lc $_} = 1 if length; }
		close $sf;
	}
	system("stemwords -l $lang -i $dir/words.txt -o $dir/stem_$lang.txt") == 0 or die "stemwords $lang";
	my $stems = lines("$dir/stem_$lang.txt");
	$node->safe_psql('postgres', qq{
COPY (SELECT w, coalesce((SELECT string_agg(term, ' ') FROM vlake.fts_tokens(w, '$lang')), '')
      FROM words ORDER BY w) TO '$dir/vlake_$lang.txt';
});
	my %got = map { split /\t/, $_, 2 } @{ lines("$dir/vlake_$lang.txt") };
	my ($ok, $wrong, $stopped) = (0, 0, 0);
	for my $i (0 .. $#$words)
	{
		my $w = $words->[$i];
		my $expect = $stop{$w} ? '' : $stems->[$i];
		$stopped++ if $stop{$w};
		if (($got{$w} // '<none>') eq $expect) { $ok++; }
		else { diag("$lang: $w: stemwords [$expect], vlake [" . ($got{$w} // '<none>') . "]") if $wrong++ < 10; }
	}
	is($wrong, 0, "$lang: $ok words stem as the stemwords command does ($stopped stop words give no term)");
}
# a few known Snowball outputs, written out
is($node->safe_psql('postgres', q{SELECT string_agg(term, ' ' ORDER BY position)
  FROM vlake.fts_tokens('The generously running ponies of consistency', 'english')}),
	'generous run poni consist', 'known English stems; "the" and "of" are stop words');
is($node->safe_psql('postgres', q{SELECT string_agg(position || ':' || term, ' ' ORDER BY position)
  FROM vlake.fts_tokens('The generously running ponies of consistency')}),
	'1:generous 2:run 3:poni 5:consist', 'the default configuration is english; stop words keep their positions');

# ---- other server encodings ---------------------------------------------
# LATIN1: the text is converted to UTF-8 for the analyzer, terms back
$node->safe_psql('postgres', q{CREATE DATABASE latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('latin1', 'CREATE EXTENSION vlake');
is($node->safe_psql('latin1', q{SELECT string_agg(length(term) || ':' || encode(convert_to(term, 'LATIN1'), 'hex'), ' ' ORDER BY position)
  FROM vlake.fts_tokens(convert_from('\xc672f820c96ce97068616e74'::bytea, 'LATIN1'), 'simple')}),
	'3:e672f8 8:656c657068616e74', 'LATIN1 database: "Ærø Éléphant" (LATIN1 bytes) gives the LATIN1 terms "ærø" and "elephant"');
# SQL_ASCII stores any bytes: text that is not UTF-8 is a clear error
$node->safe_psql('postgres', q{CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('ascii', 'CREATE EXTENSION vlake');
my ($ret, $out, $err) = $node->psql('ascii',
	q{SELECT * FROM vlake.fts_tokens(convert_from('\x616220ff63'::bytea, 'SQL_ASCII'), 'english')});
isnt($ret, 0, 'SQL_ASCII database: invalid UTF-8 fails');
like($err, qr/ERROR:  full-text configuration "english": text is not valid UTF-8\nDETAIL:  Invalid byte sequence at byte offset 3\./,
	'the error names the configuration and the offset');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

$node->stop;
done_testing();
