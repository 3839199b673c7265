#!/usr/bin/env bash
# Benchmarks `protoc-gen-cloudrun breaking` against the pinned `buf breaking` on two releases of
# googleapis (npm package google-proto-files, thousands of files each), image against image and
# directory against directory, and checks that both print the same findings byte for byte.
#
#   benches/breaking.sh            # OLD=5.0.0 NEW=6.0.1 RUNS=3 WORK=/tmp/breaking-bench
#
# Prints a markdown table: median wall time, CPU time (user+sys) and peak RSS of each tool, and
# our share of buf's. Needs npm (to fetch the corpus), GNU time, and scripts/setup.sh's buf.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=${OLD:-5.0.0}
NEW=${NEW:-6.0.1}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/breaking-bench}
BUF=$ROOT/node_modules/.bin/buf
OURS=$ROOT/target/release/protoc-gen-cloudrun
[ -x "$BUF" ] || { echo "buf not found at $BUF: run scripts/setup.sh" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }

CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release -q -p protoc-gen-cloudrun

mkdir -p "$WORK"
cd "$WORK"
for v in "$OLD" "$NEW"; do
  if [ ! -d "v$v/package" ]; then
    npm pack -q "google-proto-files@$v" >/dev/null
    mkdir -p "v$v"
    tar xzf "google-proto-files-$v.tgz" -C "v$v"
  fi
  # The package also ships protobuf's own test protos under google/protobuf, which do not
  # compile; the well-known types there are built into both tools anyway.
  printf 'version: v2\nmodules:\n  - path: .\n    excludes:\n      - google/protobuf\n' > "v$v/package/buf.yaml"
  [ -f "v$v.binpb" ] || "$BUF" build "v$v/package" -o "v$v.binpb"
done
files() { find "v$1/package" -name '*.proto' -not -path '*/google/protobuf/*' | wc -l; }
echo "corpus: google-proto-files $OLD ($(files "$OLD") files) -> $NEW ($(files "$NEW") files)"
echo "buf $("$BUF" --version); load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME OUTFILE CMD... -> appends "wall cpu rss_kb" to NAME.times
measure() {
  local name=$1 out=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$name.time" "$@" > "$out" 2>/dev/null || [ $? -eq 100 ]
  # GNU time may precede the numbers with "Command exited with non-zero status 100".
  awk 'NF == 4 && $1 ~ /^[0-9.]+$/ {printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$name.time" >> "$name.times"
}

declare -A INPUT AGAINST
INPUT[image]="v$NEW.binpb";        AGAINST[image]="v$OLD.binpb"
INPUT[dir]="v$NEW/package";        AGAINST[dir]="v$OLD/package"
for case in image dir; do
  rm -f "buf-$case.times" "ours-$case.times"
  for _ in $(seq "$RUNS"); do
    measure "buf-$case" "buf-$case.json" "$BUF" breaking "${INPUT[$case]}" --against "${AGAINST[$case]}" --error-format json
    measure "ours-$case" "ours-$case.json" "$OURS" breaking "${INPUT[$case]}" --against "${AGAINST[$case]}" --error-format json --strict
  done
  if cmp -s "buf-$case.json" "ours-$case.json"; then
    echo "$case: identical findings ($(wc -l < "buf-$case.json") lines)"
  else
    echo "$case: FINDINGS DIFFER (see $WORK/buf-$case.json and $WORK/ours-$case.json)" >&2
    exit 1
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RUNS" <<'PY'
import statistics, sys
def med(path, col):
    return statistics.median(float(l.split()[col]) for l in open(path))
print()
print("| case | tool | wall (s) | CPU user+sys (s) | peak RSS (MB) |")
print("|---|---|---:|---:|---:|")
for case in ("image", "dir"):
    rows = {}
    for tool in ("buf", "ours"):
        f = f"{tool}-{case}.times"
        rows[tool] = (med(f, 0), med(f, 1), med(f, 2) / 1024)
        w, c, m = rows[tool]
        print(f"| {case} vs {case} | {tool} | {w:.2f} | {c:.2f} | {m:.0f} |")
    (bw, bc, bm), (ow, oc, om) = rows["buf"], rows["ours"]
    print(f"| {case} vs {case} | ours / buf | {ow/bw:.3f}x | {oc/bc:.3f}x | {om/bm:.3f}x |")
print(f"\nmedians of {sys.argv[1]} runs each")
PY
