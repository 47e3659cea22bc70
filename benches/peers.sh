#!/usr/bin/env bash
# Whole-process benchmarks of tagroute against the tools people use today, side by side in one run.
#
#   benches/peers.sh            # everything (about 30 minutes on 2 cores; the C aggregate alone 6)
#   ROUNDS=5 benches/peers.sh   # more alternating rounds (default 3) on a noisy machine
#   QUICK=1 benches/peers.sh    # skip the 10M-line aggregation and aggregate6 on 1M lines
#   ONLY='10M|plan' benches/peers.sh   # only the rows whose workload matches this regex
#
# Generates the synthetic inputs deterministically (examples/gen_prefixes.rs, fixed seed), finds
# or installs the peers (Debian: iprange, aggregate, jq, hyperfine, time; PyPI: aggregate6), and
# prints a Markdown table of hyperfine medians and peak RSS with tagroute's speed-up over each.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${TAGROUTE_TEST_DATA:-$ROOT/../shared/data/servicetags}
WORK=${BENCH_DIR:-$ROOT/target/bench}
mkdir -p "$WORK"

need_deb() {
  local missing=()
  for tool in "$@"; do command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2
  fi
}
need_deb iprange:iprange aggregate:aggregate jq:jq hyperfine:hyperfine /usr/bin/time:time
if ! command -v aggregate6 >/dev/null; then
  python3 -m venv "$WORK/venv" >&2 && "$WORK/venv/bin/pip" install -q aggregate6 >&2
  export PATH="$WORK/venv/bin:$PATH"
fi

cargo build --release --bin tagroute --example gen_prefixes --example naive_ipnet >&2
# tagroute as the README installs it (`cargo install`). Installed, not run from target/: the
# same bytes run from where the linker wrote them were slower on `plan` here, with more page
# faults (how the linker's writes left the file in the page cache, not how people run it).
cargo install --quiet --locked --path "$ROOT/cli" --root "$WORK/install" >&2
T=$WORK/install/bin/tagroute
GEN=$ROOT/target/release/examples/gen_prefixes
NAIVE=$ROOT/target/release/examples/naive_ipnet
PUBLIC=$DATA/ServiceTags_Public_20251028.json
# The interpreter itself, not a version manager's shim in front of it (pyenv's adds ~100 ms to
# every start, which is not Python's time).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

[ -s "$WORK/v4_100k.txt" ] || "$GEN" v4 100000 > "$WORK/v4_100k.txt"
[ -s "$WORK/v4_1m.txt" ] || "$GEN" v4 1000000 > "$WORK/v4_1m.txt"
[ -s "$WORK/v6_1m.txt" ] || "$GEN" v6 1000000 > "$WORK/v6_1m.txt"
[ -n "${QUICK:-}" ] || [ -s "$WORK/v4_10m.txt" ] || "$GEN" v4 10000000 > "$WORK/v4_10m.txt"
# A million addresses inside and around the public file's prefixes, for lookup.
[ -s "$WORK/addresses_1m.txt" ] || python3 - "$PUBLIC" > "$WORK/addresses_1m.txt" <<'PY'
import ipaddress, json, random, sys
random.seed(2026)
nets = [ipaddress.ip_network(p) for v in json.load(open(sys.argv[1]))["values"] for p in v["properties"]["addressPrefixes"]]
for _ in range(1_000_000):
    n = random.choice(nets)
    print(n.network_address + random.randrange(min(n.num_addresses, 1 << 20)) if random.random() < 0.8
          else ipaddress.ip_address(random.getrandbits(32)))
PY

# median seconds of one command line over RUNS runs
median_of() {
  local runs=$1; shift
  local shell=(-N)
  case $1 in *"<"*) shell=(--shell bash) ;; esac # redirections need a shell; hyperfine subtracts its cost
  hyperfine "${shell[@]}" --style none --warmup 1 --runs "$runs" --export-json "$WORK/h.json" "$1" >/dev/null
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$WORK/h.json"
}

# peak RSS (KiB) of one command line
peak_rss() {
  { /usr/bin/time -f '%M' bash -c "$1 > /dev/null"; } 2>&1 | tail -n 1
}

