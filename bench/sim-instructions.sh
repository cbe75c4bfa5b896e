#!/usr/bin/env bash
# Instructions one simulator run executes, counted by valgrind (cachegrind without its cache model):
# a figure that does not move with this machine's noise, where wall time swings by ±30 % between
# identical runs. Use it to A/B a change to the simulator or the engine; bench/sim-speed.sh gives the
# wall time. The count misses what memory stalls cost (a run that waits on the cache or the GC), so a
# change can save instructions and not time: report both.
#   bash bench/sim-instructions.sh [--seed 1] [--nodes 5] [--ops 100000] [--baseline DIR]
# --baseline DIR: also count DIR/meteora-sim (a native build of another commit) and print the ratio.
# Builds the native simulator and strips its debug information first (valgrind cannot read the DWARF
# that the native toolchain writes). Installs valgrind from Debian when missing. A 100,000-op run
# takes ~40 s under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=1
NODES=5
OPS=100000
BASELINE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    *) echo "sim-instructions: unknown option $1 (use --seed S, --nodes N, --ops N, --baseline DIR)" >&2; exit 2 ;;
  esac
done
for n in "$SEED" "$NODES" "$OPS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "sim-instructions: option values must be whole numbers, got '$n'" >&2; exit 2; }
done
if [ -n "$BASELINE" ] && [ ! -x "$BASELINE/meteora-sim" ]; then
  echo "sim-instructions: --baseline $BASELINE has no executable meteora-sim" >&2; exit 2
fi
command -v gcc >/dev/null || { echo "sim-instructions: the native build links with gcc, which is not on PATH" >&2; exit 2; }
if ! command -v valgrind >/dev/null; then
  echo "sim-instructions: installing valgrind" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

WORK="$(mktemp -d /tmp/meteora-siminstr-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
case "$(uname -m)" in
  x86_64) RID=linux-x64 ;;
  aarch64) RID=linux-arm64 ;;
  *) echo "sim-instructions: no native build for $(uname -m) (x86_64 and aarch64 only)" >&2; exit 2 ;;
esac
echo "sim-instructions: building the native simulator" >&2
dotnet publish src/Sim -c Release -r "$RID" -p:PublishAot=true -p:CppCompilerAndLinker=gcc -v q -o "$WORK/native" >/dev/null
strip --strip-debug -o "$WORK/current" "$WORK/native/meteora-sim"
BUILDS=(current)
if [ -n "$BASELINE" ]; then strip --strip-debug -o "$WORK/baseline" "$BASELINE/meteora-sim"; BUILDS+=(baseline); fi
ARGS=(run --seed "$SEED" --nodes "$NODES" --ops "$OPS")

declare -A COUNT HASH
for b in "${BUILDS[@]}"; do
  echo "sim-instructions: counting $b" >&2
  out="$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$WORK/$b" "${ARGS[@]}" 2>&1)" \
    || { echo "sim-instructions: the $b run failed under valgrind" >&2; tail -5 <<<"$out" >&2; exit 1; }
  COUNT[$b]="$(grep -oE 'I +refs: +[0-9,]+' <<<"$out" | grep -oE '[0-9,]+$' | tr -d ,)"
  HASH[$b]="$(grep -o 'trace=[0-9a-f]*' <<<"$out" | cut -d= -f2)"
  [ -n "${COUNT[$b]}" ] || { echo "sim-instructions: valgrind printed no instruction count for $b" >&2; exit 1; }
done

echo
echo "\`meteora-sim ${ARGS[*]}\`, instructions executed (valgrind cachegrind)"
echo
echo "| build | instructions | vs baseline | trace |"
echo "|---|---:|---:|---|"
for b in "${BUILDS[@]}"; do
  ratio=""
  if [ -n "$BASELINE" ]; then ratio="$(awk -v a="${COUNT[$b]}" -v b="${COUNT[baseline]}" 'BEGIN { printf "%.3fx", a / b }')"; fi
  printf '| %s | %s | %s | %s |\n' "$b" "$(awk -v c="${COUNT[$b]}" 'BEGIN { printf "%.3fG", c / 1e9 }')" "$ratio" "${HASH[$b]}"
done
