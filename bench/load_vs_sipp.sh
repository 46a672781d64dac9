#!/usr/bin/env bash
# imsflow load + imsflow ue --answer against SIPp UAC + SIPp UAS, the same
# ladder on both (INVITE, 100, reliable 183 with SDP, PRACK, 200, 200, ACK,
# BYE after a hold), over loopback UDP on this machine.
#
#   bench/load_vs_sipp.sh imsflow RATE [SECONDS]   one imsflow run
#   bench/load_vs_sipp.sh sipp RATE [SECONDS]      one SIPp run
#   bench/load_vs_sipp.sh sweep                    both, at rising rates
#
# Each run prints: calls asked, established, failed, the CPU time of both
# processes together per call (user + system, from /usr/bin/time), and the
# INVITE -> 200 latency p50/p99 when the tool reports it. HOLD_MS (default
# 1000) is the hold before BYE; THREADS (default 2) the event loops of each
# imsflow process; BATCH_US (default 0) their --batch-window and SLACK_US
# (default 1000) their --timer-slack, in microseconds.
# Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./build/imsflow}
HOLD_MS=${HOLD_MS:-1000}
SIPP=${SIPP:-$(command -v sipp || echo /usr/bin/sipp)}
tmp=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT

# SIPp's UAC scenario with the hold as asked.
sed "s/<pause milliseconds=\"100\"\/>/<pause milliseconds=\"$HOLD_MS\"\/>/" tests/interop/sipp/uac_100rel.xml >"$tmp/uac.xml"
cp tests/interop/sipp/uas_100rel.xml "$tmp/uas.xml"

cpu_of() { awk '{ printf "%.3f", $1 + $2 }' "$1"; }

run_imsflow() {
  local rate=$1 secs=$2 port=5970
  /usr/bin/time -f "%U %S" -o "$tmp/ue.time" "$BIN" ue --listen 127.0.0.1:$port --answer --threads "${THREADS:-2}" --batch-window "${BATCH_US:-0}" --timer-slack "${SLACK_US:-1000}" \
    --duration $((secs + HOLD_MS / 1000 + 8)) >"$tmp/ue.out" 2>&1 &
  local ue=$!
  sleep 0.5
  /usr/bin/time -f "%U %S" -o "$tmp/load.time" "$BIN" load --target 127.0.0.1:$port --threads "${THREADS:-2}" --batch-window "${BATCH_US:-0}" --timer-slack "${SLACK_US:-1000}" --rate "$rate" \
    --duration "$secs" --hold "$HOLD_MS" --no-progress --json "$tmp/load.json" >"$tmp/load.out" 2>&1 || true
  wait $ue || true
  python3 - "$tmp" "$rate" "$secs" <<'EOF'
import json, sys
tmp, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
j = json.load(open(f"{tmp}/load.json"))
cpu = sum(float(x) for f in ("load.time", "ue.time") for x in open(f"{tmp}/{f}").read().split("\n")[-2].split()[:2])
calls = j["calls"]
setup = j["latency_ms"]["setup_ms"]
n = max(calls["attempted"], 1)
print(f"imsflow rate {rate:.0f}/s: asked {rate*secs:.0f}, attempted {calls['attempted']}, "
      f"established {calls['established']}, failed {calls['failed']}, unfinished {calls['unfinished']}, "
      f"achieved {j['rate_achieved']:.1f}/s, cpu {cpu:.2f} s = {cpu / n * 1e6:.1f} us/call, "
      f"INVITE->200 p50 {setup['p50']:.3f} ms p99 {setup['p99']:.3f} ms")
EOF
}

run_sipp() {
  local rate=$1 secs=$2 port=5980
  local calls=$((rate * secs))
  (cd "$tmp" && /usr/bin/time -f "%U %S" -o "$tmp/uas.time" "$SIPP" -sf "$tmp/uas.xml" -i 127.0.0.1 -p $port \
    -m "$calls" -nostdin -buff_size 4194304 -timeout $((secs + 60))s >"$tmp/uas.out" 2>&1) &
  local uas=$!
  sleep 0.5
  (cd "$tmp" && /usr/bin/time -f "%U %S" -o "$tmp/uac.time" "$SIPP" -sf "$tmp/uac.xml" 127.0.0.1:$port \
    -i 127.0.0.1 -p $((port + 1)) -r "$rate" -m "$calls" -nostdin -buff_size 4194304 -trace_rtt -rtt_freq 100000 \
    -timeout $((secs + 60))s >"$tmp/uac.out" 2>&1) || true
  wait $uas || true
  python3 - "$tmp" "$rate" "$secs" <<'EOF'
import re, sys, glob
tmp, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out = open(f"{tmp}/uac.out").read()
def stat(row):
    m = re.findall(row + r"\s*\|\s*\d+\s*\|\s*(\d+)", out)
    return int(m[-1]) if m else -1
cpu = sum(float(x) for f in ("uac.time", "uas.time") for x in open(f"{tmp}/{f}").read().split("\n")[-2].split()[:2])
ok, failed = stat("Successful call"), stat("Failed call")
n = max(ok + max(failed, 0), 1)
print(f"sipp rate {rate:.0f}/s: asked {rate*secs:.0f}, established {ok}, failed {failed}, "
      f"cpu {cpu:.2f} s = {cpu / n * 1e6:.1f} us/call")
EOF
}

case "${1:-sweep}" in
  imsflow) run_imsflow "$2" "${3:-10}" ;;
  sipp) run_sipp "$2" "${3:-10}" ;;
  sweep)
    for r in 50 5000 10000 15000 20000 25000; do run_imsflow $r 10; done
    for r in 50 5000 10000 12500 15000; do run_sipp $r 10; done
    ;;
  *) echo "usage: $0 imsflow|sipp RATE [SECONDS] | sweep" >&2; exit 2 ;;
esac
