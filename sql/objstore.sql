-- Lake I/O through the SQL operator functions: URIs, confinement, reads and
-- writes checked against SQL's own substring() as the oracle, conditional
-- writes, listing, streamed writes that fail, and exact I/O counters.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vlake;
RESET client_min_messages;
\getenv lake VLAKE_TEST_LAKE
SELECT set_config('test.lake', :'lake', false) IS NOT NULL AS lake_set;
\set root 'file://' :lake '/objstore_regress'
SELECT set_config('test.root', :'root', false) IS NOT NULL AS root_set;

-- Run a statement, return 'ok' or its SQLSTATE, message and detail with the
-- test's lake path replaced by $LAKE so the output does not depend on it.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN replace(SQLSTATE || ': ' || msg || coalesce(' / ' || nullif(det, ''), ''),
                 current_setting('test.lake'), '$LAKE');
END $$;
CREATE FUNCTION pg_temp.u(rel text) RETURNS text LANGUAGE sql
  AS $$ SELECT current_setting('test.root') || '/' || rel $$;
-- start from an empty directory (a previous run may have left objects)
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('rm -rf %s/objstore_regress', current_setting('test.lake')));
END $$;
-- 1 MiB of deterministic, non-repeating bytes (the oracle keeps its own copy)
CREATE TEMP TABLE blob AS
  SELECT string_agg(decode(md5(i::text), 'hex'), '' ORDER BY i) AS data
  FROM generate_series(1, 65536) i;
SELECT length(data) FROM blob;

-- ---------------------------------------------------------------- URIs
SELECT pg_temp.try($$SELECT vlake.lake_read('http://example.com/x')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('file://relative/x')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('file:///a/../b')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('file:///a//b')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('file:///a/./b')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('file:///a/.vlake-tmp.1')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read(E'file:///a/b\nc')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('s3://Bad_Bucket/x')$$);
SELECT pg_temp.try($$SELECT vlake.lake_read('s3://ab/x')$$);
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('')));

-- ---------------------------------------------------------- confinement
-- outside every allowed root
SELECT pg_temp.try($$SELECT vlake.lake_read('file:///etc/passwd')$$);
SELECT pg_temp.try($$SELECT vlake.lake_write('file:///tmp/vlake_regress_escape', 'x')$$);
-- a symlink inside the root that leads out of it is refused
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('mkdir -p %s/objstore_regress && ln -sfn /etc %s/objstore_regress/etc_link',
                 current_setting('test.lake'), current_setting('test.lake')));
END $$;
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('etc_link/passwd')));
SELECT pg_temp.try(format('SELECT vlake.lake_write(%L, %L)', pg_temp.u('etc_link/new'), 'x'));
-- a symlinked file leading out is refused below the store root too, and not listed
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('ln -sfn /etc/hostname %s/objstore_regress/host_link',
                 current_setting('test.lake')));
END $$;
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('host_link')));
SELECT key FROM vlake.lake_list(pg_temp.u(''));
-- an empty setting allows nothing, for superusers too
SET vlake.allowed_file_roots = '';
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('x')));
RESET vlake.allowed_file_roots;
SELECT pg_temp.try($$SET vlake.allowed_file_roots = 'relative/dir'$$);
SELECT pg_temp.try($$SET vlake.allowed_file_roots = '/a/../b'$$);
-- ordinary roles cannot call the functions nor widen the roots
CREATE ROLE objstore_regress_user;
SET ROLE objstore_regress_user;
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('x')));
SELECT pg_temp.try($$SET vlake.allowed_file_roots = '/'$$);
SELECT count(*) >= 0 AS own_counters_visible FROM vlake.io_stats;
RESET ROLE;
DROP ROLE objstore_regress_user;

-- ------------------------------------------------------- write and read
SELECT vlake.lake_write(pg_temp.u('data/blob.bin'), data) FROM blob;
-- a symlink that stays inside the root is followed
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('ln -sfn %s/objstore_regress/data/blob.bin %s/objstore_regress/inner_link',
                 current_setting('test.lake'), current_setting('test.lake')));
