#!/usr/bin/env bash
# The headline benchmark of issue 11: every row measured in one run, with outside load generators
# (wrk for HTTP, redis-benchmark for Redis), 32 connections, 100-byte values, server and load
# generator sharing the machine. Prints a markdown table with ratios to bare Kestrel / Redis.
#   bash bench/wrk-table.sh [--duration-s 10] [--connections 32] [--warmup-s 5]
# Every HTTP server first gets --warmup-s of the same load, not measured (the JIT's tiering runs then).
# The RSS of every Meteora node is sampled once a second while its rows run; the table below the main
# one shows the first sample, the largest of each half and the last, so --duration-s 30 gives the 60 s RSS
# check (set + get rows): flat means the second half's largest is no larger than the first half's.
# Installs wrk, redis-server and redis-tools from Debian when missing; starts and stops every server.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION_S=10
CONNECTIONS=32
WARMUP_S=5
while [ $# -gt 0 ]; do
  case "$1" in
    --duration-s) DURATION_S="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --warmup-s) WARMUP_S="$2"; shift 2 ;;
    *) echo "wrk-table: unknown option $1 (use --duration-s S, --connections C, --warmup-s S)" >&2; exit 2 ;;
  esac
done

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "wrk-table: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "wrk-table: building (Release)" >&2
dotnet build -c Release -v q src/Net >/dev/null
dotnet build -c Release -v q bench/Meteora.Bench >/dev/null
METEORA="dotnet src/Net/bin/Release/net10.0/meteora.dll"
BENCH="dotnet bench/Meteora.Bench/bin/Release/net10.0/Meteora.Bench.dll"

WORK="$(mktemp -d /tmp/meteora-wrk-XXXXXX)"
PIDS=()
SAMPLER=""
cleanup() { for p in ${SAMPLER:-} "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

VALUE="$(head -c 100 /dev/zero | tr '\0' 'v')"
cat > "$WORK/put.lua" <<LUA
local value = "$VALUE"
local w = os.getenv("W_PARAM") or ""
counter = 0
request = function()
  counter = counter + 1
  local body = '{"key":"k' .. (counter % 10000) .. '","value":"' .. value .. '"}'
  return wrk.format("PUT", PUT_PATH or ("/meteora/set" .. w), {["Content-Type"] = "application/json"}, body)
end
LUA
cat > "$WORK/get.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/meteora/get/k" .. (counter % 1000) .. (os.getenv("R_PARAM") or ""))
end
LUA
cat > "$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
LUA

# A server left over on one of our ports would be measured instead of the one just started.
for port in 18900 18901 18910 18911 18920 18921 18922 18923 18924 18925; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "wrk-table: port $port is already in use" >&2; exit 1; fi
done

wait_http() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "wrk-table: $1 did not answer" >&2; exit 1; }

# run_wrk NAME URL SCRIPT [ENV...]: prints "NAME rps p50 p99 max errors"
run_wrk() {
  local name="$1" url="$2" script="$3"; shift 3
  local out
  # wrk reads the script once per thread, so it must be a real file (not a pipe).
  cat "$script" "$WORK/report.lua" > "$WORK/$name.lua"
  out=$(env "$@" wrk -t2 -c"$CONNECTIONS" -d"${DURATION_S}s" --latency -s "$WORK/$name.lua" "$url" | grep '^RESULT')
  echo "$name ${out#RESULT }" | tee -a "$WORK/rows" >&2
}

# warm URL SCRIPT [ENV...]: the same load for WARMUP_S, not measured.
warm() {
  local url="$1" script="$2"; shift 2
  [ "$WARMUP_S" -gt 0 ] || return 0
  env "$@" wrk -t2 -c"$CONNECTIONS" -d"${WARMUP_S}s" -s "$script" "$url" >/dev/null
}

# sample_rss NAME PID...: RSS in KiB of each PID once a second into $WORK/rss (until killed).
sample_rss() {
  local name="$1"; shift
  while true; do
    for p in "$@"; do echo "$name-$p $(ps -o rss= -p "$p" 2>/dev/null || echo 0)"; done >> "$WORK/rss"
    sleep 1
  done
}

# Bare Kestrel answering a constant (same slim builder as a node; PUT reads the body).
$BENCH --serve-constant 18900 >/dev/null 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:18900/constant
{ echo 'PUT_PATH = "/constant"'; cat "$WORK/put.lua"; } > "$WORK/put-constant.lua"
echo '-- plain GET of the URL' > "$WORK/get-constant.lua"
warm http://127.0.0.1:18900 "$WORK/put-constant.lua"
run_wrk kestrel-put http://127.0.0.1:18900 "$WORK/put-constant.lua"
run_wrk kestrel-get http://127.0.0.1:18900/constant "$WORK/get-constant.lua"
kill "${PIDS[-1]}"; unset 'PIDS[-1]'

