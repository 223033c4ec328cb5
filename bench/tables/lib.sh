# Shared pieces of the vlake-table benchmarks (sourced by every bench/tables/*.sh).

# say LINE: print and append to the results file $res; load: the load average;
# q ARGS: psql on the benchmark's cluster ($bin, $sock, $port), unaligned, quiet.
say() { printf '%s\n' "$*" | tee -a "$res"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
q() { vlake_as_pg "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres "$@"; }

# lookups_function NAME TABLE: the SQL of a plpgsql function NAME(n, maxid,
# seed) that fetches n random rows of TABLE by id (the bench tables' columns:
# 4 of them from 3 ColumnGroups) and returns the elapsed ms.  Static SQL, so
# the lookup's plan is cached as an application's prepared statement would be.
lookups_function() {
  cat <<SQL
CREATE FUNCTION $1(n int, maxid bigint, seed float8) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; r record; acc bigint := 0; k bigint;
BEGIN
  PERFORM setseed(seed);
  t0 := clock_timestamp();
  FOR i IN 1..n LOOP
    k := 1 + floor(random() * maxid)::bigint;
    SELECT id, duration, length(caption) AS lc, vector_dims(embedding) AS d INTO r
      FROM $2 WHERE id = k;
    acc := acc + r.lc + r.d;
  END LOOP;
  IF acc = 0 THEN RAISE 'no rows'; END IF;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL
}
