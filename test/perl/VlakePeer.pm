# VlakePeer — pgvector 0.8.6, the test peer, for TAP suites: built from its
# release tarball in ../shared/peers/ by scripts/peer-pgvector.sh into a
# private install of the same PostgreSQL (never part of vlake).
package VlakePeer;

use strict;
use warnings;
use File::Copy qw(copy);
use Test::More;

our @EXPORT_OK = qw(peer_pgvector peer_add_vlake);
use Exporter 'import';

# Build (or reuse the cached build of) pgvector into a private install under
# $dir; returns that install's bin directory.  Skips the whole test when the
# tarball is not there (peer-pgvector.sh exits 3), dies on a failed build.
# cflags => '' builds with float sums in source order (no
# -fassociative-math), for tests that compare distances bit for bit.
sub peer_pgvector
{
	my ($dir, %opt) = @_;
	my $src = $ENV{VLAKE_SRC} // '.';
	my $env = exists $opt{cflags} ? "PGVECTOR_CFLAGS='$opt{cflags}' " : '';
	my $out = `${env}$src/scripts/peer-pgvector.sh $dir 2>&1`;
	my $rc  = $? >> 8;
	plan skip_all => 'pgvector tarball not available (scripts/peer-pgvector.sh)' if $rc == 3;
	die "scripts/peer-pgvector.sh failed:\n$out" if $rc != 0;
	return (split /\n/, $out)[-1];
}

# Copy the vlake under test (the pg_config on PATH) into the peer's install,
# so that one cluster of that install can load both extensions.
sub peer_add_vlake
{
	my ($bindir) = @_;
	chomp(my $vl_lib   = `pg_config --pkglibdir`);
	chomp(my $vl_share = `pg_config --sharedir`);
	chomp(my $lib      = `$bindir/pg_config --pkglibdir`);
	chomp(my $share    = `$bindir/pg_config --sharedir`);
	copy("$vl_lib/vlake.so", "$lib/vlake.so") or die "copy vlake.so: $!";
	for my $f (glob("$vl_share/extension/vlake*"))
	{
		copy($f, "$share/extension/") or die "copy $f: $!";
	}
	return;
}

1;
