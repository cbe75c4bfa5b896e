#!/usr/bin/env bash
# Server CPU per request, split by thread kind, for A/B work on the request path (issue 11).
# On a shared 2-core machine req/s swings by ±20 % between identical runs; the CPU a request costs
# each kind of thread (event loop, storage I/O, thread pool, socket epoll) is steadier, and shows
# where a change moved work. Each run starts fresh node(s), warms them up (4 s of sets, 3 s of gets),
# then measures wrk -t2 -c32 sets and gets, reading utime+stime and context switches of every
# thread from /proc before and after. Builds alternate run by run, so drift hits both alike.
#   bash bench/cpu-split.sh [--nodes 1|3] [--runs 3] [--duration-s 6] [--baseline DIR]
# --baseline DIR: a directory holding another build's meteora.dll (for example the bin/Release/net10.0
# of an older checkout), measured interleaved with the current tree's Release build.
# 3 nodes: N=3, set at W=2 and get at R=2 through node 0, CPU summed over the three nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=1
RUNS=3
DURATION_S=6
BASELINE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration-s) DURATION_S="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    *) echo "cpu-split: unknown option $1 (use --nodes 1|3, --runs K, --duration-s S, --baseline DIR)" >&2; exit 2 ;;
  esac
done
case "$NODES" in 1|3) ;; *) echo "cpu-split: --nodes must be 1 or 3, got $NODES" >&2; exit 2 ;; esac
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "cpu-split: --runs must be a positive integer, got $RUNS" >&2; exit 2; }
[[ "$DURATION_S" =~ ^[1-9][0-9]*$ ]] || { echo "cpu-split: --duration-s must be a positive integer, got $DURATION_S" >&2; exit 2; }
if [ -n "$BASELINE" ] && [ ! -f "$BASELINE/meteora.dll" ]; then echo "cpu-split: no meteora.dll in $BASELINE" >&2; exit 2; fi
command -v wrk >/dev/null || { echo "cpu-split: installing wrk" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "cpu-split: building (Release)" >&2
dotnet build -c Release -v q src/Net >/dev/null
CURRENT="src/Net/bin/Release/net10.0"

WORK="$(mktemp -d /tmp/meteora-cpu-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for port in 18930 18931 18932 18933 18934 18935; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "cpu-split: port $port is already in use" >&2; exit 1; fi
done

W_PARAM=""; R_PARAM=""
[ "$NODES" = 3 ] && { W_PARAM="?writeConsistency=2"; R_PARAM="?readConsistency=2"; }
VALUE="$(head -c 100 /dev/zero | tr '\0' 'v')"
cat > "$WORK/put.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/meteora/set$W_PARAM", {["Content-Type"] = "application/json"}, '{"key":"k' .. (counter % 10000) .. '","value":"$VALUE"}')
end
LUA
cat > "$WORK/get.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/meteora/get/k" .. (counter % 1000) .. "$R_PARAM")
end
LUA

wait_http() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "cpu-split: $1 did not answer" >&2; exit 1; }

# snapshot PID...: one line per thread: kind utime+stime(ticks) context-switches
snapshot() {
  local pid task name kind
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do
      name=$(cat "$task/comm" 2>/dev/null) || continue
      case "$name" in
        *event-l*) kind=loop ;; *storage*) kind=io ;; *"TP Worker"*) kind=pool ;; *Sockets*) kind=epoll ;; *) kind=other ;;
      esac
      # Fields after "pid (comm) ": utime is the 12th, stime the 13th.
      awk -v kind="$kind" -v id="$task" '{ sub(/^.*\) /, ""); printf "%s %s %d", id, kind, $12 + $13 }' "$task/stat" 2>/dev/null || continue
      awk '/ctxt_switches/ { s += $2 } END { printf " %d\n", s }' "$task/status" 2>/dev/null || echo " 0"
    done
  done
}

# measure LABEL ROW LUA PID...: prints one markdown row
measure() {
  local label="$1" row="$2" lua="$3"; shift 3
  snapshot "$@" > "$WORK/before"
  local out; out=$(wrk -t2 -c32 -d"${DURATION_S}s" -s "$lua" http://127.0.0.1:18930)
  snapshot "$@" > "$WORK/after"
  local requests rps
  requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  awk -v label="$label" -v row="$row" -v requests="$requests" -v rps="$rps" -v hz="$(getconf CLK_TCK)" '
    FNR == NR { ticks[$1] = $3; cs[$1] = $4; next }
    { t = $3 - ticks[$1]; c = $4 - cs[$1]   # a thread started during the run counts from zero
      cpu[$2] += t; total += t; switches += c }
    END {
      us = 1e6 / hz / requests
      printf "| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |\n", label, row, rps,
        total * us, cpu["loop"] * us, cpu["io"] * us, cpu["pool"] * us, cpu["epoll"] * us, cpu["other"] * us, switches / requests
    }' "$WORK/before" "$WORK/after"
}

# run LABEL DIR: fresh node(s) from DIR, warm-up, then the set and get rows
run() {
  local label="$1" dir="$2" started=()
  rm -rf "$WORK"/data-*
  if [ "$NODES" = 1 ]; then
    dotnet "$dir/meteora.dll" node --id 0 --http-port 18930 --peer-port 18931 --data "$WORK/data-0" --n 1 >"$WORK/node-0.log" 2>&1 &
    started+=($!)
  else
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/secret")
    local peers="0=127.0.0.1:18931,1=127.0.0.1:18933,2=127.0.0.1:18935" i
    for i in 0 1 2; do
      dotnet "$dir/meteora.dll" node --id "$i" --http-port $((18930 + 2 * i)) --peer-port $((18931 + 2 * i)) --data "$WORK/data-$i" \
        --peers "$peers" --n 3 --cluster-secret-file "$WORK/secret" >"$WORK/node-$i.log" 2>&1 &
      started+=($!)
    done
  fi
  PIDS+=("${started[@]}")
  local p ports=(18930)
  [ "$NODES" = 3 ] && ports+=(18932 18934)
  for p in "${ports[@]}"; do wait_http "http://127.0.0.1:$p/meteora/health"; done
  [ "$NODES" = 1 ] || sleep 2 # peer links come up after HTTP
  wrk -t2 -c32 -d4s -s "$WORK/put.lua" http://127.0.0.1:18930 >/dev/null
  wrk -t2 -c32 -d3s -s "$WORK/get.lua" http://127.0.0.1:18930 >/dev/null
  measure "$label" set "$WORK/put.lua" "${started[@]}"
  measure "$label" get "$WORK/get.lua" "${started[@]}"
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

echo
echo "$NODES node(s), wrk -t2 -c32, ${DURATION_S} s per row; server CPU in µs per request by thread kind, summed over the nodes"
echo
echo "| build | row | req/s | total | loop | storage I/O | pool | epoll | other | ctx switches |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in $(seq 1 "$RUNS"); do
  run current "$CURRENT"
  [ -n "$BASELINE" ] && run baseline "$BASELINE"
done