END $$;
SELECT vlake.lake_read(pg_temp.u('inner_link'), 10, 10) = substring(data from 11 for 10) AS inner_link_ok FROM blob;
SELECT size = length(data) AS size_ok FROM vlake.lake_stat(pg_temp.u('data/blob.bin')), blob;
SELECT vlake.lake_read(pg_temp.u('data/blob.bin')) = data AS whole_ok FROM blob;
-- single ranges, including both ends and an empty one
SELECT o, l, vlake.lake_read(pg_temp.u('data/blob.bin'), o, l) = substring(data from o + 1 for l) AS range_ok
FROM blob, (VALUES (0, 1), (1, 4096), (4095, 2), (1048575, 1), (1048576, 0), (524288, 100000)) v(o, l);
-- to the end
SELECT vlake.lake_read(pg_temp.u('data/blob.bin'), 1048000) = substring(data from 1048001) AS tail_ok FROM blob;
-- several ranges in one call, unordered and overlapping
SELECT bool_and(r[i] = substring(data from (ARRAY[700000, 5, 4096, 4000, 1048570])[i] + 1
                                       for (ARRAY[10, 4096, 4096, 200, 6])[i])) AS multi_ok
FROM blob, generate_series(1, 5) i,
     LATERAL (SELECT vlake.lake_read_ranges(pg_temp.u('data/blob.bin'),
              ARRAY[700000, 5, 4096, 4000, 1048570], ARRAY[10, 4096, 4096, 200, 6]) AS r) x;
-- errors name the full URI and the reason
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L, 1048570, 7)', pg_temp.u('data/blob.bin')));
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L, -1, 7)', pg_temp.u('data/blob.bin')));
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('data/missing')));
SELECT pg_temp.try(format('SELECT vlake.lake_read_ranges(%L, %L, %L)', pg_temp.u('data/blob.bin'), '{1,2}', '{1}'));
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L)', pg_temp.u('data')));
SELECT count(*) AS missing_stat_rows FROM vlake.lake_stat(pg_temp.u('data/missing'));
-- a FIFO planted in the lake is not an object and does not hang the reader
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('mkfifo %s/objstore_regress/data/fifo', current_setting('test.lake')));
END $$;
SELECT count(*) AS fifo_stat_rows FROM vlake.lake_stat(pg_temp.u('data/fifo'));
SELECT pg_temp.try(format('SELECT vlake.lake_read(%L, 0, 1)', pg_temp.u('data/fifo')));
SELECT key FROM vlake.lake_list(pg_temp.u('data/'));

-- ----------------------------------------------------- conditional writes
SELECT vlake.lake_write_if_absent(pg_temp.u('cond/obj'), 'first') AS created;
SELECT vlake.lake_write_if_absent(pg_temp.u('cond/obj'), 'second') AS created_again;
SELECT convert_from(vlake.lake_read(pg_temp.u('cond/obj')), 'UTF8') AS content;
CREATE TEMP TABLE e1 AS SELECT etag FROM vlake.lake_stat(pg_temp.u('cond/obj'));
SELECT vlake.lake_write_if_match(pg_temp.u('cond/obj'), 'third', 'not-the-etag') AS replaced_wrong_etag;
SELECT vlake.lake_write_if_match(pg_temp.u('cond/obj'), 'third', etag) AS replaced FROM e1;
-- the old etag is no longer current
SELECT vlake.lake_write_if_match(pg_temp.u('cond/obj'), 'fourth', etag) AS replaced_stale FROM e1;
SELECT s.etag <> e1.etag AS etag_changed FROM vlake.lake_stat(pg_temp.u('cond/obj')) s, e1;
SELECT convert_from(vlake.lake_read(pg_temp.u('cond/obj')), 'UTF8') AS content;
SELECT vlake.lake_write_if_match(pg_temp.u('cond/absent'), 'x', 'any') AS replaced_missing;
-- a plain write replaces and changes the etag, even with the same size
CREATE TEMP TABLE e2 AS SELECT etag FROM vlake.lake_stat(pg_temp.u('cond/obj'));
SELECT vlake.lake_write(pg_temp.u('cond/obj'), 'THIRD');
SELECT s.etag <> e2.etag AS etag_changed_same_size FROM vlake.lake_stat(pg_temp.u('cond/obj')) s, e2;

-- ----------------------------------------------------------- listing
SELECT vlake.lake_write(pg_temp.u('list/' || k), convert_to(k, 'UTF8'))
FROM unnest(ARRAY['b', 'a/2', 'a/10', 'a/1', 'ab', 'a.', 'c/d/e/f']) k;
-- a leftover temporary file (as kill -9 leaves) is never listed
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('touch %s/objstore_regress/list/a/.vlake-tmp.999.1.0',
                 current_setting('test.lake')));
