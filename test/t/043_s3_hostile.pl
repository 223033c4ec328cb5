# A broken or hostile S3 server: malformed XML, lying headers, wrong
# ranges, answers that do not fit.  Each gets a clear ERROR naming the
# object (after retries where a retry can help), the backend never crashes,
# and the session stays usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_oracle_get s3_setup_node s3_unique_prefix s3_env);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $node = PostgreSQL::Test::Cluster->new('s3hostile');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'vlake'
vlake.cache_size = 0
vlake.cache_memory_size = 0
vlake.s3_max_retries = 2
vlake.s3_retry_base_delay = 5
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vlake');
my $root = s3_setup_node($node);
my $p = s3_unique_prefix('hostile');
my $base = "$root$p";
my $qp = quotemeta($p);

sub sql { return $node->safe_psql('postgres', shift) }
sub err_of { my (undef, undef, $err) = $node->psql('postgres', shift); return $err }
sub answer
{
	my (%r) = @_;
	s3_admin('DELETE', '/faults');
	s3_admin('POST', '/faults', { action => 'answer', count => 100, %r });
}

sql("SELECT vlake.lake_write('${base}obj', decode(repeat('ab', 5000), 'hex'))");
sql("SELECT vlake.lake_write('${base}dir/k1', 'x')");

my @cases = (
	[ 'listing that is not XML', { method => 'GET', key => '^$', status => 200, body => 'hello, not xml' },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/could not list "s3:\/\/.*dir\/": the answer is not a ListBucketResult/ ],
	[ 'truncated listing XML', { method => 'GET', key => '^$', status => 200,
		body => '<ListBucketResult><Contents><Key>' . $p . 'dir/k1</Key><Size>1' },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/invalid XML in the S3 response for "s3:\/\/.*dir\/": element not closed/ ],
	[ 'listing with a key outside the prefix', { method => 'GET', key => '^$', status => 200,
		body => '<ListBucketResult><Contents><Key>elsewhere/k</Key><Size>1</Size></Contents></ListBucketResult>' },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/returned a key outside the prefix/ ],
	[ 'listing with a bad size', { method => 'GET', key => '^$', status => 200,
		body => "<ListBucketResult><Contents><Key>${p}dir/k1</Key><Size>-1</Size></Contents></ListBucketResult>" },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/invalid object size "-1" in the S3 listing of "s3:\/\/.*dir\/"/ ],
	[ 'truncated listing without a token', { method => 'GET', key => '^$', status => 200,
		body => "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>" },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/truncated page without a new continuation token/ ],
	[ 'listing with a DTD (entity expansion)', { method => 'GET', key => '^$', status => 200,
		body => '<!DOCTYPE x [<!ENTITY a "aaaa">]><ListBucketResult>&a;</ListBucketResult>' },
	  "SELECT count(*) FROM vlake.lake_list('${base}dir/')", qr/DTD and CDATA sections are not accepted/ ],
	[ 'error answer with a broken XML body', { method => 'GET', key => "${qp}obj", status => 403, body => '<Error><Code>Acc' },
	  "SELECT vlake.lake_read('${base}obj', 0, 10)", qr/could not read "s3:\/\/.*obj": HTTP 403/ ],
	[ 'range answered with another range', { method => 'GET', key => "${qp}obj", status => 206,
		headers => { 'Content-Range' => 'bytes 5-14/10000' }, body => '0123456789' },
	  "SELECT vlake.lake_read('${base}obj', 0, 10)", qr/could not read "s3:\/\/.*obj": the answer to a range request is not that range/ ],
	[ 'range answered with 200 and a whole body', { method => 'GET', key => "${qp}obj", status => 200, body => 'x' x 10000 },
	  "SELECT vlake.lake_read('${base}obj', 0, 10)", qr/could not read "s3:\/\/.*obj": (response body longer|the answer to a range request)/ ],
	[ 'whole GET whose body does not match its MD5 ETag', { method => 'GET', key => "${qp}obj", status => 200,
		headers => { 'ETag' => '"00000000000000000000000000000000"' }, body => 'tampered' },
	  "SELECT vlake.lake_read('${base}obj')", qr/could not read "s3:\/\/.*obj": .*(MD5|range)/ ],
	[ 'HEAD without Content-Length', { method => 'HEAD', key => "${qp}obj", status => 200, headers => { 'Content-Length' => undef } },
	  "SELECT * FROM vlake.lake_stat('${base}obj')", qr/(no Content-Length|could not stat)/ ],
	[ 'a 300-character ETag', { method => 'HEAD', key => "${qp}obj", status => 200, headers => { 'ETag' => '"' . ('e' x 300) . '"' } },
	  "SELECT length(etag) FROM vlake.lake_stat('${base}obj')", undef ],
	[ 'CreateMultipartUpload answer without an UploadId', { method => 'POST', key => "${qp}big", status => 200, body => '<InitiateMultipartUploadResult/>' },
	  "SET vlake.s3_part_size = '5MB'; SELECT vlake.lake_write_agg('${base}big', decode(repeat('ab', 1048576), 'hex')) FROM generate_series(1, 6)",
	  qr/could not start the multipart upload of "s3:\/\/.*big": no UploadId/ ],
	[ 'DeleteObjects answer reporting a failed key', { method => 'POST', key => '^$', status => 200,
		body => "<DeleteResult><Error><Key>${p}dir/k1</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>" },
	  "SELECT vlake.lake_delete_many('${base}', ARRAY['dir/k1', 'dir/k2'])", qr/could not delete "s3:\/\/.*dir\/k1": AccessDenied/ ],
);

for my $c (@cases)
{
	my ($name, $rule, $query, $want) = @$c;
	next unless defined $query;
	answer(%$rule);
	my $err = err_of($query);
	if (defined $want)
	{
		like($err, $want, "$name: clear ERROR");
	}
	else
	{
		is($err, '', "$name: handled");
	}
	s3_admin('DELETE', '/faults');
	is(sql('SELECT 1'), '1', "  ($name: the server is still up)");
}
s3_admin('DELETE', '/faults');
is(sql("SELECT length(vlake.lake_read('${base}obj'))"), '5000', 'after all that, reads work again');
is(s3_oracle_get("${p}big"), undef, 'no partial object from the failed multipart upload');

$node->stop;
done_testing();
