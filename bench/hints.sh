#!/usr/bin/env bash
# Issue 10's measurements, on 5 local nodes (N=3, Q=64, background anti-entropy off so that only hints
# bring a node back up to date). Builds in Release, starts every process itself, stops them at the end.
#   bash bench/hints.sh [--keys 20000] [--value-bytes 100] [--threads 8] [--duration-s 10]
#                       [--baseline-s 10] [--rate 200] [--hint-replay-bytes-per-second N]
# (a) Write availability with node 4 killed (-9): --duration-s of closed-loop sets on new keys from
#     --threads threads through nodes 0-3, for W=2 and W=3, sloppy (default) and strict
#     (primaryWrite=true): success rate, req/s, p50/p99. Then node 4 restarts and its hints drain.
# (b) Hint replay: --keys keys written at W=3; --baseline-s of foreground load served by node 4 (get
#     R=2 / set W=2, 50/50, paced at --rate req/s); node 4 killed; every key written again at W=2
#     (sloppy: the fallbacks keep a hint for node 4 of each key it replicates); node 4 restarted with
#     the same foreground load running, until 5 s after no node holds hints (polled every 100 ms on
#     /meteora/metrics). Replay: hints/s and bytes/s over first delivery -> 0 pending. Foreground
#     p50/p99 on node 4 before the kill, while it starts (restart -> first delivery), during replay,
#     and after. Then node 4's own replica of every key it replicates is read: none may be stale.
#     --hint-replay-bytes-per-second goes to every node (default 4 MiB/s).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=20000
VALUE_BYTES=100
THREADS=8
DURATION_S=10
BASELINE_S=10
RATE=200
REPLAY_RATE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --value-bytes) VALUE_BYTES="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --duration-s) DURATION_S="$2"; shift 2 ;;
    --baseline-s) BASELINE_S="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --hint-replay-bytes-per-second) REPLAY_RATE="$2"; shift 2 ;;
    *) echo "hints.sh: unknown option $1 (use --keys, --value-bytes, --threads, --duration-s, --baseline-s, --rate, --hint-replay-bytes-per-second)" >&2; exit 2 ;;
  esac
done

NODES=5
HTTP=29200
PEER=27200
DOWN=4
DRAIN_TIMEOUT_S=300

echo "hints.sh: building (Release)" >&2
if ! build_log="$(dotnet build -c Release -v q src/Net 2>&1)"; then
  echo "$build_log" | grep -E 'error' | head -20 >&2
  echo "hints.sh: build failed" >&2
  exit 1
