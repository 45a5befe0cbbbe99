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
#
# `core-10k` is server mode `core` with every request carrying another session: SESSIONS cookies
# (more than the verified-cookie memo's CAPACITY) minted before counting by a server outside
# valgrind (the key is fixed, so they verify in the counted server) and sent round-robin, so every
# request verifies the MAC and parses the claims. `core-revocations` (the revocation mirror) runs
# against a redis-server this script starts on a free port; the mirror's heartbeat runs in the
# background, so its row carries a little of the run's length (a few instructions per request).
#
# `bare-cookie` is server mode `bare` with every request carrying the same `Cookie` header as
# `core` (a session minted by a `core` server outside valgrind): the part of `core`'s cost that is
# actix-web parsing a longer request (the ~300-byte header), not the session layer. Any mode
# ending in `-cookie` is sent that header; `bare-layer-cookie` adds a middleware that only passes
# the request on (what any layer costs in actix-web).
read -r -a MODES <<<"${BENCH_MODES:-bare bare-cookie bare-layer-cookie core core-10k core-authorize core-authorize-path core-policy core-users-memory core-users-sqlite core-encrypted core-revocations identity grants}"
SESSIONS=1024
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
memo=$(sed -n 's/^const CAPACITY: usize = \([0-9_]*\);.*/\1/p' session-core/src/cache.rs | tr -d _)
if [ -z "$memo" ] || [ "$SESSIONS" -le "$memo" ]; then
    echo "core-10k needs more sessions ($SESSIONS) than the verified-cookie memo holds ('${memo:-not found}')" >&2
    exit 1
fi
# BENCH_SERVER=path counts that bench-server binary instead of building this tree's (a saved
# build of another commit, for a before/after table).
server=${BENCH_SERVER:-}
if [ -z "$server" ]; then
    cargo build --release -q -p bench
    server=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/bench-server
fi
tmp=$(mktemp -d)
redis_pid=""
trap '[ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
for n in $N1 $N2; do
    for _ in $(seq "$n"); do printf 'url = "http://127.0.0.1:%s/hello"\noutput = "/dev/null"\n' "$port"; done >"$tmp/urls-$n"
done

if [[ " ${MODES[*]} " == *" core-revocations "* ]]; then
    command -v redis-server >/dev/null || { echo "core-revocations needs redis-server" >&2; exit 1; }
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" >/dev/null 2>&1 &
    redis_pid=$!
    for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
fi

if [[ " ${MODES[*]} " == *" core-10k "* ]]; then
    # SESSIONS cookies of users b0000.. from a `core` server outside valgrind; then one URL file
    # per run, each request with the next cookie (`next` keeps curl's keep-alive connection).
    "$server" --mode core --bind "127.0.0.1:$port" >/dev/null 2>&1 &
    minter=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.05; done
    seq -f "url = \"http://127.0.0.1:$port/login?user=b%04.0f\"
output = \"/dev/null\"" 0 $((SESSIONS - 1)) >"$tmp/mint-urls"
    curl -s -S -f -X POST -D - -K "$tmp/mint-urls" | tr -d '\r' |
        sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' >"$tmp/cookies"
    kill "$minter"
    wait "$minter" 2>/dev/null || true
    [ "$(sort -u "$tmp/cookies" | wc -l)" = "$SESSIONS" ] || { echo "core-10k: minting $SESSIONS sessions failed" >&2; exit 1; }
    for n in $N1 $N2; do
        awk -v n="$n" -v port="$port" '{ c[NR] = $0 } END {
            for (i = 0; i < n; i++) {
                if (i) print "next"
                printf "url = \"http://127.0.0.1:%s/hello\"\noutput = \"/dev/null\"\nheader = \"Cookie: %s\"\n", port, c[i % NR + 1]
            } }' "$tmp/cookies" >"$tmp/urls-10k-$n"
    done
fi

if [[ " ${MODES[*]} " == *"-cookie "* ]]; then
    "$server" --mode core --bind "127.0.0.1:$port" >/dev/null 2>&1 &
    minter=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.05; done
    bare_cookie=$(curl -s -i -X POST "http://127.0.0.1:$port/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n1)
    kill "$minter"
    wait "$minter" 2>/dev/null || true
    [ -n "$bare_cookie" ] || { echo "-cookie modes: minting a session failed" >&2; exit 1; }
fi

count() { # mode n -> total instructions
    local server_mode=${1%-10k} redis=()
    server_mode=${server_mode%-cookie}
    [ "$server_mode" != core-revocations ] || redis=(--redis "redis://127.0.0.1:$redis_port")
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$server" --mode "$server_mode" --bind "127.0.0.1:$port" \
        --data "$tmp/data-$1-$2" "${redis[@]}" >/dev/null 2>&1 &
    local vg=$!
    for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.1; done
    # COOKIE_HEADER replaces the session the login hands out (the forged-cookie measurement).
    local cookie="${COOKIE_HEADER:-}"
    [[ $1 != *-cookie ]] || cookie=$bare_cookie
    [ -n "$cookie" ] || cookie=$(curl -s -i -X POST "http://127.0.0.1:$port/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n1)
    if [[ $1 == *-10k ]]; then
        curl -s -K "$tmp/urls-10k-$2"
    else
        curl -s -K "$tmp/urls-$2" -H "Cookie: $cookie"
    fi
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
# Only when `core` is counted; FORGED=0 skips it.
if [[ " ${MODES[*]} " == *" core "* ]] && [ "${FORGED:-1}" != 0 ]; then
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
fi
