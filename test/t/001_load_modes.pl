# vlake works loaded per session and loaded at server start.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('per_session');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
is($node->safe_psql('postgres', 'SELECT vlake.version()'), '0.1.0',
	'extension usable without shared_preload_libraries');
$node->stop;

my $pre = PostgreSQL::Test::Cluster->new('preloaded');
$pre->init;
$pre->append_conf('postgresql.conf', "shared_preload_libraries = 'vlake'");
$pre->start;
$pre->safe_psql('postgres', 'CREATE EXTENSION vlake');
is($pre->safe_psql('postgres', "SHOW shared_preload_libraries"), 'vlake',
	'server starts with vlake preloaded');
is($pre->safe_psql('postgres', 'SELECT vlake.version()'), '0.1.0',
	'extension usable when preloaded');
$pre->stop;

done_testing();
