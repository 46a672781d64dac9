#!/usr/bin/env bash
# imsflow core against Kamailio as the one transaction-stateful, record-routing
# proxy hop of the VoLTE 100rel ladder (issue 5, Performance), with the same
# call generator on both sides of either proxy, on 127.0.0.1 over UDP:
#
#   SIPp UAC (tests/interop/sipp/uac_100rel_routed.xml)
#     -> PROXY: imsflow core --next-hop UAS   (only its P-CSCF relays: one hop)
#             | kamailio with tests/interop/kamailio/proxy.cfg, --workers UDP workers
#             | floor: imsflow-relay-floor (bench/udp_relay_floor.cpp)
#     -> SIPp UAS (tests/interop/sipp/uas_100rel_routed.xml)
#
# INVITE, PRACK and BYE are relayed statefully, the 2xx ACK statelessly, on the
# Route set from the proxy's Record-Route: 9 messages in and 9 out per call.
# The floor is a blind UDP relay with imsflow's loop shape (epoll_wait, one
# recvmmsg, one sendmmsg) that only adds to requests the Record-Route and Via
# the SIPp scenarios check for: its CPU per call is the kernel's cost of the
# same 18 datagrams, the lowest any single-threaded proxy with that loop can
# reach; "imsflow above floor" is imsflow's own work.
#
# For each proxy, one step per call rate: --seconds at that rate, with a fresh
# proxy (no transactions left from the step before) and a fresh SIPp pair
# (4 MB socket buffers, so SIPp itself does not drop datagrams):
#   cpu_us/call  utime+stime of every process of the proxy over the step
#                (/proc/PID/stat; for Kamailio all its processes), divided by
#                the step's calls; oncpu_us/call is the same from the
#                scheduler's nanosecond counters (/proc/PID/task/*/schedstat).
#   clean        every call successful at both SIPp ends, none failed, and
#                SIPp reached the rate asked (within 5 %). The highest clean
#                rate is "max clean calls/s" (bounded by --rates and by what
#                two SIPp processes sharing the machine can generate).
#   p50/p99 ms   INVITE -> 200 (INVITE) as SIPp measures it (1 ms resolution).
# Then one run at --reference calls/s with a loopback capture (dumpcap, needs
# root; --reference 0 skips it) gives microsecond INVITE -> 200 latency at the
# caller and the time the proxy held each INVITE (in -> out; for the floor, the
# kernel-only hop).
#
# Usage:
#   bench/proxy_vs_kamailio.sh [--imsflow PATH] [--floor PATH] [--rates "250 500 750 1000 1500 2000 3000"]
#       [--seconds 10] [--reference 500] [--workers 4] [--kamailio-shm 1024]
#       [--cpus LIST] [--repeat N] [--only imsflow|kamailio|floor] [--out DIR] [--batch-window US]
# The floor is measured when imsflow-relay-floor is next to the imsflow binary
# (or given with --floor).
# --repeat runs every rate N times, the proxies taking turns (so a load
# change on a shared machine hits all of them), and the summary gives the median.
# --batch-window gives imsflow core's --batch-window (microseconds; default 0).
# --cpus pins every proxy (all of Kamailio's processes) to those CPUs with
# taskset, e.g. --cpus 1; by default the scheduler places them.
# Kamailio gets --kamailio-shm MB of shared memory (Debian's default, 64 MB,
# runs out of transactions above ~1,000 calls/s: "could not allocate shared
# memory from shm pool"), so it is measured on CPU, not on its memory setting.
# Not part of make test. Prints a Markdown table; every raw file stays in --out.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
imsflow=""
floor=""
rates="250 500 750 1000 1500 2000 3000"
step_seconds=10
reference=500
workers=4
kamailio_shm=1024
cpus=""
repeat=1
only=""
out=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --imsflow) imsflow=$2; shift 2 ;;
    --floor) floor=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --seconds) step_seconds=$2; shift 2 ;;
    --reference) reference=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --kamailio-shm) kamailio_shm=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --batch-window) batch_window=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "proxy_vs_kamailio: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done

if [[ -z $imsflow ]]; then
  for candidate in "$here/build/imsflow" "$here/../build/imsflow" "$here/build-release/imsflow"; do
    [[ -x $candidate ]] && { imsflow=$candidate; break; }
  done
