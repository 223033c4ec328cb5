'use strict';
/*
 * vlake's S3 test server (test tooling only, never shipped).
 *
 * A front HTTP server on 127.0.0.1 that vlake talks to, in front of an
 * in-process s3rver (npm @20minutes/s3rver) listening on a private loopback
 * port.  The front adds what s3rver lacks and what vlake must be tested
 * against:
 *
 *  - its own AWS Signature V4 check, written from the AWS specification
 *    (canonical request with RFC 3986 escapes, payload hash, session token),
 *    on top of s3rver's own check: a request signed wrongly, unsigned or
 *    with a payload that does not match x-amz-content-sha256 is refused;
 *  - Content-MD5 checks (and Content-MD5 required for DeleteObjects);
 *  - conditional writes: PUT / CompleteMultipartUpload with
 *    If-None-Match: * (412 when the key exists) and If-Match: etag (412 on
 *    mismatch, 404 when missing), atomic with respect to every other request
 *    on the same key (per-key reader/writer locks);
 *  - atomic overwrite: readers never see a half-written object;
 *  - AbortMultipartUpload (DELETE ?uploadId=...) and ListMultipartUploads;
 *  - fault injection driven through an admin endpoint (see docs/s3.md);
 *  - temporary credentials with a session token (admin endpoint).
 *
 * Usage: node server.js --dir DIR --bucket NAME [--owner-pid PID]
 *                       [--max-lifetime SECONDS] [--port N]
 *                       [--tls-cert PEM --tls-key PEM]   (https)
 * When ready it writes DIR/ready.env with shell assignments.
 */

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

