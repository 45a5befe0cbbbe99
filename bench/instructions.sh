#!/usr/bin/env bash
# User-space instructions per request for each bench-server mode, counted by valgrind's callgrind
# (repeatable whatever else the machine is doing, unlike req/s on a shared VM).
#
#   bench/instructions.sh            # prints a Markdown table
#
# Each mode serves N1 and then, in a second run, N2 keep-alive requests from one curl process; the
# difference of the two totals divided by N2 - N1 is the cost of one request (start-up cancels).
set -euo pipefail
cd "$(dirname "$0")/.."
N1=1000 N2=3000
# BENCH_MODES="bare core-authorize core-policy" bench/instructions.sh counts only those (bare first).
read -r -a MODES <<<"${BENCH_MODES:-bare core core-authorize core-authorize-path core-policy core-users-memory core-users-sqlite core-encrypted identity grants}"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
cargo build --release -q -p bench
server=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/bench-server
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for n in $N1 $N2; do
    for _ in $(seq "$n"); do printf 'url = "http://127.0.0.1:%s/hello"\noutput = "/dev/null"\n' "$port"; done >"$tmp/urls-$n"
done

count() { # mode n -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$server" --mode "$1" --bind "127.0.0.1:$port" \
        --data "$tmp/data-$1-$2" >/dev/null 2>&1 &
    local vg=$!
    for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.1; done
    # COOKIE_HEADER replaces the session the login hands out (the forged-cookie measurement).
    local cookie="${COOKIE_HEADER:-}"
    [ -n "$cookie" ] || cookie=$(curl -s -i -X POST "http://127.0.0.1:$port/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n1)
    curl -s -K "$tmp/urls-$2" -H "Cookie: $cookie"
    kill -INT "$vg"
    wait "$vg" 2>/dev/null || true
    awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg"
}

declare -A PER
for mode in "${MODES[@]}"; do
    a=$(count "$mode" $N1)
    b=$(count "$mode" $N2)
    PER[$mode]=$(( (b - a) / (N2 - N1) ))
    echo "$mode: ${PER[$mode]} instructions/request" >&2
done
echo "| mode | instructions / request | × bare | vs actix-session+identity |"
echo "|---|---:|---:|---:|"
for mode in "${MODES[@]}"; do
    awk -v m="$mode" -v p="${PER[$mode]}" -v b="${PER[bare]}" -v i="${PER[identity]:-0}" \
        'BEGIN { printf "| %s | %d | %.3f | %s |\n", m, p, p / b, i ? sprintf("%.3f", p / i) : "-" }'
done

# Bounded work per request (SECURITY.md, MAX_SESSION_COOKIES): `core` with 90 forged session
# cookies in one header against `core` with one valid cookie (the table's row). Above the limit
# nothing is verified: the request is anonymous after one security event.
forged=$(python3 -c 'print("; ".join("session=forged%d" % i for i in range(90)))')
a=$(COOKIE_HEADER="$forged" count core $N1)
b=$(COOKIE_HEADER="$forged" count core $N2)
forged_per=$(( (b - a) / (N2 - N1) ))
echo
echo "| request | instructions / request | × one valid cookie |"
echo "|---|---:|---:|"
awk -v p="${PER[core]}" 'BEGIN { printf "| `core`, one valid session cookie | %d | 1.000 |\n", p }'
awk -v f="$forged_per" -v p="${PER[core]}" \
    'BEGIN { printf "| `core`, 90 forged session cookies | %d | %.3f |\n", f, f / p }'