END $$;
SELECT key, size FROM vlake.lake_list(pg_temp.u('list/'));
SELECT key FROM vlake.lake_list(pg_temp.u('list/a'));
SELECT key FROM vlake.lake_list(pg_temp.u('list/a/'));
SELECT key FROM vlake.lake_list(pg_temp.u('list/a/1'));
SELECT count(*) FROM vlake.lake_list(pg_temp.u('nothing/here/'));
SELECT bool_and(l.etag = s.etag) AS list_etag_is_head_etag
FROM vlake.lake_list(pg_temp.u('list/')) l, LATERAL vlake.lake_stat(pg_temp.u('list/' || l.key)) s;

-- ------------------------------------------------------------- delete
SELECT vlake.lake_delete(pg_temp.u('list/b'));
SELECT vlake.lake_delete(pg_temp.u('list/b'));  -- deleting a missing object is fine
SELECT key FROM vlake.lake_list(pg_temp.u('list/b'));

-- ------------------------------------------------------ streamed writes
SELECT vlake.lake_write_agg(pg_temp.u('stream/ok'), substring(data from i * 100000 + 1 for 100000) ORDER BY i)
FROM blob, generate_series(0, 10) i;
SELECT vlake.lake_read(pg_temp.u('stream/ok')) = data AS streamed_ok FROM blob;
-- an ERROR half way leaves neither the object nor a temporary file
SELECT pg_temp.try(format($q$SELECT vlake.lake_write_agg(%L, CASE WHEN i = 5 THEN (1 / 0)::text::bytea ELSE 'x' END ORDER BY i)
                           FROM generate_series(1, 10) i$q$, pg_temp.u('stream/failed')));
SELECT count(*) AS failed_visible FROM vlake.lake_stat(pg_temp.u('stream/failed'));
SELECT count(*) AS temp_files_left
FROM pg_ls_dir(current_setting('test.lake') || '/objstore_regress/stream') f WHERE f LIKE '.vlake-tmp.%';
-- lake writes are not transactional: a finished streamed write stays after
-- ROLLBACK (the manifest layer is what makes dataset versions transactional)
BEGIN;
SELECT vlake.lake_write_agg(pg_temp.u('stream/in_xact'), 'abc');
ROLLBACK;
SELECT count(*) AS finished_write_visible FROM vlake.lake_stat(pg_temp.u('stream/in_xact'));

-- ------------------------------------------------ exact I/O counters
-- The disk tier on file:// (normally bypassed), 4 kB blocks, no memory tier.
SET vlake.cache_file_uris = on;
SET vlake.cache_block_size = '4kB';
SET vlake.cache_memory_size = 0;
SELECT vlake.lake_write(pg_temp.u('stats/blob.bin'), data) FROM blob;
CREATE TEMP VIEW st AS
  SELECT head_requests, get_requests, bytes_requested, bytes_read, bytes_from_disk,
         disk_hits, disk_misses, disk_fill_bytes, memory_hits, memory_misses, bytes_from_memory
  FROM vlake.io_stats WHERE prefix = pg_temp.u('stats/');
SELECT vlake.io_stats_reset();
-- cold: 3 ranges of 4 KiB in 3 distinct blocks = exactly 3 blocks from the store
SELECT bool_and(r[i] = substring(data from (ARRAY[8192, 409600, 1044480])[i] + 1 for 4096)) AS cold_ok
FROM blob, generate_series(1, 3) i,
     LATERAL (SELECT vlake.lake_read_ranges(pg_temp.u('stats/blob.bin'),
              ARRAY[8192, 409600, 1044480], ARRAY[4096, 4096, 4096]) AS r) x;
SELECT * FROM st;
-- warm: the same bytes come from the disk cache, nothing from the store
SELECT bool_and(r[i] = substring(data from (ARRAY[8192, 409600, 1044480])[i] + 1 for 4096)) AS warm_ok
FROM blob, generate_series(1, 3) i,
     LATERAL (SELECT vlake.lake_read_ranges(pg_temp.u('stats/blob.bin'),
              ARRAY[8192, 409600, 1044480], ARRAY[4096, 4096, 4096]) AS r) x;