/* ------------------------------------------------------------ options -- */
function parseArgs(argv) {
  const opts = { maxLifetime: 6 * 3600 };
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${name}`);
    switch (name) {
      case '--dir': opts.dir = value; break;
      case '--bucket': opts.bucket = value; break;
      case '--owner-pid': opts.ownerPid = Number(value); break;
      case '--max-lifetime': opts.maxLifetime = Number(value); break;
      case '--port': opts.port = Number(value); break;
      case '--tls-cert': opts.tlsCert = value; break;
      case '--tls-key': opts.tlsKey = value; break;
      default: throw new Error(`unknown option ${name}`);
    }
  }
  if (!opts.dir || !opts.bucket) throw new Error('--dir and --bucket are required');
  return opts;
}

const opts = parseArgs(process.argv);
const randomKey = (n) => crypto.randomBytes(n).toString('hex');

/* Credentials: one long-lived pair, plus temporary ones (with a session
 * token) handed out by the admin endpoint. */
const credentials = new Map(); /* access key -> { secret, token } */
const mainAccessKey = 'VLAKETEST' + randomKey(6).toUpperCase();
const mainSecret = 'vlakesecret' + randomKey(16);
credentials.set(mainAccessKey, { secret: mainSecret, token: null });
const adminToken = randomKey(12);

const account = AWSAccount.DUMMY_ACCOUNT;
account.revokeAccessKey('S3RVER');
account.createKeyPair(mainAccessKey, mainSecret);

/* --------------------------------------------------------------- util -- */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, (c) => ({
    '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;',
  })[c]);
}

function sendError(res, status, code, message, resource) {
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
    (resource ? `<Resource>${xmlEscape(resource)}</Resource>` : '') +
    `<RequestId>${randomKey(8)}</RequestId></Error>`;
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/* RFC 3986 unreserved characters stay, everything else is %XX upper case. */
function uriEscape(s, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/* Decode a raw query string into [name, value] pairs, keeping empty values. */
function parseQuery(raw) {
  if (!raw) return [];
  return raw.split('&').filter((p) => p.length > 0).map((p) => {
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    const dec = (x) => decodeURIComponent(x.replace(/\+/g, '%20'));
    return [dec(name), dec(value)];
  });
}

const sha256hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

/* ------------------------------------------------------ SigV4 checking -- */
/*
 * Returns null when the request is correctly signed, else [status, code,
 * message].  Independent of s3rver's check and stricter: unsigned requests,
 * payload-hash mismatches and missing session tokens are refused.
 */
function verifySignature(req, rawPath, rawQuery, body) {
  const auth = req.headers.authorization;
  if (!auth) return [403, 'AccessDenied', 'Anonymous access is not allowed on this test server'];
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed'];
  const [akid, date, region, service, term] = m[1].split('/');
  const signedHeaders = m[2].split(';');
  const cred = credentials.get(akid);
  if (!cred) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  if (service !== 's3' || term !== 'aws4_request' || !/^\d{8}$/.test(date || ''))
    return [400, 'AuthorizationHeaderMalformed', 'bad credential scope'];
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate || !amzDate.startsWith(date))
    return [403, 'AccessDenied', 'x-amz-date missing or not matching the credential scope'];
  const t = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (isNaN(t) || Math.abs(Date.now() - t) > 15 * 60 * 1000)
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signedHeaders.includes(h)) return [403, 'AccessDenied', `header ${h} must be signed`];
  if (cred.token !== null) {
    if (req.headers['x-amz-security-token'] !== cred.token || !signedHeaders.includes('x-amz-security-token'))
      return [403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.'];
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!/^[0-9a-f]{64}$/.test(payloadHash || ''))
    return [400, 'InvalidArgument', 'x-amz-content-sha256 must be the hex SHA-256 of the payload'];
  if (payloadHash !== sha256hex(body))
    return [400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."];

  /* canonical request */
  let decodedPath;
  try { decodedPath = decodeURIComponent(rawPath); } catch (e) {
    return [400, 'InvalidURI', 'Could not parse the specified URI.'];
  }
  const canonicalUri = uriEscape(decodedPath, true);
  const canonicalQuery = parseQuery(rawQuery)
    .map(([k, v]) => [uriEscape(k, false), uriEscape(v, false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const sorted = [...signedHeaders].sort();
  if (sorted.join(';') !== signedHeaders.join(';'))
    return [403, 'SignatureDoesNotMatch', 'SignedHeaders must be sorted'];
  let canonicalHeaders = '';
  for (const h of signedHeaders) {
    const v = req.headers[h];
    if (v === undefined) return [403, 'SignatureDoesNotMatch', `signed header ${h} is missing`];
    canonicalHeaders += `${h}:${String(v).trim().replace(/\s+/g, ' ')}\n`;
  }
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders,
    signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/${term}`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  let key = hmac('AWS4' + cred.secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(m[3])))
    return [403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
  return null;
}

/* ------------------------------------------------------ per-key locks -- */
/* Reader/writer lock per "bucket/key": writers are exclusive, so a
 * conditional check and the write it guards are one atomic step and a
 * reader never sees a half-replaced object. */
const locks = new Map();

function lockState(name) {
  let s = locks.get(name);
  if (!s) { s = { readers: 0, writer: false, queue: [] }; locks.set(name, s); }
  return s;
}

function pump(name) {
  const s = locks.get(name);
  if (!s) return;
  while (s.queue.length > 0) {
    const head = s.queue[0];
    if (head.exclusive) {
      if (s.writer || s.readers > 0) break;
      s.writer = true;
    } else {
      if (s.writer) break;
      s.readers++;
    }
    s.queue.shift();
    head.resolve();
  }
  if (!s.writer && s.readers === 0 && s.queue.length === 0) locks.delete(name);
}

function acquire(name, exclusive) {
  const s = lockState(name);
  return new Promise((resolve) => {
    s.queue.push({ exclusive, resolve });
    pump(name);
  }).then(() => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) s.writer = false; else s.readers--;
      pump(name);
    };
  });
}