# Redis with every write fsynced before the reply (AOF appendfsync always).
mkdir -p "$WORK/redis"
redis-server --port 18901 --save '' --appendonly yes --appendfsync always --dir "$WORK/redis" --daemonize no >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p 18901 ping >/dev/null 2>&1 && break; sleep 0.1; done
REQUESTS=$((DURATION_S * 20000))
redis-benchmark -p 18901 -c "$CONNECTIONS" -n "$REQUESTS" -d 100 -r 10000 -t set,get --csv 2>/dev/null | tail -n +2 | tr -d '"' |
  awk -F, '{ printf "redis-%s %s %s %s %s 0\n", tolower($1), $2, $5, $7, $8 }' | tee -a "$WORK/rows" >&2
kill "${PIDS[-1]}"; unset 'PIDS[-1]'

# Meteora, 1 node: acknowledged after the WAL fsync that covers the write.
$METEORA node --id 0 --http-port 18910 --peer-port 18911 --data "$WORK/one" --n 1 >"$WORK/one.log" 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:18910/meteora/health
warm http://127.0.0.1:18910 "$WORK/put.lua"
sample_rss one "${PIDS[-1]}" & SAMPLER=$!
run_wrk meteora1-set http://127.0.0.1:18910 "$WORK/put.lua"
run_wrk meteora1-get http://127.0.0.1:18910 "$WORK/get.lua"
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true
kill "${PIDS[-1]}"; unset 'PIDS[-1]'

# Meteora, 3 nodes, N=3: set at W=2, get at R=2, all load through node 0.
SECRET="$WORK/cluster.secret"; (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SECRET")
PEERS="0=127.0.0.1:18921,1=127.0.0.1:18923,2=127.0.0.1:18925"
for i in 0 1 2; do
  $METEORA node --id $i --http-port $((18920 + 2 * i)) --peer-port $((18921 + 2 * i)) --data "$WORK/three-$i" --peers "$PEERS" --n 3 \
    --cluster-secret-file "$SECRET" >"$WORK/three-$i.log" 2>&1 & PIDS+=($!)
done
for i in 0 1 2; do wait_http "http://127.0.0.1:$((18920 + 2 * i))/meteora/health"; done
sleep 2
warm http://127.0.0.1:18920 "$WORK/put.lua" "W_PARAM=?writeConsistency=2"
sample_rss three "${PIDS[@]: -3}" & SAMPLER=$!
run_wrk meteora3-set-w2 http://127.0.0.1:18920 "$WORK/put.lua" "W_PARAM=?writeConsistency=2"
run_wrk meteora3-get-r2 http://127.0.0.1:18920 "$WORK/get.lua" "R_PARAM=?readConsistency=2"
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true

awk -v duration="$DURATION_S" -v conns="$CONNECTIONS" -v warmup="$WARMUP_S" '
  { rps[$1] = $2; p50[$1] = $3; p99[$1] = $4; max[$1] = $5; err[$1] = $6; order[n++] = $1 }
  END {
    printf "\n%d connections, %d s per row after %d s of warm-up per server, 100-byte values, one machine\n\n", conns, duration, warmup
    print "| row | req/s | p50 ms | p99 ms | max ms | errors | vs Kestrel | vs Redis |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 0; i < n; i++) {
      r = order[i]; k = ""; d = ""
      if (r ~ /set|put/) { if (rps["kestrel-put"] > 0) k = sprintf("%.2fx", rps[r] / rps["kestrel-put"]); if (rps["redis-set"] > 0) d = sprintf("%.2fx", rps[r] / rps["redis-set"]) }
      else { if (rps["kestrel-get"] > 0) k = sprintf("%.2fx", rps[r] / rps["kestrel-get"]); if (rps["redis-get"] > 0) d = sprintf("%.2fx", rps[r] / rps["redis-get"]) }
      printf "| %s | %.0f | %s | %s | %s | %s | %s | %s |\n", r, rps[r], p50[r], p99[r], max[r], err[r], k, d
    }
  }' "$WORK/rows"

# RSS per node over its measured rows (set then get): a flat line means no queue or cache grows with load.
awk '
  { if (!($1 in first)) { first[$1] = $2; order[n++] = $1 } if ($2 > max[$1]) max[$1] = $2; last[$1] = $2; count[$1]++; rss[$1, count[$1]] = $2 }
  END {
    print "\n| node (server-pid) | RSS first MiB | RSS max of first half MiB | RSS max of second half MiB | RSS last MiB | samples |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 0; i < n; i++) {
      r = order[i]; half = int(count[r] / 2); a = 0; b = 0
      for (k = 1; k <= count[r]; k++) { if (k <= half) { if (rss[r, k] > a) a = rss[r, k] } else if (rss[r, k] > b) b = rss[r, k] }
      printf "| %s | %.1f | %.1f | %.1f | %.1f | %d |\n", r, first[r] / 1024, a / 1024, b / 1024, last[r] / 1024, count[r]
    }
  }' "$WORK/rss"
