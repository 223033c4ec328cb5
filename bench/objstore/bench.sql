-- One objstore benchmark run against the root in :root (psql variables:
-- root, label, cache_file_uris).  Prints one line per figure.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET vlake.cache_file_uris = :cache_file_uris;
SET vlake.cache_memory_size = 0;          -- measure the disk tier / the store, not memory
CREATE TEMP TABLE fig (label text, figure text, value text);

-- 256 MiB upload, streamed in 1 MiB chunks (the chunk is made once, up front).
CREATE TEMP TABLE chunk AS
  SELECT string_agg(decode(md5(i::text), 'hex'), '' ORDER BY i) AS c FROM generate_series(1, 65536) i;
DO $$
DECLARE t0 timestamptz; t1 timestamptz; root text := current_setting('bench.root');
BEGIN
  PERFORM vlake.lake_delete(root || 'big.bin');
  t0 := clock_timestamp();
  PERFORM vlake.lake_write_agg(root || 'big.bin', c || decode(lpad(to_hex(i), 8, '0'), 'hex'))
     FROM generate_series(1, 256) i, chunk;
  t1 := clock_timestamp();
  INSERT INTO fig VALUES (current_setting('bench.label'), 'upload 256 MiB (MiB/s)',
    round((256 + 256 * 4 / 1048576.0) / extract(epoch FROM t1 - t0), 1)::text);
END $$;

-- 256 MiB download, 16 MiB ranges, cold vlake caches.
DO $$
DECLARE t0 timestamptz; t1 timestamptz; root text := current_setting('bench.root'); n bigint := 0;
BEGIN
  PERFORM vlake.cache_sweep();
  t0 := clock_timestamp();
  FOR i IN 0..15 LOOP
    n := n + length(vlake.lake_read(root || 'big.bin', i::bigint * 16777216, 16777216));
  END LOOP;
  t1 := clock_timestamp();
  INSERT INTO fig VALUES (current_setting('bench.label'), 'download 256 MiB (MiB/s)',
    round(n / 1048576.0 / extract(epoch FROM t1 - t0), 1)::text);
END $$;

-- 1,000 random 4 KiB range reads of a fresh 64 MiB object: cold, then warm.
DO $$
DECLARE root text := current_setting('bench.root');
BEGIN
  PERFORM vlake.lake_delete(root || 'ranges.bin');
  PERFORM vlake.lake_write_agg(root || 'ranges.bin', c || decode(lpad(to_hex(i), 8, '0'), 'hex'))
     FROM generate_series(1, 64) i, chunk;
END $$;
SELECT setseed(0.42);
CREATE TEMP TABLE offs AS
  SELECT n, (floor(random() * (64 * 1048576 + 64 * 4 - 4096)))::bigint AS o FROM generate_series(1, 1000) n;
CREATE TEMP TABLE lat (pass text, n int, us float8);
SELECT vlake.io_stats_reset();
-- cold and warm validate with a head per read; "warm, version known" passes
-- the size and etag (as layers reading manifest-listed files do): no head.
DO $$
DECLARE t0 timestamptz; root text := current_setting('bench.root'); r record; pass text;
        ksize bigint; ketag text;
BEGIN
  SELECT size, etag INTO ksize, ketag FROM vlake.lake_stat(root || 'ranges.bin');
  FOREACH pass IN ARRAY ARRAY['cold', 'warm'] LOOP
    FOR r IN SELECT n, o FROM offs ORDER BY n LOOP
      t0 := clock_timestamp();
      PERFORM vlake.lake_read(root || 'ranges.bin', r.o, 4096);
      INSERT INTO lat VALUES (pass, r.n, extract(epoch FROM clock_timestamp() - t0) * 1e6);
    END LOOP;
  END LOOP;
  FOR r IN SELECT n, o FROM offs ORDER BY n LOOP
    t0 := clock_timestamp();
    PERFORM vlake.lake_read_ranges(root || 'ranges.bin', ARRAY[r.o], ARRAY[4096::bigint], ksize, ketag);
    INSERT INTO lat VALUES ('warm, version known', r.n, extract(epoch FROM clock_timestamp() - t0) * 1e6);
  END LOOP;
END $$;
INSERT INTO fig
  SELECT current_setting('bench.label'), '4 KiB random read ' || pass || ' p50 / p99 (us)',
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 0) || ' / ' ||
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY us)::numeric, 0)
  FROM lat GROUP BY pass;
INSERT INTO fig
  SELECT current_setting('bench.label'), 'range reads (3 passes): head requests / bytes read from store / from disk cache',
         head_requests || ' / ' || bytes_read || ' / ' || bytes_from_disk
  FROM vlake.io_stats WHERE prefix = current_setting('bench.root');
SELECT label, figure, value FROM fig ORDER BY label, figure;
