#!/usr/bin/env bash
# Simulator speed (issue 11's "1M events/s on one core"): runs one seeded simulation several times,
# pinned to one core, alternating the JIT-compiled build (what `dotnet run` and the tests use) with the
# native, ahead-of-time compiled build of the same source, and prints a markdown table of median
# wall time and events per second. Both builds must produce the same trace hash (checked).
#   bash bench/sim-speed.sh [--runs 7] [--seed 1] [--nodes 5] [--ops 100000] [--core 1] [--baseline DIR]
# --baseline DIR: also run DIR/meteora-sim (a native build of another commit) in the same rotation.
# The native build links with gcc (present wherever g++ is); NuGet brings the compiler itself.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=7
SEED=1
NODES=5
OPS=100000
CORE=1
BASELINE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    --core) CORE="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    *) echo "sim-speed: unknown option $1 (use --runs K, --seed S, --nodes N, --ops N, --core C, --baseline DIR)" >&2; exit 2 ;;
  esac
done
for n in "$RUNS" "$SEED" "$NODES" "$OPS" "$CORE"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "sim-speed: option values must be whole numbers, got '$n'" >&2; exit 2; }
done
[ "$RUNS" -ge 1 ] || { echo "sim-speed: --runs must be at least 1" >&2; exit 2; }
[ "$CORE" -lt "$(nproc)" ] || { echo "sim-speed: --core $CORE does not exist (this machine has $(nproc))" >&2; exit 2; }
if [ -n "$BASELINE" ] && [ ! -x "$BASELINE/meteora-sim" ]; then
  echo "sim-speed: --baseline $BASELINE has no executable meteora-sim" >&2; exit 2
fi
command -v gcc >/dev/null || { echo "sim-speed: the native build links with gcc, which is not on PATH" >&2; exit 2; }

WORK="$(mktemp -d /tmp/meteora-simspeed-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "sim-speed: building (Release, JIT and native)" >&2
dotnet build -c Release -v q src/Sim >/dev/null
case "$(uname -m)" in
  x86_64) RID=linux-x64 ;;
  aarch64) RID=linux-arm64 ;;
  *) echo "sim-speed: no native build for $(uname -m) (x86_64 and aarch64 only)" >&2; exit 2 ;;
esac
dotnet publish src/Sim -c Release -r "$RID" -p:PublishAot=true -p:CppCompilerAndLinker=gcc -v q -o "$WORK/native" >/dev/null

declare -A COMMAND=(
  [jit]="dotnet src/Sim/bin/Release/net10.0/meteora-sim.dll"
  [native]="$WORK/native/meteora-sim"
)
BUILDS=(jit native)
if [ -n "$BASELINE" ]; then COMMAND[baseline]="$BASELINE/meteora-sim"; BUILDS+=(baseline); fi
ARGS=(run --seed "$SEED" --nodes "$NODES" --ops "$OPS")

declare -A WALLS HASH EVENTS
for ((i = 1; i <= RUNS; i++)); do
  for b in "${BUILDS[@]}"; do
    line="$(taskset -c "$CORE" ${COMMAND[$b]} "${ARGS[@]}")" || { echo "sim-speed: $b run failed: $line" >&2; exit 1; }
    wall="$(grep -o ' wall=[0-9]*' <<<"$line" | cut -d= -f2)"
    WALLS[$b]+="$wall "
    EVENTS[$b]="$(grep -o 'events=[0-9]*' <<<"$line" | cut -d= -f2)"
    HASH[$b]="$(grep -o 'trace=[0-9a-f]*' <<<"$line" | cut -d= -f2)"
  done
  echo "sim-speed: round $i of $RUNS done" >&2
done

if [ "${HASH[jit]}" != "${HASH[native]}" ]; then
  echo "sim-speed: the builds disagree: jit trace=${HASH[jit]}, native trace=${HASH[native]}" >&2; exit 1
fi
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "\`meteora-sim ${ARGS[*]}\`, pinned to core $CORE, $RUNS alternating runs per build"
echo
echo "| build | median wall | events | events/s | runs (ms) | trace |"
echo "|---|---:|---:|---:|---|---|"
for b in "${BUILDS[@]}"; do
  m="$(median "${WALLS[$b]}")"
  rate="$(awk -v e="${EVENTS[$b]}" -v ms="$m" 'BEGIN { printf "%.0fk", e / ms }')"
  echo "| $b | $m ms | ${EVENTS[$b]} | $rate | ${WALLS[$b]% } | ${HASH[$b]} |"
done
