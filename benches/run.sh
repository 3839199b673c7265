#!/usr/bin/env bash
# Runs every benchmark in BENCHMARKS.md in one go and records the results there:
#   1. throughput/latency: the generated catalog server against a hand-written tonic server with the
#      same handler (h2load, unary GetProduct, rounds alternating between the two);
#   2. start-up to first SERVING health answer, and idle RSS, for both servers;
#   3. plugin time on one large CodeGeneratorRequest: protoc-gen-cloudrun against
#      protoc-gen-prost + protoc-gen-tonic (hyperfine).
# It installs what it needs (h2load, hyperfine and jq from Debian, the two crates.io plugins pinned into
# benches/.tools, buf via scripts/setup.sh, googleapis protos from npm into $BENCH_CACHE), builds
# release, prints a table and rewrites the results block of BENCHMARKS.md. Raw outputs stay in
# target/bench/. Bounded: well under 10 minutes on 2 cores once the release build is cached.
#
# Knobs (environment): ROUNDS (9), DURATION (h2load seconds per round, 8), WARMUP (h2load warm-up
# seconds, 2), STARTUP_RUNS (20), PLUGIN_PASSES (3) x PLUGIN_RUNS (5), CATALOG_PORT (50151), BASELINE_PORT (50152),
# BENCH_CACHE (/tmp/cloudrun-bench), RECORD (1: rewrite BENCHMARKS.md; 0: only print).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ROUNDS=${ROUNDS:-9}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
STARTUP_RUNS=${STARTUP_RUNS:-20}
PLUGIN_PASSES=${PLUGIN_PASSES:-3}
PLUGIN_RUNS=${PLUGIN_RUNS:-5}
CATALOG_PORT=${CATALOG_PORT:-50151}
BASELINE_PORT=${BASELINE_PORT:-50152}
BENCH_CACHE=${BENCH_CACHE:-/tmp/cloudrun-bench}
RECORD=${RECORD:-1}

# Pinned outside inputs. protoc-gen-prost/-tonic 0.5.0 are the releases built on prost 0.14 and
# tonic-build 0.14, the versions this workspace uses.
PROST_PLUGIN_VERSION=0.5.0
TONIC_PLUGIN_VERSION=0.5.0
PROTO_FILES_VERSION=6.0.1
# 160 files and their imports (google/api, rpc, type, longrunning; protobuf's own are not generated):
# 173 files to generate, 181 in the request, about 2 MB.
PROTO_SET=google/cloud/aiplatform/v1

OUT=$ROOT/target/bench
TOOLS=$ROOT/benches/.tools
REL=$ROOT/target/release
BUF=$ROOT/node_modules/.bin/buf
mkdir -p "$OUT" "$BENCH_CACHE"
rm -f "$OUT"/plugin-[0-9]*.json
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$OUT/codegen-response.txt"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'benches/run.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
log "tools"
if ! command -v h2load >/dev/null || ! command -v hyperfine >/dev/null || ! command -v jq >/dev/null; then
    command -v apt-get >/dev/null || die "h2load, hyperfine or jq missing and no apt-get; install nghttp2-client, hyperfine and jq"
    apt-get update -qq && apt-get install -y -qq nghttp2-client hyperfine jq
fi
# A no-op when the pinned versions are already there.
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo install --quiet --locked --root "$TOOLS" \
    "protoc-gen-prost@$PROST_PLUGIN_VERSION" "protoc-gen-tonic@$TONIC_PLUGIN_VERSION"
[ -x "$BUF" ] || bash scripts/setup.sh
[ -x "$BUF" ] || die "no buf at $BUF after scripts/setup.sh"

PROTOS=$BENCH_CACHE/google-proto-files-$PROTO_FILES_VERSION
if [ ! -d "$PROTOS/package/$PROTO_SET" ]; then
    (cd "$BENCH_CACHE" && npm pack --silent "google-proto-files@$PROTO_FILES_VERSION" >/dev/null)
    mkdir -p "$PROTOS"
    tar -xzf "$BENCH_CACHE/google-proto-files-$PROTO_FILES_VERSION.tgz" -C "$PROTOS"
fi

log "release build"
# One cargo invocation, so both servers link the very same tonic (same unified features).
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release --locked \
    -p catalog -p tonic-baseline -p bench-tools -p protoc-gen-cloudrun

