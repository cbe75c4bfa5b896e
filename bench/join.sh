#!/usr/bin/env bash
# Issue 9's measurement: time and bytes to join a fourth node into a 3-node cluster (N=3) holding
# --keys keys of --value-bytes bytes, under a steady client load (set W=2 / get R=2, 50/50, random
# keys, from bench/join_load.py's keep-alive threads), and the fraction of client operations that
# succeeded while the join ran. Builds in Release, starts everything itself, stops it at the end.
#   bash bench/join.sh [--keys 100000] [--value-bytes 100] [--threads 8] [--stream-bytes-per-second N]
# Join time: the joiner's start → its ring shows four normal members and no change in progress (polled
# every 200 ms on node 0). Bytes: what the joiner pulled (meteora_stream_received_bytes_total) and its
# RocksDB size estimate, against the logical bytes it should hold (key + value bytes of the keys whose
# preference list includes it: the loaded bytes × its share of replicated partitions; keys hash uniformly).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=100000
VALUE_BYTES=100
THREADS=8
STREAM_RATE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --value-bytes) VALUE_BYTES="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --stream-bytes-per-second) STREAM_RATE="$2"; shift 2 ;;
    *) echo "join.sh: unknown option $1 (use --keys N, --value-bytes B, --threads T, --stream-bytes-per-second N)" >&2; exit 2 ;;
  esac
done

echo "join.sh: building (Release)" >&2
dotnet build -c Release -v q src/Net >/dev/null
METEORA="dotnet src/Net/bin/Release/net10.0/meteora.dll"
WORK="$(mktemp -d /tmp/meteora-join-XXXXXX)"
HTTP=29100
PEER=27100
PIDS=()
cleanup() {
  touch "$WORK/stop"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
ring_field() { curl -sf "http://127.0.0.1:$1/meteora/ring" | python3 -c "import json,sys; r=json.load(sys.stdin); print($2)"; }
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m {printf "%d\n", $2}'; }

$METEORA cluster --nodes 3 --http-port $HTTP --peer-port $PEER --data "$WORK/data" >"$WORK/cluster.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -qs "Press Ctrl-C" "$WORK/cluster.log" && break; sleep 0.2; done
grep -q "Press Ctrl-C" "$WORK/cluster.log" || { echo "join.sh: cluster did not start; see $WORK/cluster.log" >&2; exit 1; }
NODES="http://127.0.0.1:$HTTP,http://127.0.0.1:$((HTTP+1)),http://127.0.0.1:$((HTTP+2))"

echo "join.sh: loading $KEYS keys of $VALUE_BYTES bytes" >&2
start=$(now_ms)
python3 bench/join_load.py load --nodes "$NODES" --keys "$KEYS" --value-bytes "$VALUE_BYTES" --threads "$THREADS"
echo "join.sh: loaded in $(( $(now_ms) - start )) ms" >&2

python3 bench/join_load.py steady --nodes "$NODES" --keys "$KEYS" --value-bytes "$VALUE_BYTES" --threads "$THREADS" \
  --stop-file "$WORK/stop" --out "$WORK/steady.jsonl" &
LOAD_PID=$!
sleep 5 # the load settles before the join starts

JOIN_ARGS=(node --id 3 --http-port $((HTTP+3)) --peer-port $((PEER+3)) --data "$WORK/data/node-3" --join "127.0.0.1:$PEER"
  --cluster-secret-file "$WORK/data/cluster.secret")
[ -n "$STREAM_RATE" ] && JOIN_ARGS+=(--stream-bytes-per-second "$STREAM_RATE")
echo "join.sh: node 3 joins" >&2
join_start=$(now_ms)
$METEORA "${JOIN_ARGS[@]}" >"$WORK/node-3.log" 2>&1 &
PIDS+=($!)
while true; do
  done_now=$(ring_field $HTTP 'int(r["pendingChange"] is None and len(r["members"])==4 and all(m["status"]=="normal" for m in r["members"]))' 2>/dev/null || echo 0)
  [ "$done_now" = "1" ] && break
  if [ $(( $(now_ms) - join_start )) -gt 1800000 ]; then echo "join.sh: the join did not finish within 30 min; see $WORK" >&2; exit 1; fi
  sleep 0.2
done
join_end=$(now_ms)
sleep 1
touch "$WORK/stop"
wait $LOAD_PID

received=$(metric $((HTTP+3)) meteora_stream_received_bytes_total)
keys_received=$(metric $((HTTP+3)) meteora_stream_received_keys_total)
read -r replicated joiner_rocks node0_rocks < <(curl -sf "http://127.0.0.1:$((HTTP+3))/meteora/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
rows = {m["id"]: m for m in s["members"]}
print(rows[3]["partitionsReplicated"], rows[3]["bytes"], rows[0]["bytes"])')
python3 - "$WORK/steady.jsonl" "$join_start" "$join_end" "$KEYS" "$VALUE_BYTES" "$received" "$keys_received" "$replicated" "$joiner_rocks" "$node0_rocks" <<'PY'
import json, sys
path, start, end, keys, value_bytes, received, keys_received, replicated, joiner_rocks, node0_rocks = sys.argv[1:]
start, end = int(start) / 1000, int(end) / 1000
ok = failed = 0
for line in open(path):
    b = json.loads(line)
    if start <= b["t"] < end:  # whole seconds inside the join
        ok += b["ok"]; failed += b["failed"]
keys, value_bytes, received, replicated = int(keys), int(value_bytes), int(received), int(replicated)
logical = sum(len(f"k{i}") for i in range(keys)) + keys * value_bytes
should_hold = logical * replicated / 64
total = ok + failed
print(f"join time:                 {end - start:.1f} s")
print(f"bytes received (stream):   {received:,} B in {int(keys_received):,} entries")
print(f"data it should hold:       {should_hold:,.0f} B logical ({replicated}/64 partitions of {logical:,} B loaded; values overwritten by the load keep their size)")
print(f"received / should hold:    {received / should_hold:.2f}")
print(f"RocksDB estimate, node 3:  {int(joiner_rocks):,} B (node 0: {int(node0_rocks):,} B)")
print(f"client ops during join:    {ok:,} ok, {failed:,} failed, {100 * ok / total if total else 0:.2f} % succeeded ({total / max(end - start, 1):.0f} ops/s)")
PY
echo "join.sh: logs in $WORK" >&2