fi
case $only in
  "" | imsflow | kamailio | floor) ;;
  *) echo "proxy_vs_kamailio: --only takes imsflow, kamailio or floor" >&2; exit 2 ;;
esac
if [[ $only != floor ]]; then
  [[ -x $imsflow ]] || { echo "proxy_vs_kamailio: no imsflow binary; give --imsflow PATH (a Release or RelWithDebInfo build)" >&2; exit 2; }
fi
# The floor is built with imsflow (target imsflow-relay-floor, next to it).
if [[ -z $floor && -n $imsflow && -x $(dirname "$imsflow")/imsflow-relay-floor ]]; then
  floor=$(dirname "$imsflow")/imsflow-relay-floor
fi
if [[ -n $floor && ! -x $floor ]]; then
  echo "proxy_vs_kamailio: the floor '$floor' is not an executable" >&2; exit 2
fi
if [[ -z $floor ]]; then
  if [[ $only == floor ]]; then
    echo "proxy_vs_kamailio: no imsflow-relay-floor next to the imsflow binary; give --floor PATH" >&2; exit 2
  fi
  [[ -z $only ]] && echo "proxy_vs_kamailio: no imsflow-relay-floor next to $imsflow (build that target, or --floor PATH); measuring without the floor" >&2
fi
sipp=$(command -v sipp || true)
kamailio=$(command -v kamailio || { [[ -x /usr/sbin/kamailio ]] && echo /usr/sbin/kamailio; } || true)
dumpcap=$(command -v dumpcap || true)
tshark=$(command -v tshark || true)
[[ -n $sipp ]] || { echo "proxy_vs_kamailio: sipp is missing (apt-get install sip-tester)" >&2; exit 2; }
if [[ -z $kamailio ]]; then
  [[ $only == kamailio ]] && { echo "proxy_vs_kamailio: kamailio is missing (apt-get install kamailio)" >&2; exit 2; }
  [[ -z $only ]] && echo "proxy_vs_kamailio: kamailio is missing (apt-get install kamailio); measuring without it" >&2
fi

out=${out:-$(mktemp -d /tmp/imsflow-proxy-bench.XXXXXX)}
mkdir -p "$out"
uac_xml=$here/tests/interop/sipp/uac_100rel_routed.xml
uas_xml=$here/tests/interop/sipp/uas_100rel_routed.xml
kamailio_cfg=$here/tests/interop/kamailio/proxy.cfg
tick=$(getconf CLK_TCK)

# --- helpers -------------------------------------------------------------------------------