fi
METEORA=(dotnet src/Net/bin/Release/net10.0/meteora.dll)
WORK="$(mktemp -d /tmp/meteora-hints-XXXXXX)"
declare -a PIDS
FG_PID=""
cleanup() {
  touch "$WORK/stop"
  [ -n "$FG_PID" ] && kill "$FG_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
url() { echo "http://127.0.0.1:$((HTTP + $1))"; }
(umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' > "$WORK/cluster.secret")
PEERS="$(for i in $(seq 0 $((NODES - 1))); do echo "$i=127.0.0.1:$((PEER + i))"; done | paste -sd,)"
LIVE="$(for i in $(seq 0 $((NODES - 1))); do if [ "$i" != "$DOWN" ]; then url "$i"; fi; done | paste -sd,)"

start_node() {
  local args=(node --id "$1" --http-port $((HTTP + $1)) --peer-port $((PEER + $1)) --data "$WORK/node-$1" --peers "$PEERS"
    --n 3 --partitions 64 --ae-interval-ms 0 --cluster-secret-file "$WORK/cluster.secret")
  [ -n "$REPLAY_RATE" ] && args+=(--hint-replay-bytes-per-second "$REPLAY_RATE")
  "${METEORA[@]}" "${args[@]}" >>"$WORK/node-$1.log" 2>&1 &
  PIDS[$1]=$!
}

# Every node in "$@" answers health and sees the others in "$@" up, and (if given) DOWN_SEEN sees $DOWN down.
wait_health() {
  local deadline=$(( $(now_ms) + 60000 ))
  while true; do
    local ready=1
    for i in "$@"; do
      curl -sf --max-time 5 "$(url "$i")/meteora/health" 2>/dev/null | python3 -c "
import json, sys
text = sys.stdin.read()
if not text: sys.exit(1)  # not answering yet
h = json.loads(text); want = set(map(int, sys.argv[1].split(','))); down = set(h['down'])
sys.exit(0 if not (down & want) and (sys.argv[2] == '' or int(sys.argv[2]) in down) else 1)" "$(IFS=,; echo "$*")" "${DOWN_SEEN:-}" \
        || { ready=0; break; }
    done
    [ $ready = 1 ] && return 0
    [ "$(now_ms)" -gt $deadline ] && { echo "hints.sh: nodes $* not ready within 60 s; logs in $WORK" >&2; exit 1; }
    sleep 0.2
  done
}

# "pending bytesPending delivered" summed over every node that answers.
hint_totals() {
  for i in $(seq 0 $((NODES - 1))); do curl -sf --max-time 5 "$(url "$i")/meteora/metrics" || echo '{}'; echo; done | python3 -c "
import json, sys
p = b = d = 0
for line in sys.stdin:
    line = line.strip()
    if not line: continue
    h = json.loads(line).get('hints') or {}
    p += h.get('pending', 0); b += h.get('bytesPending', 0); d += h.get('delivered', 0)
print(p, b, d)"
}

wait_drained() {
  local deadline=$(( $(now_ms) + DRAIN_TIMEOUT_S * 1000 ))
  while true; do
    read -r pending _ _ < <(hint_totals)
    [ "$pending" = 0 ] && return 0
    [ "$(now_ms)" -gt $deadline ] && { echo "hints.sh: $pending hints still pending after ${DRAIN_TIMEOUT_S} s; logs in $WORK" >&2; exit 1; }
    sleep 0.1
  done
}

ALL=($(seq 0 $((NODES - 1))))
SURVIVORS=($(seq 0 $((NODES - 2))))
for i in "${ALL[@]}"; do start_node "$i"; done
wait_health "${ALL[@]}"
echo "hints.sh: $NODES nodes up (data and logs in $WORK); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# ---- (a) write availability with one node of five down
kill -9 "${PIDS[$DOWN]}"; wait "${PIDS[$DOWN]}" 2>/dev/null || true
DOWN_SEEN=$DOWN wait_health "${SURVIVORS[@]}"
echo "hints.sh: (a) node $DOWN killed; ${DURATION_S} s of sets per row" >&2
declare -A A
for w in 2 3; do
  for mode in sloppy strict; do
    flag=(); [ $mode = strict ] && flag=(--primary)
    A[$w,$mode]="$(python3 bench/hints_load.py burst --nodes "$LIVE" --w $w "${flag[@]}" --duration-s "$DURATION_S" \
      --prefix "a-w$w-$mode" --value-bytes "$VALUE_BYTES" --threads "$THREADS")"
  done
done
read -r a_pending a_bytes _ < <(hint_totals)
restart_ms=$(now_ms)
start_node $DOWN
wait_drained
a_drain_ms=$(( $(now_ms) - restart_ms ))
wait_health "${ALL[@]}"

echo
echo "### (a) Write availability, node $DOWN of $NODES down (kill -9), N=3, ${THREADS} threads, ${DURATION_S} s per row, ${VALUE_BYTES}-byte values"
echo
echo "| W | quorum | requests | success | req/s | ok/s | p50 ms | p99 ms | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
for w in 2 3; do
  for mode in sloppy strict; do
    python3 -c "
import json, sys
r = json.loads(sys.argv[3])
label = 'strict (primaryWrite=true)' if sys.argv[2] == 'strict' else 'sloppy (default)'
errors = '; '.join(r['errors']).replace('|', '/') or '-'
print(f\"| {sys.argv[1]} | {label} | {r['requests']:,} | {100 * r['ok'] / max(r['requests'], 1):.1f} % | {r['reqPerS']:,.0f} | {r['okPerS']:,.0f} | {r['p50Ms']:.1f} | {r['p99Ms']:.1f} | {errors} |\")" \
      "$w" "$mode" "${A[$w,$mode]}"
  done
done
echo
echo "Hints held for node $DOWN after (a): $a_pending ($a_bytes bytes); node $DOWN restarted, all delivered $((a_drain_ms / 1000)).$(( (a_drain_ms % 1000) / 100 )) s after its start."

# ---- (b) hint replay
echo "hints.sh: (b) writing $KEYS keys at W=3" >&2
python3 bench/hints_load.py load --nodes "$(for i in "${ALL[@]}"; do url "$i"; done | paste -sd,)" --keys "$KEYS" --w 3 \
  --prefix h --tag old --value-bytes "$VALUE_BYTES" --threads "$THREADS" >/dev/null
echo "hints.sh: (b) ${BASELINE_S} s of foreground load on node $DOWN" >&2
foreground() {
  rm -f "$WORK/stop"
  python3 bench/hints_load.py foreground --node "$(url $DOWN)" --keys "$KEYS" --prefix h --tag "fg-$1" --rate "$RATE" --threads "$THREADS" \
    --value-bytes "$VALUE_BYTES" --stop-file "$WORK/stop" --out "$WORK/$1.jsonl" &
  FG_PID=$!
}
stop_foreground() { touch "$WORK/stop"; wait "$FG_PID"; FG_PID=""; }
foreground before
sleep "$BASELINE_S"
stop_foreground

kill -9 "${PIDS[$DOWN]}"; wait "${PIDS[$DOWN]}" 2>/dev/null || true
DOWN_SEEN=$DOWN wait_health "${SURVIVORS[@]}"
echo "hints.sh: (b) node $DOWN killed; writing $KEYS keys at W=2 (sloppy)" >&2
write_json="$(python3 bench/hints_load.py load --nodes "$LIVE" --keys "$KEYS" --w 2 --prefix h --tag new \
  --value-bytes "$VALUE_BYTES" --threads "$THREADS")"
read -r b_pending b_bytes b_delivered0 < <(hint_totals)
echo "hints.sh: (b) $b_pending hints ($b_bytes bytes) held for node $DOWN; restarting it" >&2

foreground during
restart_ms=$(now_ms)
start_node $DOWN
first_ms=""
: >"$WORK/pending.txt"
deadline=$(( restart_ms + DRAIN_TIMEOUT_S * 1000 ))
while true; do
  read -r pending bytes _ < <(hint_totals)
  t=$(now_ms)
  echo "$t $pending $bytes" >>"$WORK/pending.txt"
  [ -z "$first_ms" ] && [ "$pending" -lt "$b_pending" ] && first_ms=$t
  [ "$pending" = 0 ] && break
  [ "$t" -gt $deadline ] && { echo "hints.sh: $pending hints still pending ${DRAIN_TIMEOUT_S} s after the restart; logs in $WORK" >&2; exit 1; }
  sleep 0.1
done
drained_ms=$t
sleep 5 # the "after" window
stop_foreground

# Node 4's own replica of every key it replicates (no quorum, no read repair): the rewrite ("new") or a
# foreground set made after its restart ("fg-during") is up to date; "old" or "fg-before" is stale.
replicas="$(python3 - "$(url $DOWN)" "$KEYS" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); keys = int(sys.argv[2])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
current = stale = 0
for i in range(keys):
    conn.request("GET", f"/meteora/admin/replica/h{i}")
    r = json.loads(conn.getresponse().read())
    if r.get("replica"):
        value = r.get("value") or ""
        if value.startswith("new") or value.startswith("fg-during"): current += 1
        else: stale += 1
print(f"{current} {stale}")
PY
)"
read -r node_current node_stale <<<"$replicas"

python3 - "$WORK/before.jsonl" "$WORK/during.jsonl" "$restart_ms" "$first_ms" "$drained_ms" "$b_pending" "$b_bytes" \
  "$KEYS" "$VALUE_BYTES" "$RATE" "$DOWN" "$node_current" "$node_stale" "$write_json" "${REPLAY_RATE:-4194304 (default)}" <<'PY'
import json, math, sys
(before, during, restart, first, drained, pending, pending_bytes, keys, value_bytes, rate, down,
 node_current, node_stale, write_json, replay_rate) = sys.argv[1:]
restart, first, drained, pending, pending_bytes = int(restart), int(first or drained), int(drained), int(pending), int(pending_bytes)
keys, value_bytes = int(keys), int(value_bytes)

def window(path, start_ms=None, end_ms=None):
    rows = [json.loads(l) for l in open(path)]
    return [r for r in rows if (start_ms is None or r["t"] * 1000 >= start_ms) and (end_ms is None or r["t"] * 1000 <= end_ms)]

def stats(rows, op=None):
    ms = sorted(r["ms"] for r in rows if op is None or r["op"] == op)
    ok = sum(1 for r in rows if (op is None or r["op"] == op) and r["status"] in (200, 404))
    q = lambda p: ms[max(0, math.ceil(p / 100 * len(ms)) - 1)] if ms else float("nan")
    return len(ms), ok, q(50), q(99), (ms[-1] if ms else float("nan"))

windows = (("before the kill", window(before)), ("starting (restart → first delivery)", window(during, restart, first)),
           ("during replay", window(during, first, drained)), ("after replay (5 s)", window(during, drained + 1)))
replay_s = max(drained - first, 1) / 1000
w = json.loads(write_json)
print()
print(f"### (b) Hint replay to node {down}: {keys:,} keys of {value_bytes} B rewritten at W=2 while it was down; "
      f"replay rate {replay_rate} B/s per fallback (nodes 0-3 each replay their own hints)")
print()
print("| figure | value |")
print("|---|---|")
print(f"| hints held for node {down} when it restarted | {pending:,} ({pending_bytes:,} B counted) |")
print(f"| writes while it was down (W=2, sloppy) | {w['ok']:,} ok, {w['failed']} failed, {w['ok'] / w['seconds']:,.0f} writes/s |")
print(f"| restart → first hint delivered | {(first - restart) / 1000:.1f} s |")
print(f"| restart → no hints pending anywhere | {(drained - restart) / 1000:.1f} s |")
print(f"| replay (first delivery → 0 pending) | {replay_s:.1f} s: {pending / replay_s:,.0f} hints/s, {pending_bytes / replay_s / 1024:,.0f} KiB/s |")
print(f"| node {down}'s own replicas of the keys it replicates, afterwards | {int(node_current):,} up to date, {int(node_stale):,} stale |")
print()
print(f"Foreground load served by node {down} (get R=2 / set W=2, 50/50, ~{rate} req/s):")
print()
print("| window | op | answered | ok | p50 ms | p99 ms | max ms |")
print("|---|---|---:|---:|---:|---:|---:|")
figures = {}
for name, rows in windows:
    for op in ("get", "set", None):
        n, ok, p50, p99, mx = stats(rows, op)
        figures[(name, op)] = (p50, p99)
        print(f"| {name} | {op or 'all'} | {n:,} | {ok:,} | {p50:.1f} | {p99:.1f} | {mx:.1f} |")
print()
print("| op | p50 during replay / before | p99 during replay / before | p99 after / before |")
print("|---|---:|---:|---:|")
for op in ("get", "set", None):
    (b50, b99), (d50, d99) = figures[("before the kill", op)], figures[("during replay", op)]
    a99 = figures[("after replay (5 s)", op)][1]
    print(f"| {op or 'all'} | {d50 / b50:.2f}x | {d99 / b99:.2f}x | {a99 / b99:.2f}x |")
PY
echo
echo "hints.sh: logs in $WORK" >&2