SELECT * FROM st;
-- 100 bytes straddling a block boundary: two blocks, one cached (409600..413695), one not
SELECT vlake.io_stats_reset();
SELECT vlake.lake_read(pg_temp.u('stats/blob.bin'), 413646, 100) = substring(data from 413647 for 100) AS straddle_ok FROM blob;
SELECT * FROM st;
-- replaced under the same key (same size): never served stale
SELECT vlake.lake_write(pg_temp.u('stats/blob.bin'), decode(md5('other'), 'hex') || substring(data from 17)) FROM blob;
SELECT vlake.io_stats_reset();
SELECT vlake.lake_read(pg_temp.u('stats/blob.bin'), 0, 16) = decode(md5('other'), 'hex') AS new_head_ok,
       vlake.lake_read(pg_temp.u('stats/blob.bin'), 8192, 4096) = substring(data from 8193 for 4096) AS new_body_ok
FROM blob;
SELECT * FROM st;
-- with the version known (size and etag from lake_stat), no head request is made
CREATE TEMP TABLE known AS SELECT size, etag FROM vlake.lake_stat(pg_temp.u('stats/blob.bin'));
SELECT vlake.io_stats_reset();
SELECT (vlake.lake_read_ranges(pg_temp.u('stats/blob.bin'), ARRAY[8192], ARRAY[4096], size, etag))[1]
       = substring(data from 8193 for 4096) AS known_ok FROM blob, known;
SELECT * FROM st;
-- after a replace, a read of the known (old) version gets that version's
-- bytes where they are cached, and an ERROR where they would have to come
-- from the store: never bytes of two versions
SELECT vlake.lake_write(pg_temp.u('stats/blob.bin'), data) FROM blob;
SELECT (vlake.lake_read_ranges(pg_temp.u('stats/blob.bin'), ARRAY[0], ARRAY[4096], size, etag))[1]
       = decode(md5('other'), 'hex') || substring(data from 17 for 4080) AS old_version_from_cache FROM blob, known;
SELECT pg_temp.try(format('SELECT vlake.lake_read_ranges(%L, %L, %L, %s, %L)', pg_temp.u('stats/blob.bin'),
                          '{20480}', '{4096}', size, etag)) FROM known;
-- the memory tier: small objects whole, validated the same way
RESET vlake.cache_memory_size;
SET vlake.cache_memory_object_max = '64kB';
SELECT vlake.lake_write(pg_temp.u('stats/small'), substring(data from 1 for 10000)) FROM blob;
SELECT vlake.io_stats_reset();
SELECT vlake.lake_read(pg_temp.u('stats/small'), 100, 10) = substring(data from 101 for 10) AS small1,
       vlake.lake_read(pg_temp.u('stats/small'), 5000, 20) = substring(data from 5001 for 20) AS small2
FROM blob;
SELECT * FROM st;
SELECT vlake.lake_write(pg_temp.u('stats/small'), substring(data from 2 for 10000)) FROM blob;
SELECT vlake.io_stats_reset();
SELECT vlake.lake_read(pg_temp.u('stats/small'), 100, 10) = substring(data from 102 for 10) AS small_replaced_ok FROM blob;
SELECT * FROM st;
-- file:// bypasses the disk tier by default: bytes counted as read directly
SET vlake.cache_file_uris = off;
SET vlake.cache_memory_size = 0;
SELECT vlake.io_stats_reset();
SELECT vlake.lake_read(pg_temp.u('stats/blob.bin'), 8192, 4096) = substring(data from 8193 for 4096) AS direct_ok FROM blob;
SELECT * FROM st;
-- a stale version on the direct path too
SELECT vlake.io_stats_reset();
SELECT pg_temp.try(format('SELECT vlake.lake_read_ranges(%L, %L, %L, %s, %L)', pg_temp.u('stats/blob.bin'),
                          '{0}', '{4096}', size, etag)) FROM known;
SELECT * FROM st;
RESET vlake.cache_file_uris;
RESET vlake.cache_block_size;
RESET vlake.cache_memory_size;
RESET vlake.cache_memory_object_max;

-- clean up
SELECT vlake.lake_delete(pg_temp.u(p)) FROM unnest(ARRAY['data/blob.bin', 'cond/obj', 'stream/ok', 'stream/in_xact', 'stats/blob.bin', 'stats/small']) p;
SELECT vlake.lake_delete(pg_temp.u('list/' || key)) FROM vlake.lake_list(pg_temp.u('list/'));