declare -A running=()  # process groups this script started and has not stopped yet
cleanup() {
  local pid
  for pid in "${!running[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

in_use() {  # PORT: something is bound to it, UDP or TCP
  local hex
  hex=$(printf ':%04X ' "$1")
  grep -q "$hex" /proc/net/udp /proc/net/tcp 2>/dev/null
}

free_port() {  # [SPAN]: a port with SPAN-1 free ports after it
  local span=${1:-1} p i ok
  while true; do
    p=$((20000 + RANDOM % 40000))
    ok=1
    for ((i = 0; i < span; i++)); do in_use $((p + i)) && ok=0; done
    ((ok)) && { echo "$p"; return; }
  done
}

wait_bound() {  # PORT: up to 10 s
  local i
  for ((i = 0; i < 1000; i++)); do in_use "$1" && return 0; sleep 0.01; done
  echo "proxy_vs_kamailio: nothing listens on port $1" >&2
  return 1
}

# /proc/PID/stat of every process, as one stream (cat goes on past a process
# that exits meanwhile). Fields after "(comm) ": state ppid pgrp ... utime(12) stime(13).
all_stats() { cat /proc/[0-9]*/stat 2>/dev/null || true; }

cpu_ticks() {  # PGID: utime+stime of the group's processes, in clock ticks
  all_stats | awk -v g="$1" '{ sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13 } END { print t + 0 }'
}

oncpu_ns() {  # PGID: on-CPU nanoseconds of every thread of the group
  local pid sum=0 ns _ f
  for pid in $(all_stats | awk -v g="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($3 == g) print pid }'); do
    for f in /proc/"$pid"/task/*/schedstat; do
      read -r ns _ < "$f" 2>/dev/null || continue
      sum=$((sum + ns))
    done
  done
  echo "$sum"
}

stat_row() {  # FILE ROW: cumulative value of a row of SIPp's final statistics screen
  grep -E "^ +$2 +\|" "$1" 2>/dev/null | tail -1 |
    awk -F'|' '{ gsub(/[^0-9.]/, "", $3); v = $3 } END { print (v == "" ? -1 : v) }'
}

percentile() {  # P: the P-th percentile of the numbers on stdin (nearest rank)
  sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# --- one proxy ------------------------------------------------------------------------------

start_proxy() {  # NAME DIR UAS_PORT -> sets proxy_pid, proxy_port
  local name=$1 dir=$2 uas_port=$3 pin=()
  [[ -n $cpus ]] && pin=(taskset -c "$cpus")
  if [[ $name == imsflow ]]; then
    proxy_port=$(free_port 2)
    setsid "${pin[@]}" "$imsflow" core --listen "127.0.0.1:$proxy_port" --next-hop "127.0.0.1:$uas_port" --batch-window "${batch_window:-0}" --json \
      > "$dir/proxy.out" 2>&1 &
  elif [[ $name == floor ]]; then
    proxy_port=$(free_port)
    setsid "${pin[@]}" "$floor" "127.0.0.1:$proxy_port" "127.0.0.1:$uas_port" > "$dir/proxy.out" 2>&1 &
  else
    proxy_port=$(free_port)
    mkdir -p "$dir/run"
    setsid "${pin[@]}" "$kamailio" -DD -E -f "$kamailio_cfg" -Y "$dir/run" -w "$dir/run" -m "$kamailio_shm" -M 16 \
      -A "PROXY_PORT=$proxy_port" -A "NEXT_HOP=\"sip:127.0.0.1:$uas_port\"" -A "UDP_WORKERS=$workers" \
      > "$dir/proxy.out" 2>&1 &
  fi
  proxy_pid=$!
  running[$proxy_pid]=1
  wait_bound "$proxy_port"
  sleep 0.5  # Kamailio forks its workers after binding
}

stop_proxy() {
  kill -TERM "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  kill -KILL -- "-$proxy_pid" 2>/dev/null || true
  unset "running[$proxy_pid]"
}

# One step: RATE calls/s for --seconds, a fresh SIPp pair on the proxy PGID.
# Prints: rate calls ok_uac ok_uas failed achieved_cps ticks ns p50 p99 retrans
run_step() {  # NAME DIR RATE UAS_PORT PROXY_PORT TAG [CAPTURE_FILE]
  local name=$1 dir=$2 rate=$3 uas_port=$4 port=$5 tag=$6 capture=${7:-}
  local calls=$((rate * step_seconds)) sdir="$dir/rate-$rate-$tag"
  mkdir -p "$sdir"
  (cd "$sdir" && exec setsid "$sipp" -sf "$uas_xml" -i 127.0.0.1 -p "$uas_port" -mp "$(free_port)" \
     -buff_size 4194304 -m "$calls" -nostdin -trace_err -timeout $((step_seconds + 60))s > uas.out 2>&1) &
  local uas_pid=$!
  running[$uas_pid]=1
  wait_bound "$uas_port"
  local cap_pid=""
  if [[ -n $capture ]]; then
    setsid "$dumpcap" -q -i lo -B 64 -f "udp port $port" -w "$capture" > "$sdir/dumpcap.out" 2>&1 &
    cap_pid=$!
    running[$cap_pid]=1
    sleep 1
  fi
  local t0 n0 t1 n1
  t0=$(cpu_ticks "$proxy_pid"); n0=$(oncpu_ns "$proxy_pid")
  (cd "$sdir" && exec "$sipp" -sf "$uac_xml" "127.0.0.1:$port" -key callee "127.0.0.1:$uas_port" -i 127.0.0.1 \
     -p "$(free_port)" -mp "$(free_port)" -buff_size 4194304 -m "$calls" -r "$rate" -l $((rate * 4)) -nostdin -trace_err \
     -trace_rtt -rtt_freq 200 -recv_timeout 10s -timeout $((step_seconds + 60))s > uac.out 2>&1) || true
  t1=$(cpu_ticks "$proxy_pid"); n1=$(oncpu_ns "$proxy_pid")
  local i
  for ((i = 0; i < 200; i++)); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL -- "-$uas_pid" 2>/dev/null || true
  wait "$uas_pid" 2>/dev/null || true
  unset "running[$uas_pid]"
  if [[ -n $cap_pid ]]; then
    sleep 0.5
    kill -INT "$cap_pid" 2>/dev/null || true
    wait "$cap_pid" 2>/dev/null || true
    unset "running[$cap_pid]"
  fi
  local ok_uac ok_uas failed achieved retrans p50 p99
  ok_uac=$(stat_row "$sdir/uac.out" "Successful call")
  ok_uas=$(stat_row "$sdir/uas.out" "Successful call")
  failed=$(stat_row "$sdir/uac.out" "Failed call")
  achieved=$(stat_row "$sdir/uac.out" "Call Rate")
  # The Retrans column of the UAC's last scenario screen: the second number after each arrow.
  retrans=$(awk '/Messages  Retrans/ { s = 0 }
    /(---------->|<----------)/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^(-+>|<-+)$/) break
      for (i++; i <= NF; i++) if ($i ~ /^[0-9]+$/) { s += $(i + 1); break }
    }
    END { print s + 0 }' "$sdir/uac.out")
  p50=$(tail -n +2 "$sdir"/*_rtt.csv 2>/dev/null | awk -F';' '$3 == "invite" { print $2 }' | percentile 50)
  p99=$(tail -n +2 "$sdir"/*_rtt.csv 2>/dev/null | awk -F';' '$3 == "invite" { print $2 }' | percentile 99)
  echo "$rate $calls $ok_uac $ok_uas $failed $achieved $((t1 - t0)) $((n1 - n0)) $p50 $p99 $retrans"
}

# INVITE -> 200 at the caller, and the proxy's hold time of the INVITE (in -> out),
# from a capture of the proxy's port. Prints: invites p50_us p99_us hold_p50_us hold_p99_us
capture_latency() {  # FILE PROXY_PORT
  local file=$1 port=$2
  "$tshark" -n -r "$file" -d "udp.port==$port,sip" -Y 'sip.CSeq.method == "INVITE"' -T fields -E separator=';' \
    -e frame.time_epoch -e udp.srcport -e udp.dstport -e sip.Call-ID -e sip.Method -e sip.Status-Code 2>/dev/null |
  awk -F';' -v proxy="$port" -v dir="${file%.pcap}" '
    $5 == "INVITE" && $3 == proxy && !($4 in inv) { inv[$4] = $1 }
    $5 == "INVITE" && $2 == proxy && !($4 in fwd) { fwd[$4] = $1 }
    $6 == "200" && $2 == proxy && !($4 in ok) { ok[$4] = $1 }
    END {
      for (c in inv) {
        if (c in ok) print (ok[c] - inv[c]) * 1e6 > (dir ".e2e");
        if (c in fwd) print (fwd[c] - inv[c]) * 1e6 > (dir ".hold");
      }
    }'
  local n e50 e99 h50 h99
  n=$(wc -l < "${file%.pcap}.e2e" 2>/dev/null || echo 0)
  e50=$(percentile 50 < "${file%.pcap}.e2e"); e99=$(percentile 99 < "${file%.pcap}.e2e")
  h50=$(percentile 50 < "${file%.pcap}.hold"); h99=$(percentile 99 < "${file%.pcap}.hold")
  printf '%s %.0f %.0f %.0f %.0f\n' "$n" "$e50" "$e99" "$h50" "$h99"
}

proxies=()
for name in imsflow kamailio floor; do
  [[ -n $only && $only != "$name" ]] && continue
  [[ $name == kamailio && -z $kamailio ]] && continue
  [[ $name == floor && -z $floor ]] && continue
  proxies+=("$name")
done
declare -A uas_ports=()

idle() {  # NAME: what the proxy costs doing nothing, over one step's length
  local name=$1 dir=$out/$1 i0 i1
  mkdir -p "$dir"
  uas_ports[$name]=$(free_port)
  start_proxy "$name" "$dir" "${uas_ports[$name]}"
  i0=$(cpu_ticks "$proxy_pid"); sleep "$step_seconds"; i1=$(cpu_ticks "$proxy_pid")
  echo "$name $(((i1 - i0) * 1000000 / tick / step_seconds))" >> "$out/idle.txt"
  stop_proxy
}

step() {  # NAME RATE TAG: one step on a fresh proxy
  local name=$1 rate=$2 tag=$3 dir=$out/$1
  echo "proxy_vs_kamailio: $name at $rate calls/s for ${step_seconds} s (run $tag)" >&2
  start_proxy "$name" "$dir" "${uas_ports[$name]}"
  echo "$name $(run_step "$name" "$dir" "$rate" "${uas_ports[$name]}" "$proxy_port" "$tag")" >> "$out/steps.txt"
  stop_proxy
  if [[ $name == imsflow ]]; then cp "$dir/proxy.out" "$dir/rate-$rate-$tag/counters.json"; fi
  if [[ $name == floor ]]; then cp "$dir/proxy.out" "$dir/rate-$rate-$tag/relayed.txt"; fi
  sleep 1
}

capture() {  # NAME: the reference rate with a loopback capture
  local name=$1 dir=$out/$1 line
  echo "proxy_vs_kamailio: $name at $reference calls/s with a capture" >&2
  start_proxy "$name" "$dir" "${uas_ports[$name]}"
  line=$(run_step "$name" "$dir" "$reference" "${uas_ports[$name]}" "$proxy_port" capture "$dir/reference.pcap")
  stop_proxy
  echo "$name $line" >> "$out/capture-steps.txt"
  echo "$name $(capture_latency "$dir/reference.pcap" "$proxy_port")" >> "$out/capture.txt"
}

: > "$out/steps.txt"; : > "$out/idle.txt"; : > "$out/capture.txt"; : > "$out/capture-steps.txt"
{
  echo "# proxy_vs_kamailio $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# $(uname -srm); $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "# sipp: $("$sipp" -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); kamailio: $([[ -n $kamailio ]] && "$kamailio" -v 2>/dev/null | head -1)"
  echo "# imsflow: ${imsflow:-none}; floor: ${floor:-none}; Kamailio: $workers UDP workers, $kamailio_shm MB shm; proxies pinned to CPUs: ${cpus:-no}"
} > "$out/environment.txt"

for name in "${proxies[@]}"; do idle "$name"; done
for rate in $rates; do
  for ((r = 1; r <= repeat; r++)); do
    # Turns alternate: the order above on odd runs, reversed on even ones.
    if ((r % 2)); then order=("${proxies[@]}"); else order=(); for ((i = ${#proxies[@]} - 1; i >= 0; i--)); do order+=("${proxies[i]}"); done; fi
    for name in "${order[@]}"; do step "$name" "$rate" "$r"; done
  done
done
if ((reference > 0)) && [[ -n $dumpcap && -n $tshark && $(id -u) == 0 ]]; then
  for name in "${proxies[@]}"; do capture "$name"; done
fi

# --- report ---------------------------------------------------------------------------------

echo
cat "$out/environment.txt"
echo
echo "| proxy | calls/s asked | reached | calls | ok (UAC/UAS) | failed | retrans | CPU µs/call | on-CPU µs/call | INVITE→200 p50 / p99 (SIPp, ms) | clean |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
awk -v tick="$tick" '{
  name = $1; rate = $2; calls = $3; ok_uac = $4; ok_uas = $5; failed = $6; reached = $7; ticks = $8; ns = $9
  p50 = ($10 == "-" ? "-" : sprintf("%.0f", $10)); p99 = ($11 == "-" ? "-" : sprintf("%.0f", $11)); retrans = $12
  done = ok_uac > 0 ? ok_uac : 1
  cpu = ticks * 1e6 / tick / done; oncpu = ns / 1000 / done
  clean = (ok_uac == calls && ok_uas == calls && failed == 0 && reached >= 0.95 * rate) ? "yes" : "no"
  printf "| %s | %d | %.0f | %d | %d / %d | %d | %d | %.1f | %.1f | %s / %s | %s |\n", \
    (name == "imsflow" ? "imsflow core" : name == "floor" ? "UDP relay floor (no SIP work)" : "Kamailio"), rate, reached, calls, ok_uac, ok_uas, failed, retrans, cpu, oncpu, p50, p99, clean
}' "$out/steps.txt"
echo
echo "Median over $repeat run(s) per rate (CPU µs/call from utime+stime; a rate counts as clean when every run was):"
echo
# The floor's columns come last, only when it was measured (and imsflow, for the difference).
has_floor=0; has_imsflow=0
for name in "${proxies[@]}"; do
  [[ $name == floor ]] && has_floor=1
  [[ $name == imsflow ]] && has_imsflow=1
done
above=$((has_floor && has_imsflow))
printf '| calls/s | imsflow core µs/call | Kamailio µs/call | Kamailio ÷ imsflow | imsflow clean | Kamailio clean |'
((has_floor)) && printf ' floor µs/call |'
((above)) && printf ' imsflow above floor |'
printf '\n|---|---|---|---|---|---|'
((has_floor)) && printf -- '---|'
((above)) && printf -- '---|'
echo
awk -v tick="$tick" -v has_floor="$has_floor" -v above="$above" '
  function median(list,    n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n == 0 ? -1 : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
  }
  {
    name = $1; rate = $2; calls = $3; ok_uac = $4; ok_uas = $5; failed = $6; reached = $7
    cpu = $8 * 1e6 / tick / (ok_uac > 0 ? ok_uac : 1)
    key = name SUBSEP rate
    runs[key] = runs[key] " " cpu
    if (!(key in clean)) clean[key] = "yes"
    if (!(ok_uac == calls && ok_uas == calls && failed == 0 && reached >= 0.95 * rate)) clean[key] = "no"
    if (!(rate in seen)) { seen[rate] = 1; order[++n] = rate }
  }
  END {
    for (i = 1; i <= n; i++) {
      r = order[i]; a = ("imsflow" SUBSEP r); b = ("kamailio" SUBSEP r)
      ma = (a in runs) ? median(runs[a]) : -1; mb = (b in runs) ? median(runs[b]) : -1
      f = ("floor" SUBSEP r); mf = (f in runs) ? median(runs[f]) : -1
      printf "| %d | %s | %s | %s | %s | %s |", r, (ma < 0 ? "-" : sprintf("%.0f", ma)), (mb < 0 ? "-" : sprintf("%.0f", mb)),
        (ma > 0 && mb > 0 ? sprintf("%.1f×", mb / ma) : "-"), ((a in clean) ? clean[a] : "-"), ((b in clean) ? clean[b] : "-")
      if (has_floor) printf " %s |", (mf < 0 ? "-" : sprintf("%.0f", mf))
      if (above) printf " %s |", (ma < 0 || mf < 0 ? "-" : sprintf("%.0f", ma - mf))
      printf "\n"
      if (clean[a] == "yes" && r > best_a) best_a = r
      if (clean[b] == "yes" && r > best_b) best_b = r
      if (clean[f] == "yes" && r > best_f) best_f = r
    }
    printf "\nmax clean calls/s (every run of the rate clean): imsflow core %s, Kamailio %s", \
      (best_a ? best_a : "none"), (best_b ? best_b : "none")
    if (has_floor) printf ", UDP relay floor %s", (best_f ? best_f : "none")
    printf "\n"
  }' "$out/steps.txt"
echo
while read -r name idle_us; do
  echo "idle CPU: $name $idle_us µs per second"
done < "$out/idle.txt"
if [[ -s $out/capture.txt ]]; then
  echo
  echo "At $reference calls/s with a loopback capture (µs):"
  echo
  echo "| proxy | INVITEs | INVITE→200 p50 | p99 | proxy INVITE hold p50 | p99 |"
  echo "|---|---|---|---|---|---|"
  awk '{ printf "| %s | %d | %d | %d | %d | %d |\n", ($1 == "imsflow" ? "imsflow core" : $1 == "floor" ? "UDP relay floor" : "Kamailio"), $2, $3, $4, $5, $6 }' "$out/capture.txt"
fi
echo
echo "raw files: $out"