async function acquireAll(names, exclusive) {
  const releases = [];
  for (const n of [...new Set(names)].sort()) releases.push(await acquire(n, exclusive));
  return () => releases.reverse().forEach((r) => r());
}

/* ---------------------------------------------------- fault injection -- */
/*
 * A rule: { method: 'GET'|'*', key: 'regex on the decoded key', count: N,
 *           skip: M, action: 'status'|'delay'|'reset'|'drop'|'truncate'|'short',
 *           status, code, ms, when: 'before'|'after' }
 * The next `count` requests matching method+key (after skipping `skip`)
 * get the fault.  'status' answers an S3 error (when 'after': the request
 * is applied first and its response replaced, a "lost response");
 * 'reset' closes the connection without an answer (also 'before'/'after');
 * 'delay' waits ms then serves normally; 'drop' sends the headers and half
 * the body then resets the connection; 'truncate' sends half the body then
 * closes cleanly; 'short' sends half the body with a matching (lying)
 * Content-Length; 'answer' replies with the rule's status, headers and
 * body verbatim (malformed XML, lying headers) without touching the store.
 */
let faultRules = [];
let nextRuleId = 1;
let addedLatencyMs = 0;
const stats = { requests: 0, byMethod: {}, faultsFired: 0, rejected: 0, connections: 0 };

function takeFault(method, key) {
  for (const rule of faultRules) {
    if (rule.remaining <= 0) continue;
    if (rule.method !== '*' && rule.method !== method) continue;
    if (rule.keyRe && !rule.keyRe.test(key || '')) continue;
    if (rule.skip > 0) { rule.skip--; continue; }
    rule.remaining--;
    rule.fired++;
    stats.faultsFired++;
    return rule;
  }
  return null;
}

function addRule(r) {
  const actions = ['status', 'delay', 'reset', 'drop', 'truncate', 'short', 'answer'];
  if (!actions.includes(r.action)) throw new Error(`action must be one of ${actions.join(', ')}`);
  const rule = {
    id: nextRuleId++,
    method: (r.method || '*').toUpperCase(),
    key: r.key || null,
    keyRe: r.key ? new RegExp(r.key) : null,
    remaining: r.count === undefined ? 1 : Number(r.count),
    skip: Number(r.skip || 0),
    action: r.action,
    status: Number(r.status || 503),
    code: r.code || (Number(r.status) === 500 ? 'InternalError' : 'SlowDown'),
    ms: Number(r.ms || 0),
    when: r.when === 'after' ? 'after' : 'before',
    answerBody: r.body === undefined ? '' : String(r.body),
    answerHeaders: r.headers || {},
    fired: 0,
  };
  faultRules.push(rule);
  return rule.id;
}

/* ----------------------------------------------------------- requests -- */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('client aborted the request body')));
  });
}

/* Which bucket and key does the request address?  Path style
 * (/bucket/key) or virtual-hosted style (bucket.s3.localhost). */