# ---------------------------------------------------------------------------------------------
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server LABEL BINARY PORT: stdout to /dev/null (the catalog logs one JSON line per call
# there), stderr kept, default log level, loopback only.
start_server() {
    local label=$1 bin=$2 port=$3
    port_open "$port" && die "port $port is already in use; set ${label^^}_PORT to a free one"
    env -u RUST_LOG -u CLOUDRUN_LOG_LEVEL PORT="$port" CLOUDRUN_HOST=127.0.0.1 \
        "$bin" >/dev/null 2>"$OUT/$label.stderr" &
    PIDS+=($!)
    printf -v "PID_$label" '%s' "$!"
    for _ in $(seq 200); do port_open "$port" && return 0; sleep 0.025; done
    die "$label did not listen on $port within 5 s; see $OUT/$label.stderr"
}

log "servers"
start_server catalog "$REL/catalog" "$CATALOG_PORT"
start_server baseline "$REL/tonic-baseline" "$BASELINE_PORT"

# One real call through an outside client before loading: both must answer product 1, identically.
for pair in "catalog:$CATALOG_PORT" "baseline:$BASELINE_PORT"; do
    "$BUF" curl --http2-prior-knowledge --protocol grpc --schema examples/catalog/proto \
        -d '{"id":"1"}' "http://127.0.0.1:${pair#*:}/catalog.ProductCatalog/GetProduct" \
        >"$OUT/buf-curl-${pair%%:*}.json"
done
grep -q '"Laptop Pro 16"' "$OUT/buf-curl-catalog.json" || die "catalog's GetProduct(1) answer: $(cat "$OUT/buf-curl-catalog.json")"
cmp -s "$OUT/buf-curl-catalog.json" "$OUT/buf-curl-baseline.json" || die "the two servers answer GetProduct(1) differently"

# ---------------------------------------------------------------------------------------------
log "throughput: h2load -c 8 -m 10, ${DURATION}s after ${WARMUP}s warm-up, $ROUNDS rounds alternating"
BODY=$OUT/get-product-1.bin
"$REL/bench-grpc-frame" --id 1 --out "$BODY"
H2LOAD_ARGS=(-c 8 -m 10 -D "$DURATION" --warm-up-time "$WARMUP"
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$BODY")

# check_answers LABEL PORT ROUND -> prints the bytes of DATA per answer. A fixed-count run (no
# warm-up phase, whose traffic h2load would add to "data" but not to "succeeded") of 20000 calls;
# a gRPC error is a trailers-only answer without DATA, so every answer must carry the same bytes.
check_answers() {
    local label=$1 port=$2 round=$3 txt=$OUT/h2load-check-$1-$3.txt n=20000
    h2load -c 8 -m 10 -n "$n" -H 'content-type: application/grpc' -H 'te: trailers' -d "$BODY" \
        "http://127.0.0.1:$port/catalog.ProductCatalog/GetProduct" >"$txt"
    local succeeded ok2xx data
    succeeded=$(awk '/^requests:/ {print $8}' "$txt")
    ok2xx=$(awk '/^status codes:/ {print $3}' "$txt")
    data=$(awk '/^traffic:/ {for (i = 2; i <= NF; i++) if ($i == "data") d = $(i-1); gsub(/[()]/, "", d); print d}' "$txt")
    [ "$succeeded" = "$n" ] && [ "$ok2xx" = "$n" ] || die "$label round $round: not all $n calls succeeded ($txt)"
    [ $((data % n)) = 0 ] && [ $((data / n)) -gt 5 ] ||
        die "$label round $round: $data bytes of DATA for $n answers; some answers were not products ($txt)"
    echo $((data / n))
}

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks (/proc/PID/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# h2load_round LABEL PORT ROUND -> appends "label round rps p50_us p99_us bytes cpu_us_per_call"
# to $OUT/h2load.tsv
h2load_round() {
    local label=$1 port=$2 round=$3 txt=$OUT/h2load-$1-$3.txt logf=$OUT/h2load-$1-$3.log
    local pid_var=PID_$1 bytes ticks_before ticks_after
    bytes=$(check_answers "$label" "$port" "$round")
    ticks_before=$(cpu_ticks "${!pid_var}")
    h2load "${H2LOAD_ARGS[@]}" --log-file "$logf" \
        "http://127.0.0.1:$port/catalog.ProductCatalog/GetProduct" >"$txt"
    ticks_after=$(cpu_ticks "${!pid_var}")
    local rps succeeded failed errored ok2xx
    rps=$(awk '/^finished in/ {print $4}' "$txt")
    read -r succeeded failed errored < <(awk '/^requests:/ {print $8, $10, $12}' "$txt")
    ok2xx=$(awk '/^status codes:/ {print $3}' "$txt")
    local not2xx
    not2xx=$(awk '/^status codes:/ {print $5 + $7 + $9}' "$txt")
    [ "$not2xx" = 0 ] || die "$label round $round: $not2xx answers were not 2xx ($txt)"
    # h2load can count one 2xx more than it counts requests (a response straddling the end of the
    # warm-up); what matters is that no request failed and none got anything but 2xx.
    [ "$succeeded" -gt 0 ] && [ "$failed" = 0 ] && [ "$errored" = 0 ] && [ "$ok2xx" -ge "$succeeded" ] ||
        die "$label round $round: not every request succeeded ($txt)"
    # --log-file has one line per measured request (warm-up excluded): the third column is the
    # microseconds to the end of the response. Percentiles are nearest-rank.
    local p50 p99
    read -r p50 p99 < <(cut -f3 "$logf" | sort -n | awk '{v[NR] = $1}
        function rank(p,  i) {i = int(NR * p); if (i < NR * p) i++; return i < 1 ? 1 : i}
        END {print v[rank(0.50)], v[rank(0.99)]}')
    rm -f "$logf"
    # Server CPU per answer: h2load's DATA bytes count the warm-up's answers too, as the CPU time
    # does, and every answer is $bytes long (checked above).
    local data answers cpu_us
    data=$(awk '/^traffic:/ {for (i = 2; i <= NF; i++) if ($i == "data") d = $(i-1); gsub(/[()]/, "", d); print d}' "$txt")
    answers=$((data / bytes))
    cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v us="$TICK_US" -v n="$answers" 'BEGIN {printf "%.2f", t * us / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$round" "$rps" "$p50" "$p99" "$bytes" "$cpu_us" >>"$OUT/h2load.tsv"
    printf '  %-9s round %s: %10s req/s  p50 %6s us  p99 %6s us  server CPU %s us/call  (%s ok, %s B per answer)\n' \
        "$label" "$round" "$rps" "$p50" "$p99" "$cpu_us" "$succeeded" "$bytes" >&2
}
: >"$OUT/h2load.tsv"
# ABBA order: each server goes first in every other round, so neither always follows the other.
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then
        h2load_round catalog "$CATALOG_PORT" "$round"
        h2load_round baseline "$BASELINE_PORT" "$round"
    else
        h2load_round baseline "$BASELINE_PORT" "$round"
        h2load_round catalog "$CATALOG_PORT" "$round"
    fi
done
# median COLUMN LABEL
median() { awk -F'\t' -v c="$1" -v l="$2" '$1 == l {print $c}' "$OUT/h2load.tsv" | sort -g |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
CAT_RPS=$(median 3 catalog); BASE_RPS=$(median 3 baseline)
CAT_P99=$(median 5 catalog); BASE_P99=$(median 5 baseline)
CAT_P50=$(median 4 catalog); BASE_P50=$(median 4 baseline)
CAT_CPU=$(median 7 catalog); BASE_CPU=$(median 7 baseline)
# paired_ratio COLUMN -> the median over rounds of catalog / baseline within the round. The two
# servers of one round run back to back, so the machine's slower swings (other work, p99 spikes
# that hit whichever server is running) cancel out of each round's ratio; this is the figure the
# targets are judged on. The ratio of the medians is printed next to it.
paired_ratio() { awk -F'\t' -v c="$1" '{v[$1 "," $2] = $c; r[$2] = 1}
    END {for (k in r) printf "%.6f\n", v["catalog," k] / v["baseline," k]}' "$OUT/h2load.tsv" | sort -g |
    awk '{v[NR] = $1} END {printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
PR_RPS=$(paired_ratio 3); PR_P99=$(paired_ratio 5); PR_P50=$(paired_ratio 4); PR_CPU=$(paired_ratio 7)
[ "$(awk -F'\t' '{print $6}' "$OUT/h2load.tsv" | sort -u | wc -l)" = 1 ] ||
    die "the servers' answers differ in size across rounds: $OUT/h2load.tsv"
cleanup
PIDS=()

# ---------------------------------------------------------------------------------------------
log "start-up and idle RSS: $STARTUP_RUNS runs each, alternating"
"$REL/bench-startup" --runs "$STARTUP_RUNS" --env CLOUDRUN_HOST=127.0.0.1 \
    --target "catalog:health:$REL/catalog" \
    --target "catalog-first-call:get-product:$REL/catalog" \
    --target "baseline:get-product:$REL/tonic-baseline" | tee "$OUT/startup.txt"
startup_field() { awk -v l="label=$1" -v f="$2=" '$2 == l {for (i = 1; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1)}' "$OUT/startup.txt"; }
CAT_UP=$(startup_field catalog median_ms); CAT_UP_CALL=$(startup_field catalog-first-call median_ms)
BASE_UP=$(startup_field baseline median_ms)
CAT_RSS=$(startup_field catalog rss_median_kib); BASE_RSS=$(startup_field baseline rss_median_kib)

# ---------------------------------------------------------------------------------------------
log "plugin time on $PROTO_SET (google-proto-files $PROTO_FILES_VERSION)"
REQ=$OUT/codegen-request.bin
"$REL/bench-codegen-request" --proto-path "$PROTOS/package" --out "$REQ" --with-imports "$PROTO_SET" 2>"$OUT/codegen-request.txt"
cat "$OUT/codegen-request.txt" >&2
GEN_CLOUDRUN="$REL/protoc-gen-cloudrun < $REQ > /dev/null"
GEN_PROST="$TOOLS/bin/protoc-gen-prost < $REQ > /dev/null"
GEN_TONIC="$TOOLS/bin/protoc-gen-tonic < $REQ > /dev/null"
# A plugin that answers with an error is fast and useless: each must produce code first.
for pair in "cloudrun:$REL/protoc-gen-cloudrun" "prost:$TOOLS/bin/protoc-gen-prost" "tonic:$TOOLS/bin/protoc-gen-tonic"; do
    "${pair#*:}" <"$REQ" | "$REL/bench-codegen-response" --label "${pair%%:*}" | tee -a "$OUT/codegen-response.txt" >&2
done
# hyperfine runs each command's runs back to back; passes interleave them, so that a busy spell
# on the machine does not land on one plugin only. Figures are over all passes' runs.
for pass in $(seq "$PLUGIN_PASSES"); do
    hyperfine --style basic --warmup 2 --runs "$PLUGIN_RUNS" --export-json "$OUT/plugin-$pass.json" \
        -n protoc-gen-cloudrun "$GEN_CLOUDRUN" \
        -n prost+tonic "$GEN_PROST && $GEN_TONIC" \
        -n protoc-gen-prost "$GEN_PROST" \
        -n protoc-gen-tonic "$GEN_TONIC" >&2
done
jq -s '[.[].results[]] | group_by(.command) | map({command: .[0].command, times: (map(.times) | add),
        user: (map(.user) | add / length), system: (map(.system) | add / length)})
    | map(. + {median: (.times | sort | if length % 2 == 1 then .[length / 2 | floor]
        else (.[length / 2 - 1] + .[length / 2]) / 2 end)}) | {results: .}' \
    "$OUT"/plugin-[0-9]*.json >"$OUT/plugin.json"
plugin_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000' "$OUT/plugin.json"; }
GEN_CR_MS=$(plugin_ms protoc-gen-cloudrun); GEN_PT_MS=$(plugin_ms prost+tonic)
GEN_P_MS=$(plugin_ms protoc-gen-prost); GEN_T_MS=$(plugin_ms protoc-gen-tonic)
# CPU time is less sensitive than wall time to whatever else the machine runs meanwhile.
plugin_cpu_ms() { jq -r --arg n "$1" '.results[] | select(.command == $n) | (.user + .system) * 1000' "$OUT/plugin.json"; }
GEN_CR_CPU=$(plugin_cpu_ms protoc-gen-cloudrun); GEN_PT_CPU=$(plugin_cpu_ms prost+tonic)

# ---------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
verdict() { awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? r >= t : r <= t; print ok ? "pass" : "MISS"}'; }
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN {printf "%.*f", d, v}'; }
R_RPS=$(ratio "$CAT_RPS" "$BASE_RPS"); R_P99=$(ratio "$CAT_P99" "$BASE_P99")
R_P50=$(ratio "$CAT_P50" "$BASE_P50"); R_CPU=$(ratio "$CAT_CPU" "$BASE_CPU")
R_GEN=$(ratio "$GEN_CR_MS" "$GEN_PT_MS")

RESULTS=$OUT/results.md
{
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- runtime protoc-gen-cloudrun examples benches/tonic-baseline benches/tools Cargo.toml Cargo.lock || echo ' (with uncommitted changes to the measured code)'):"
    echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr),"
    echo "$(rustc --version | cut -d' ' -f1-2), $(h2load --version | head -1), $(hyperfine --version);"
    echo "load average before the run: $LOAD_BEFORE."
    echo
    echo "h2load rows: medians of $ROUNDS rounds; ratio = median of the $ROUNDS per-round ratios (ratio of the medians in brackets)."
    echo
    echo "| Measurement | generated catalog | plain tonic | ratio | target | result |"
    echo "|---|---:|---:|---:|---|---|"
    echo "| GetProduct throughput, req/s | $(fmt "$CAT_RPS" 0) | $(fmt "$BASE_RPS" 0) | $PR_RPS ($R_RPS) | >= 0.95 | $(verdict "$PR_RPS" '>=' 0.95) |"
    echo "| GetProduct p99 latency, us | $CAT_P99 | $BASE_P99 | $PR_P99 ($R_P99) | <= 1.10 | $(verdict "$PR_P99" '<=' 1.10) |"
    echo "| GetProduct p50 latency, us | $CAT_P50 | $BASE_P50 | $PR_P50 ($R_P50) | - | - |"
    echo "| Server CPU (user + sys) per GetProduct, us | $CAT_CPU | $BASE_CPU | $PR_CPU ($R_CPU) | - | - |"
    echo "| Start-up to SERVING health answer, ms (median of $STARTUP_RUNS) | $CAT_UP | - | - | <= 30 | $(verdict "$CAT_UP" '<=' 30) |"
    echo "| Start-up to first GetProduct answer, ms (median of $STARTUP_RUNS) | $CAT_UP_CALL | $BASE_UP | $(ratio "$CAT_UP_CALL" "$BASE_UP") | <= 30 | $(verdict "$CAT_UP_CALL" '<=' 30) / $(verdict "$BASE_UP" '<=' 30) |"
    echo "| Idle RSS after start-up and 5 rounds of calls, MiB (median of $STARTUP_RUNS) | $(fmt "$(awk -v k="$CAT_RSS" 'BEGIN {print k / 1024}')") | $(fmt "$(awk -v k="$BASE_RSS" 'BEGIN {print k / 1024}')") | $(ratio "$CAT_RSS" "$BASE_RSS") | <= 10 | $(verdict "$(awk -v k="$CAT_RSS" 'BEGIN {print k / 1024}')" '<=' 10) / $(verdict "$(awk -v k="$BASE_RSS" 'BEGIN {print k / 1024}')" '<=' 10) |"
    echo "| Plugin time on $PROTO_SET, ms (median wall, $PLUGIN_PASSES x $PLUGIN_RUNS runs) | $(fmt "$GEN_CR_MS") | $(fmt "$GEN_PT_MS") (prost $(fmt "$GEN_P_MS") + tonic $(fmt "$GEN_T_MS")) | $R_GEN | <= 1.20 | $(verdict "$R_GEN" '<=' 1.20) |"
    echo "| Plugin CPU time (user + sys), ms (mean) | $(fmt "$GEN_CR_CPU") | $(fmt "$GEN_PT_CPU") | $(ratio "$GEN_CR_CPU" "$GEN_PT_CPU") | - | - |"
    echo
    echo "Per round (h2load): label, round, req/s, p50 us, p99 us, bytes per answer, server CPU us per call:"
    echo
    echo '```text'
    cat "$OUT/h2load.tsv"
    echo '```'
    echo
    echo "Start-up (bench-startup), plugin request and responses:"
    echo
    echo '```text'
    sed 's/ ready_ms=.*//' "$OUT/startup.txt"
    cat "$OUT/codegen-request.txt" "$OUT/codegen-response.txt" | sed "s|$ROOT/||g"
    echo '```'
} >"$RESULTS"

cat "$RESULTS"
if [ "$RECORD" = 1 ]; then
    # Only the block between the markers is machine-written; the analysis around it is not.
    awk -v results="$RESULTS" '
        /<!-- results:start -->/ {print; while ((getline line < results) > 0) print line; skip = 1; next}
        /<!-- results:end -->/ {skip = 0}
        !skip {print}' BENCHMARKS.md >"$OUT/BENCHMARKS.md.new"
    grep -q '<!-- results:end -->' "$OUT/BENCHMARKS.md.new" || die "BENCHMARKS.md lacks the results markers"
    mv "$OUT/BENCHMARKS.md.new" BENCHMARKS.md
    log "results written to BENCHMARKS.md (raw outputs in target/bench/)"
fi