median() { python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }

# This machine's speed drifts by tens of percent over seconds, so a row is measured in ROUNDS
# rounds (default 3), and in each round every peer is timed between two timings of tagroute: a
# ratio is the peer's time over the mean of the two around it (drift during the peer's runs
# moves both alike), a row's ratio the median of its rounds' ratios, a tool's figure the median
# of its timings. The slow single-run peers (aggregate6, the C aggregate) run in the first round
# only.
ROUNDS=${ROUNDS:-3}

echo "| workload | tool | median | peak RSS | tagroute faster by |"
echo "|---|---|---|---|---|"
row() { # workload, tagroute command, runs per round, then pairs of name and command
  local workload=$1 ours=$2 runs=$3; shift 3
  if [ -n "${ONLY:-}" ] && ! [[ $workload =~ $ONLY ]]; then return; fi
  local names=() cmds=()
  while [ $# -gt 0 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
  local ours_t=() peer_t=() ratios=() r k t p after
  for ((r = 0; r < ROUNDS; r++)); do
    t=$(median_of "$runs" "$ours")
    ours_t+=("$t")
    for k in "${!cmds[@]}"; do
      case ${names[$k]} in aggregate6* | "aggregate (C)")
        [ "$r" -eq 0 ] || continue
        p=$(median_of 1 "${cmds[$k]}") ;;
      *) p=$(median_of "$runs" "${cmds[$k]}") ;;
      esac
      after=$(median_of "$runs" "$ours")
      ours_t+=("$after")
      peer_t[$k]="${peer_t[$k]:-} $p"
      ratios[$k]="${ratios[$k]:-} $(python3 -c "print($p / (($t + $after) / 2))")"
      t=$after
    done
  done
  printf '| %s | tagroute | %.4f s | %d MiB | |\n' "$workload" "$(median "${ours_t[@]}")" \
    $(($(peak_rss "$ours") / 1024))
  for k in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    printf '| %s | %s | %.4f s | %d MiB | %.1f× |\n' "$workload" "${names[$k]}" \
      "$(median ${peer_t[$k]})" $(($(peak_rss "${cmds[$k]}") / 1024)) "$(median ${ratios[$k]})"
  done
}

if [ -z "${QUICK:-}" ]; then
  row "aggregate 10M IPv4 lines" "$T aggregate $WORK/v4_10m.txt" 2 \
    "iprange --optimize" "iprange --optimize $WORK/v4_10m.txt" \
    "naive ipnet program" "$NAIVE < $WORK/v4_10m.txt"
fi
slow=()
[ -n "${QUICK:-}" ] || slow=("aggregate6" "aggregate6 $WORK/v4_1m.txt")
row "aggregate 1M IPv4 lines" "$T aggregate $WORK/v4_1m.txt" 4 \
  "iprange --optimize" "iprange --optimize $WORK/v4_1m.txt" \
  "naive ipnet program" "$NAIVE < $WORK/v4_1m.txt" \
  "${slow[@]}"
# The C aggregate tool is quadratic (over 12 minutes on 1M lines): compared on 100k lines.
row "aggregate 100k IPv4 lines" "$T aggregate $WORK/v4_100k.txt" 4 \
  "aggregate (C)" "aggregate -q < $WORK/v4_100k.txt" \
  "iprange --optimize" "iprange --optimize $WORK/v4_100k.txt"
row "aggregate 1M IPv6 lines" "$T aggregate $WORK/v6_1m.txt" 4 \
  "naive ipnet program" "$NAIVE < $WORK/v6_1m.txt"
row "plan eastus (Batch + AML) from the 4.1 MB public file" "$T plan -q --file $PUBLIC --region eastus --format csv" 30 \
  "jq filter" "jq -r -f benches/peers/eastus.jq $PUBLIC" \
  "Python script" "$PYTHON benches/peers/eastus.py $PUBLIC"
row "lookup 1M addresses in every prefix of the public file" "$T lookup -f $PUBLIC < $WORK/addresses_1m.txt" 2