function addressOf(req, rawPath) {
  const host = (req.headers.host || '').replace(/:\d+$/, '');
  let decoded;
  try { decoded = decodeURIComponent(rawPath); } catch (e) { return null; }
  const vh = /^(.+)\.s3\.localhost$/.exec(host);
  if (vh) return { bucket: vh[1], key: decoded.replace(/^\//, ''), vhost: true };
  const m = /^\/([^/]+)\/?(.*)$/s.exec(decoded);
  if (!m) return { bucket: null, key: '', vhost: false };
  return { bucket: m[1], key: m[2], vhost: false };
}

const etagOf = (s) => (s || '').replace(/^W\//, '').replace(/"/g, '').trim();

/* Current etag of an object, or null when it does not exist. */
async function currentEtag(bucket, key) {
  const exists = await s3.store.existsObject(bucket, key);
  if (!exists) return null;
  const meta = await s3.store.getMetadata(bucket, key);
  return etagOf(meta.etag);
}

function deleteKeysOf(body) {
  const keys = [];
  const re = /<Key>([\s\S]*?)<\/Key>/g;
  let m;
  const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
  while ((m = re.exec(body.toString('utf8'))) !== null) keys.push(unescape(m[1]));
  return keys;
}

/*
 * Forward to s3rver; resolves with { status, headers, body }.  Path-style
 * requests go as they came, so s3rver checks the signature a second time.
 * s3rver canonicalises virtual-hosted requests as /bucket/key, which is not
 * what SigV4 signs (the path as sent), so those (already verified above)
 * are forwarded path-style and unsigned, which s3rver accepts.
 */
function forward(req, body, addr) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    let reqPath = req.url;
    delete headers['transfer-encoding'];
    delete headers['expect'];
    if (addr.vhost) {
      reqPath = '/' + encodeURIComponent(addr.bucket) + req.url;
      headers.host = `127.0.0.1:${backendPort}`;
      delete headers.authorization;
    }
    const up = http.request({
      host: '127.0.0.1', port: backendPort, method: req.method, path: reqPath, headers,
    }, (ures) => {
      const chunks = [];
      ures.on('data', (c) => chunks.push(c));
      ures.on('end', () => resolve({ status: ures.statusCode, headers: ures.headers, body: Buffer.concat(chunks) }));
      ures.on('error', reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

function hardReset(res) {
  const sock = res.socket;
  if (sock) {
    if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
    else sock.destroy();
  }
}

/* Send an upstream answer, possibly damaged by a fault. */
function sendUpstream(res, up, fault) {
  const headers = { ...up.headers };
  delete headers['transfer-encoding'];
  delete headers['connection'];
  delete headers['keep-alive'];
  const body = up.body;
  if (fault && ['drop', 'truncate', 'short'].includes(fault.action) && body.length > 0) {
    const half = body.subarray(0, Math.floor(body.length / 2));
    if (fault.action === 'short') {
      headers['content-length'] = String(half.length);
      res.writeHead(up.status, headers);
      res.end(half);
      return;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(up.status, headers);
    res.write(half, () => {
      if (fault.action === 'drop') hardReset(res);
      else res.socket && res.socket.end();
    });
    return;
  }
  if (res.req.method === 'HEAD') {
    res.writeHead(up.status, headers); /* keeps the object's Content-Length */
    res.end();
    return;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(up.status, headers);
  res.end(body);
}

/* VLAKE_TEST_S3_REQUEST_LOG=FILE: one line per request (ms since start,
 * method, path, Range), to see how many round trips a query really makes. */
const requestLog = process.env.VLAKE_TEST_S3_REQUEST_LOG;
const startedAt = Date.now();
let requestLogBroken = false;
function logRequest(req, rawPath) {
  if (!requestLog || requestLogBroken) return;
  const line = `${Date.now() - startedAt} ${req.method} ${rawPath} ${req.headers.range || ''}\n`;
  try {
    fs.appendFileSync(requestLog, line);
  } catch (e) {
    /* a log this server cannot write is not a reason to fail the request */
    requestLogBroken = true;
    process.stderr.write(`s3server: request log ${requestLog} not written: ${e.message}\n`);
  }
}

async function handleS3(req, res) {
  const url = new URL(req.url, 'http://x');
  const qpos = req.url.indexOf('?');
  const rawPath = qpos < 0 ? req.url : req.url.slice(0, qpos);
  const rawQuery = qpos < 0 ? '' : req.url.slice(qpos + 1);
  stats.requests++;
  stats.byMethod[req.method] = (stats.byMethod[req.method] || 0) + 1;
  logRequest(req, rawPath);

  let body;
  try {
    body = await readBody(req, 1024 * 1024 * 1024);
  } catch (e) {
    return; /* the client went away mid-upload: nothing is applied */
  }
  const addr = addressOf(req, rawPath);
  const fault = takeFault(req.method, addr ? addr.key : '');
  const delay = addedLatencyMs + (fault && fault.action === 'delay' ? fault.ms : 0);
  if (delay > 0) await sleep(delay);
  if (fault && fault.when === 'before') {
    if (fault.action === 'status')
      return sendError(res, fault.status, fault.code, `injected fault ${fault.id}`, rawPath);
    if (fault.action === 'reset') return hardReset(res);
    if (fault.action === 'answer') {
      /* a hostile or broken server: exactly this status, headers and body */
      const b = Buffer.from(fault.answerBody, 'utf8');
      res.writeHead(fault.status, { 'Content-Length': String(b.length), ...fault.answerHeaders });
      return res.end(req.method === 'HEAD' ? undefined : b);
    }
  }

  const bad = verifySignature(req, rawPath, rawQuery, body);
  if (bad) { stats.rejected++; return sendError(res, bad[0], bad[1], bad[2], rawPath); }
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined && md5 !== crypto.createHash('md5').update(body).digest('base64'))
    return sendError(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', rawPath);
  if (!addr || !addr.bucket) return sendError(res, 400, 'InvalidURI', 'Could not parse the specified URI.', rawPath);

  const q = url.searchParams;
  const { bucket, key } = addr;
  const method = req.method;
  let lockNames = [];
  let exclusive = false;
  if (key && (method === 'PUT' && !q.has('uploadId') || method === 'DELETE' && !q.has('uploadId') ||
              method === 'POST' && q.has('uploadId'))) {
    lockNames = [`${bucket}/${key}`]; exclusive = true;
  } else if (key && (method === 'GET' || method === 'HEAD')) {
    lockNames = [`${bucket}/${key}`];
  } else if (!key && method === 'POST' && q.has('delete')) {
    if (md5 === undefined)
      return sendError(res, 400, 'InvalidRequest', 'Missing required header for this request: Content-MD5', rawPath);
    lockNames = deleteKeysOf(body).map((k) => `${bucket}/${k}`); exclusive = true;
  }
  const release = await acquireAll(lockNames, exclusive);
  res.on('close', release);
  try {
    const isObjectWrite = key && ((method === 'PUT' && !q.has('uploadId')) || (method === 'POST' && q.has('uploadId')));
    if (isObjectWrite && (req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined)) {
      const cur = await currentEtag(bucket, key);
      const inm = req.headers['if-none-match'];
      const im = req.headers['if-match'];
      if (inm !== undefined) {
        if (inm.trim() !== '*')
          return sendError(res, 501, 'NotImplemented', 'If-None-Match on writes supports only *', rawPath);
        if (cur !== null)
          return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', rawPath);
      }
      if (im !== undefined) {
        if (cur === null) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', rawPath);
        if (etagOf(im) !== cur)
          return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', rawPath);
      }
    }
    if (method === 'GET' && !key && q.has('uploads')) {
      /* ListMultipartUploads, which s3rver lacks (one page, all uploads) */
      const dir = s3.store.getResourcePath(bucket, undefined, 'uploads');
      const prefix = q.get('prefix') || '';
      const ups = [];
      for (const id of (fs.existsSync(dir) ? fs.readdirSync(dir) : [])) {
        let k;
        try { k = fs.readFileSync(path.join(dir, id, 'key'), 'utf8'); } catch (e) { continue; }
        if (!k.startsWith(prefix)) continue;
        ups.push({ k, id, t: fs.statSync(path.join(dir, id)).mtime });
      }
      ups.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.id < b.id ? -1 : 1));
      const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
        ups.map((u) => `<Upload><Key>${xmlEscape(u.k)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.t.toISOString()}</Initiated></Upload>`).join('') +
        '</ListMultipartUploadsResult>';
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
      return res.end(xml);
    }
    if (method === 'DELETE' && key && q.has('uploadId')) {
      const id = q.get('uploadId');
      if (!/^[0-9a-f]{8,64}$/.test(id)) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', rawPath);
      const dir = path.join(s3.store.getResourcePath(bucket, undefined, 'uploads'), id);
      if (!fs.existsSync(dir)) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', rawPath);
      fs.rmSync(dir, { recursive: true, force: true });
      res.writeHead(204, { 'Content-Length': '0' });
      return res.end();
    }
    if (key && q.has('uploadId') && (method === 'PUT' || method === 'POST')) {
      /* s3rver answers 500 for an upload that is gone; S3 says 404 */
      const id = q.get('uploadId');
      const dir = path.join(s3.store.getResourcePath(bucket, undefined, 'uploads'), /^[0-9a-f]{8,64}$/.test(id) ? id : 'none');
      if (!fs.existsSync(dir)) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', rawPath);
    }
    const up = await forward(req, body, addr);
    if (fault && fault.when === 'after') {
      if (fault.action === 'status')
        return sendError(res, fault.status, fault.code, `injected fault ${fault.id}`, rawPath);
      if (fault.action === 'reset') return hardReset(res);
    }
    sendUpstream(res, up, fault && fault.when === 'before' ? fault : null);
  } catch (e) {
    if (!res.headersSent) sendError(res, 500, 'InternalError', `test server: ${e.message}`, rawPath);
    else hardReset(res);
  }
}

/* -------------------------------------------------------------- admin -- */
function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function handleAdmin(req, res, sub) {
  let body;
  try { body = await readBody(req, 1024 * 1024); } catch (e) { return; }
  let json = {};
  if (body.length > 0) {
    try { json = JSON.parse(body.toString('utf8')); } catch (e) { return sendJson(res, 400, { error: 'bad JSON' }); }
  }
  try {
    if (sub === '/health') return sendJson(res, 200, { ok: true });
    if (sub === '/faults' && req.method === 'POST') {
      const ids = [].concat(json).map(addRule);
      return sendJson(res, 200, { ids });
    }
    if (sub === '/faults' && req.method === 'DELETE') { faultRules = []; return sendJson(res, 200, { ok: true }); }
    if (sub === '/faults' && req.method === 'GET')
      return sendJson(res, 200, faultRules.map(({ keyRe, ...r }) => r));
    if (sub === '/latency' && (req.method === 'PUT' || req.method === 'POST')) {
      addedLatencyMs = Math.max(0, Number(json.ms || 0));
      return sendJson(res, 200, { ms: addedLatencyMs });
    }
    if (sub === '/stats' && req.method === 'GET') return sendJson(res, 200, stats);
    if (sub === '/stats' && req.method === 'DELETE') {
      stats.requests = 0; stats.byMethod = {}; stats.faultsFired = 0; stats.rejected = 0; stats.connections = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (sub === '/session' && req.method === 'POST') {
      const ak = 'VLAKETMP' + randomKey(6).toUpperCase();
      const sk = 'vlaketmpsecret' + randomKey(16);
      const token = 'vlaketoken' + randomKey(24);
      credentials.set(ak, { secret: sk, token });
      account.createKeyPair(ak, sk);
      return sendJson(res, 200, { access_key: ak, secret_key: sk, session_token: token });
    }
    if (sub === '/object' && req.method === 'GET') {
      /* an object's bytes straight from the store: a test oracle that
       * does not go through any S3 client */
      const key = new URL(req.url, 'http://x').searchParams.get('key') || '';
      const obj = await s3.store.getObject(opts.bucket, key);
      if (!obj) return sendJson(res, 404, { error: 'no such key' });
      const chunks = [];
      for await (const c of obj.content) chunks.push(c);
      const bytes = Buffer.concat(chunks);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
      return res.end(bytes);
    }
    if (sub === '/keys' && req.method === 'GET') {
      const prefix = new URL(req.url, 'http://x').searchParams.get('prefix') || '';
      const r = await s3.store.listObjects(opts.bucket, { prefix, maxKeys: Infinity });
      return sendJson(res, 200, { keys: r.objects.map((o) => o.key).sort() });
    }
    if (sub === '/uploads' && req.method === 'GET') {
      /* in-progress multipart uploads of the test bucket (for leak checks) */
      const prefix = new URL(req.url, 'http://x').searchParams.get('prefix') || '';
      const dir = s3.store.getResourcePath(opts.bucket, undefined, 'uploads');
      const ids = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((id) => {
        try { return fs.readFileSync(path.join(dir, id, 'key'), 'utf8').startsWith(prefix); } catch (e) { return false; }
      });
      return sendJson(res, 200, { uploads: ids });
    }
    return sendJson(res, 404, { error: `no admin route ${req.method} ${sub}` });
  } catch (e) {
    return sendJson(res, 400, { error: e.message });
  }
}

/* -------------------------------------------------------------- start -- */
let s3;
let backendPort;
let front;

async function main() {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch (e) {
    throw new Error('s3rver needs DES for ListObjectsV2 continuation tokens: run node with --openssl-legacy-provider');
  }
  const dataDir = path.join(opts.dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dataDir,
    serviceEndpoint: 'localhost',
    configureBuckets: [{ name: opts.bucket }],
  });
  const addr = await s3.run();
  backendPort = addr.port;

  const adminPrefix = `/__admin/${adminToken}`;
  const tls = opts.tlsCert && opts.tlsKey
    ? { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) } : null;
  const onRequest = (req, res) => {
    const p = req.url.split('?')[0];
    const handler = p.startsWith(adminPrefix)
      ? handleAdmin(req, res, p.slice(adminPrefix.length) || '/health')
      : handleS3(req, res);
    handler.catch((e) => {
      try { if (!res.headersSent) sendError(res, 500, 'InternalError', `test server: ${e.message}`); else hardReset(res); } catch (_) { /* gone */ }
    });
  };
  front = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  front.on('connection', () => { stats.connections++; });
  front.keepAliveTimeout = 30000;
  await new Promise((resolve, reject) => front.listen(opts.port || 0, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  const port = front.address().port;
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const env = [
    `VLAKE_TEST_S3_ENDPOINT=${endpoint}`,
    `VLAKE_TEST_S3_ADMIN=${endpoint}${adminPrefix}`,
    `VLAKE_TEST_S3_ACCESS_KEY=${mainAccessKey}`,
    `VLAKE_TEST_S3_SECRET_KEY=${mainSecret}`,
    `VLAKE_TEST_S3_BUCKET=${opts.bucket}`,
    `s3_pid=${process.pid}`,
  ].join('\n') + '\n';
  const ready = path.join(opts.dir, 'ready.env');
  fs.writeFileSync(ready + '.tmp', env, { mode: 0o600 });
  fs.renameSync(ready + '.tmp', ready);
}

function shutdown(code) {
  try { if (front) front.close(); } catch (_) { /* ignore */ }
  try { if (s3 && s3.httpServer) s3.close(); } catch (_) { /* ignore */ }
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));

/* Never outlive the process that started us, nor a maximum lifetime. */
if (opts.ownerPid) {
  setInterval(() => {
    try { process.kill(opts.ownerPid, 0); } catch (e) { if (e.code === 'ESRCH') shutdown(0); }
  }, 500).unref();
}
// Node timers overflow past 2^31-1 ms (about 24.8 days): re-arm in steps.
const lifetimeDeadline = Date.now() + opts.maxLifetime * 1000;
(function armLifetime() {
  const left = lifetimeDeadline - Date.now();
  if (left <= 0) shutdown(0);
  else setTimeout(armLifetime, Math.min(left, 2 ** 31 - 1)).unref();
})();

main().catch((e) => {
  process.stderr.write(`s3 test server failed to start: ${e.stack || e}\n`);
  process.exit(1);
});
