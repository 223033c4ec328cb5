#!/usr/bin/env bash
# make check-layers (and the unit suite, as build/bin/unit_layers): fails
# when the code breaks the layer map of docs/architecture.md.
#  1. includes: a file of src/<layer>/ includes headers of its own layer and
#     of the layers below it (the LAYERS order of the Makefile), never above;
#  2. names: every symbol a layer's objects export starts with one of that
#     layer's prefixes (the table below), and no prefix belongs to two
#     layers.  Exempt: C functions behind SQL functions (they have a
#     pg_finfo_ twin), processes started by name (vlake_*_main) and each
#     layer's vlake_<layer>_init().
#  3. SQL-callable C functions are named vlake_<name> (never after a
#     pgvector symbol: both libraries are loaded in one backend), and
#     vlake.so exports nothing but vlake_*, pg_finfo_vlake_*, Pg_magic_func
#     and _PG_init (the version script src/vlake.exports; docs/pgvector.md).
# Needs the objects of `make all` for (2) and (3).
set -euo pipefail
# the checkout: VLAKE_SRC, or up from scripts/ or build/bin/
here=$(dirname "$(readlink -f "$0")")
for d in "${VLAKE_SRC:-}" "$here/.." "$here/../.."; do
  [ -n "$d" ] && [ -f "$d/Makefile" ] && [ -d "$d/src" ] && { cd "$d"; break; }
done
[ -f Makefile ] && [ -d src ] || { echo "check-layers: run it from the checkout or set VLAKE_SRC" >&2; exit 2; }

declare -A prefixes=(
  [vector]="vec_ distance_ vector_ halfvec_ sparsevec_"
  [objstore]="objstore_ objcache_ objstats_ s3_ s3xml_ file_"
  [lake]="lake_"
  [objref]="objref_"
  [parquet]="parquet_ thrift_"
  [layout]="layout_"
  [pgmap]="pgmap_"
  [manifest]="manifest_"
  [tableam]="vltab_"
  [index]="vlindex_ ivf_"
  [fulltext]="fts_"
  [planner]="hyb_"
  [workers]="workers_"
)
layers=$(sed -n 's/^LAYERS *= *//p' Makefile)
fail=0
problem() { echo "layering: $*"; fail=1; }

rank() { local i=0 l; for l in $layers; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i+1)); done; echo -1; }

# a prefix belongs to one layer
declare -A owner=()
for l in "${!prefixes[@]}"; do
  for p in ${prefixes[$l]}; do
    [ -n "${owner[$p]:-}" ] && problem "prefix $p is claimed by $l and ${owner[$p]}"
    owner[$p]=$l
  done
done

# 1. includes
for l in $layers; do
  [ -d "src/$l" ] || continue
  r=$(rank "$l")
  while IFS=: read -r file inc; do
    other=${inc%%/*}
    ro=$(rank "$other")
    [ "$ro" -lt 0 ] && continue                 # not a layer header
    [ "$ro" -gt "$r" ] && problem "$file includes \"$inc\": $l may not include a header of $other, a layer above it"
  done < <(grep -HoE '^#include "[a-z_]+/[^"]+"' src/$l/*.[ch] 2>/dev/null | sed -E 's/#include "([^"]+)"/\1/')
done

# 2. exported names
for l in $layers; do
  objs=$(ls src/$l/*.o 2>/dev/null || true)
  [ -n "$objs" ] || continue
  [ -n "${prefixes[$l]:-}" ] || { problem "layer $l has objects but no prefix in scripts/check-layers.sh"; continue; }
  syms=$(nm -g --defined-only $objs | awk 'NF == 3 && $2 ~ /[TDBRGS]/ {print $3}' | sort -u)
  finfo=$(grep '^pg_finfo_' <<< "$syms" | sed 's/^pg_finfo_//' || true)
  while read -r s; do
    [ -n "$s" ] || continue
    case "$s" in pg_finfo_*|vlake_*_main|"vlake_${l}_init") continue ;; esac
    if grep -qxF "$s" <<< "$finfo"; then
      [[ "$s" == vlake_* ]] || problem "src/$l: SQL-callable C function $s is not named vlake_<name> (PG_FUNCTION_INFO_V1(vlake_$s), SQL AS 'MODULE_PATHNAME', 'vlake_$s')"
      continue
    fi
    ok=0
    for p in ${prefixes[$l]}; do [[ "$s" == "$p"* ]] && { ok=1; break; }; done
    [ $ok -eq 1 ] || problem "src/$l exports $s, which has none of its prefixes (${prefixes[$l]})"
  done <<< "$syms"
done
for o in src/*.o; do
  [ -f "$o" ] || continue
  for s in $(nm -g --defined-only "$o" | awk 'NF == 3 && $2 ~ /[TDBRGS]/ {print $3}'); do
    case "$s" in vlake_*|pg_finfo_*|_PG_init|Pg_magic_func) ;; *) problem "$o exports $s (module entry names start with vlake_)" ;; esac
  done
done

# 3. the dynamic symbols of the module
if [ -f vlake.so ]; then
  for s in $(nm -D --defined-only vlake.so | awk 'NF == 3 {print $3}'); do
    case "$s" in vlake_*|pg_finfo_vlake_*|_PG_init|Pg_magic_func) ;; *) problem "vlake.so exports $s (see src/vlake.exports)" ;; esac
  done
fi

if [ $fail -ne 0 ]; then echo "layering check failed (see docs/architecture.md)"; exit 1; fi
echo "layering check passed: $(echo $layers | wc -w) layers"
