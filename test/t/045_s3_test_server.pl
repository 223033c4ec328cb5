# The S3 test server itself (test/tools/s3server): the suites above rely on
# it refusing what real S3 refuses, so that vlake's signing or conditional
# write bugs cannot pass unnoticed.  Requests are signed here by a third,
# independent SigV4 implementation (Perl, from the AWS specification).
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use Digest::SHA qw(sha256_hex hmac_sha256 hmac_sha256_hex);
use Digest::MD5 qw(md5_base64);
use POSIX qw(strftime);
use lib "$ENV{VLAKE_SRC}/test/perl";
use VlakeS3 qw(s3_available s3_admin s3_env s3_unique_prefix);

plan skip_all => 'S3 test server not running (see docs/s3.md)' unless s3_available();

my $ep = s3_env('endpoint');
my ($hostport) = $ep =~ m{^https?://(.*)$};
my $bucket = s3_env('bucket');
my $http = HTTP::Tiny->new(timeout => 30);
my $p = s3_unique_prefix('server');

sub esc
{
	my ($s, $keep_slash) = @_;
	$s =~ s/([^A-Za-z0-9\-._~\/])/sprintf('%%%02X', ord($1))/ge;
	$s =~ s/\//%2F/g unless $keep_slash;
	return $s;
}

# request(METHOD, KEY, %opt) -> HTTP::Tiny response.  opt: body, query
# (hashref), headers (extra, signed), secret, time (epoch), sign_body (the
# payload hash to claim), unsigned, tamper_query.
sub request
{
	my ($method, $key, %o) = @_;
	my $body = $o{body} // '';
	my $t = $o{time} // time();
	my $amz_date = strftime('%Y%m%dT%H%M%SZ', gmtime($t));
	my $date = substr($amz_date, 0, 8);
	my $path = "/$bucket" . (defined $key ? '/' . esc($key, 1) : '');
	my %q = %{ $o{query} // {} };
	my $cq = join('&', map { esc($_) . '=' . esc($q{$_}) } sort keys %q);
	my %h = (
		host => $hostport,
		'x-amz-date' => $amz_date,
		'x-amz-content-sha256' => $o{sign_body} // sha256_hex($body),
		%{ $o{headers} // {} });
	my @names = sort keys %h;
	my $canonical = join("\n", $method, $path, $cq,
		join('', map { "$_:$h{$_}\n" } @names), join(';', @names), $h{'x-amz-content-sha256'});
	my $scope = "$date/us-east-1/s3/aws4_request";
	my $sts = join("\n", 'AWS4-HMAC-SHA256', $amz_date, $scope, sha256_hex($canonical));
	my $k = hmac_sha256($date, 'AWS4' . ($o{secret} // s3_env('secret_key')));
	$k = hmac_sha256('us-east-1', $k);
	$k = hmac_sha256('s3', $k);
	$k = hmac_sha256('aws4_request', $k);
	my $sig = hmac_sha256_hex($sts, $k);
	my %send = %h;
	delete $send{host};
	$send{authorization} = 'AWS4-HMAC-SHA256 Credential=' . s3_env('access_key') . "/$scope, SignedHeaders="
	  . join(';', @names) . ", Signature=$sig"
	  unless $o{unsigned};
	$cq = $o{tamper_query} if defined $o{tamper_query};
	return $http->request($method, "$ep$path" . ($cq ne '' ? "?$cq" : ''),
		{ headers => \%send, content => $body });
}

sub code_of { my $r = shift; return ($r->{content} =~ /<Code>([^<]*)<\/Code>/)[0] // '' }

my $r = request('GET', "${p}missing");
is("$r->{status} " . code_of($r), '404 NoSuchKey', 'a request signed by an independent signer is accepted');
$r = request('PUT', "${p}a b+c", body => 'data');
is($r->{status}, 200, 'PUT of a key that needs escaping');
$r = request('GET', "${p}a b+c");
is($r->{content}, 'data', 'and GET returns it');
$r = request('GET', undef, query => { 'list-type' => '2', prefix => "${p}a" });
like($r->{content}, qr/<Key>\Q${p}a b+c\E<\/Key>/, 'ListObjectsV2 with a signed query');

# refusals
$r = request('GET', "${p}a b+c", secret => 'not-the-secret');
is("$r->{status} " . code_of($r), '403 SignatureDoesNotMatch', 'wrong secret key: refused');
$r = request('GET', "${p}a b+c", unsigned => 1);
is("$r->{status} " . code_of($r), '403 AccessDenied', 'unsigned request: refused');
$r = request('PUT', "${p}x", body => 'data', sign_body => sha256_hex('other'));
is("$r->{status} " . code_of($r), '400 XAmzContentSHA256Mismatch', 'payload not matching its signed hash: refused');
$r = request('PUT', "${p}x", body => 'data', headers => { 'content-md5' => md5_base64('other') . '==' });
is("$r->{status} " . code_of($r), '400 BadDigest', 'Content-MD5 mismatch: refused');
$r = request('GET', undef, query => { 'list-type' => '2', prefix => 'a' }, tamper_query => 'list-type=2&prefix=b');
is("$r->{status} " . code_of($r), '403 SignatureDoesNotMatch', 'query changed after signing: refused');
$r = request('GET', "${p}a b+c", time => time() - 20 * 60);
is("$r->{status} " . code_of($r), '403 RequestTimeTooSkewed', 'a 20-minute-old signature: refused');
my $del = "<Delete><Object><Key>${p}x</Key></Object></Delete>";
$r = request('POST', undef, query => { delete => '' }, body => $del);
is("$r->{status} " . code_of($r), '400 InvalidRequest', 'DeleteObjects without Content-MD5: refused');
is(request('GET', "${p}x")->{status}, 404, 'nothing refused above was applied');

# conditional writes
$r = request('PUT', "${p}c", body => 'one', headers => { 'if-none-match' => '*' });
is($r->{status}, 200, 'If-None-Match: * creates');
my $etag = $r->{headers}{etag};
$r = request('PUT', "${p}c", body => 'two', headers => { 'if-none-match' => '*' });
is("$r->{status} " . code_of($r), '412 PreconditionFailed', 'If-None-Match: * on an existing key: 412');
$r = request('PUT', "${p}c", body => 'two', headers => { 'if-match' => '"0123"' });
is($r->{status}, 412, 'If-Match with another etag: 412');
$r = request('PUT', "${p}nokey", body => 'two', headers => { 'if-match' => $etag });
is($r->{status}, 404, 'If-Match on a missing key: 404');
$r = request('PUT', "${p}c", body => 'two', headers => { 'if-match' => $etag });
is($r->{status}, 200, 'If-Match with the current etag replaces');
is(request('GET', "${p}c")->{content}, 'two', 'the conditional replace is stored');

# faults are consumed as asked
s3_admin('POST', '/faults', { method => 'GET', key => quotemeta("${p}c"), action => 'status', status => 503, code => 'SlowDown', count => 2 });
is(code_of(request('GET', "${p}c")), 'SlowDown', 'fault 1 of 2');
is(code_of(request('GET', "${p}c")), 'SlowDown', 'fault 2 of 2');
is(request('GET', "${p}c")->{content}, 'two', 'then served normally');
s3_admin('DELETE', '/faults');

done_testing();
