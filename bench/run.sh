#!/usr/bin/env bash
# Side-by-side load comparison on 127.0.0.1, written to BENCHMARKS.md.
#
#   bench/run.sh                 # full run: 5 rounds x 10 s per mode, 32 connections
#   bench/run.sh --quick         # CI smoke run: 1 round x 1 s, output to a temp file
#   ROUNDS=7 DURATION=20 CONNECTIONS=64 bench/run.sh
#
# Each mode runs in its own `bench-server` process with one worker, pinned to CPU 0; wrk runs
# with one thread pinned to CPU 1. Modes run alternately, round after round, so drift on the
# machine hits all of them alike. Every mode gets its cookie from its own POST /login, before any
# measurement; a mode `X-10k` is server mode `X` measured with 10,000 distinct sessions (users
# b0000..b9999, one POST /login?user=.. each), sent round-robin by bench/cookies.lua — every mode
# goes through that script, with one cookie or with all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
OUT="${OUT:-BENCHMARKS.md}"
if [ "${1:-}" = "--quick" ]; then
    ROUNDS=1 DURATION=1 OUT="${OUT_QUICK:-$(mktemp --suffix=.md)}"
fi
MODES=(bare core core-10k core-authorize core-authorize-path core-policy core-users-memory core-users-sqlite core-encrypted core-revocations core-revocations-lookup core-session-store identity identity-10k grants)

# Sessions of the `-10k` modes. Each worker of session-core's middleware memoizes the cookie values
# that verified (`CAPACITY` in session-core/src/cache.rs, emptied when full); rotating round-robin
# over more sessions than that, no cookie is still there when it comes back, so every request of
# `core-10k` verifies the MAC and parses the claims. Minting them takes ~1-2 s per mode (one curl,
# one keep-alive connection), also in --quick. User ids are b0000..b9999, as long as `bench`.
SESSIONS=10000
memo=$(sed -n 's/^const CAPACITY: usize = \([0-9_]*\);.*/\1/p' session-core/src/cache.rs | tr -d _)
if [ -z "$memo" ] || [ "$SESSIONS" -le "$memo" ]; then
    echo "the -10k modes need more sessions ($SESSIONS) than the verified-cookie memo holds" \
        "(CAPACITY in session-core/src/cache.rs: '${memo:-not found}')" >&2
    exit 1
fi

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo build --release -q -p bench
# Wherever cargo put it (CARGO_TARGET_DIR, build.target-dir), not only ./target.
release=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release
server=$release/bench-server

pin() { # pin CPU cmd...: run on one CPU when taskset and a second CPU exist
    # Always called in a subshell (`&` or `$(..)`), which it replaces, so `$!` is the command's
    # own pid and cleanup really stops it.
    local cpu=$1; shift
    if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A RPS P99
pids=()
# core-users-sqlite keeps the login app's SQLite database here (removed at exit, with Redis's dir).
data_dir=$(mktemp -d)
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$data_dir" "${redis_dir:-}"
}
trap cleanup EXIT

# The Redis modes share one redis-server on a free port, pinned with wrk (the server's CPU is
# the one measured).
redis_port=$(free_port)
redis_dir=$(mktemp -d)
pin 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

mint() { # port n file: n POST /login on one connection (n > 1: as users b0000..), a cookie a line
    # (the first Set-Cookie of each answer; an empty line for an answer without one) into file.
    if [ "$2" -eq 1 ]; then
        printf 'url = "http://127.0.0.1:%s/login"\noutput = "/dev/null"\n' "$1"
    else
        seq -f "url = \"http://127.0.0.1:$1/login?user=b%04.0f\"
output = \"/dev/null\"" 0 $(($2 - 1))
    fi >"$3.urls"
    curl -s -S -f -X POST -D - -K "$3.urls" >"$3.headers" || { echo "POST /login failed" >&2; return 1; }
    tr -d '\r' <"$3.headers" | awk '
        /^HTTP\// { if (n++) print cookie; cookie = ""; seen = 0 }
        tolower($0) ~ /^set-cookie:/ && !seen { sub(/^[^:]*: */, ""); sub(/;.*/, ""); cookie = $0; seen = 1 }
        END { if (n) print cookie }' >"$3"
    rm -f "$3.urls" "$3.headers"
}

declare -A PORT COOKIES
for mode in "${MODES[@]}"; do
    port=$(free_port)
    server_mode=${mode%-10k}
    sessions=1
    [ "$server_mode" = "$mode" ] || sessions=$SESSIONS
    pin 0 "$server" --mode "$server_mode" --bind "127.0.0.1:$port" --redis "redis://127.0.0.1:$redis_port" \
        --data "$data_dir/$mode" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.05; done
    cookies="$data_dir/$mode.cookies"
    start=$(date +%s.%N)
    mint "$port" "$sessions" "$cookies" || { echo "mode $mode: minting its sessions failed" >&2; exit 1; }
    minted=$(wc -l <"$cookies") distinct=$(sort -u "$cookies" | wc -l)
    if [ "$minted" != "$sessions" ] || [ "$distinct" != "$sessions" ]; then
        echo "mode $mode: $sessions logins gave $minted cookies, $distinct distinct" >&2
        exit 1
    fi
    [ "$sessions" -eq 1 ] ||
        echo "mode $mode: minted $sessions sessions in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s" >&2
    # wrk ignores Set-Cookie: a mode that re-issued the cookie on /hello would be measured with
    # requests no browser sends after the first (none does: session-core refreshes near expiry by
    # default, actix-session extends on state changes).
    for cookie in "$(head -n1 "$cookies")" "$(tail -n1 "$cookies")"; do
        answer=$(curl -s -D - -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port/hello")
        status=$(tail -n1 <<<"$answer")
        [ "$status" = 200 ] || { echo "mode $mode: GET /hello with a login cookie answered $status" >&2; exit 1; }
        if grep -qi '^set-cookie:' <<<"$answer"; then echo "mode $mode: GET /hello re-issued the cookie" >&2; exit 1; fi
    done
    PORT[$mode]=$port COOKIES[$mode]=$cookies
done

to_ms() { # wrk latency like 812.00us / 1.20ms / 2.00s -> milliseconds
    awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'
}

for round in $(seq "$ROUNDS"); do
    for mode in "${MODES[@]}"; do
        out=$(pin 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/cookies.lua \
            "http://127.0.0.1:${PORT[$mode]}/hello" -- "${COOKIES[$mode]}")
        if grep -q "Non-2xx" <<<"$out"; then echo "mode $mode: non-2xx answers under load" >&2; echo "$out" >&2; exit 1; fi
        rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
        if ! awk -v r="${rps:-0}" 'BEGIN { exit !(r > 0) }'; then echo "mode $mode: no answers under load" >&2; echo "$out" >&2; exit 1; fi
        p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
        RPS[$mode]="${RPS[$mode]:-} $rps" P99[$mode]="${P99[$mode]:-} $p99"
        echo "round $round $mode: $rps req/s, p99 ${p99} ms" >&2
    done
done

# The mirror's propagation between two real servers, and its memory per revoked session (in a
# database of its own, emptied after).
PROPAGATION_COUNT="${PROPAGATION_COUNT:-1000}"
MIRROR_ENTRIES="${MIRROR_ENTRIES:-1000000}"
[ "${1:-}" != "--quick" ] || MIRROR_ENTRIES=100000
propagation=$(pin 0 "$release/revocation-mirror" propagation --redis "redis://127.0.0.1:$redis_port" --count "$PROPAGATION_COUNT")
mirror_memory=$(pin 0 "$release/revocation-mirror" memory --redis "redis://127.0.0.1:$redis_port/15" --entries "$MIRROR_ENTRIES")
echo "$propagation" >&2
echo "$mirror_memory" >&2
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ a[NR]=$1 } END { if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2 }'; }

bare=$(median "${RPS[bare]}")
identity=$(median "${RPS[identity]}")
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Benchmarks"
    echo
    echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}; $(uname -sr); $(date -u +%Y-%m-%d)."
    echo
    echo "Command: \`ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS bench/run.sh\` —"
    echo "\`wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency\` against \`bench-server --mode MODE\` (one worker, release build),"
    echo "server pinned to CPU 0 and wrk to CPU 1, $ROUNDS rounds with the modes alternating; medians over rounds."
    echo "wrk sends the cookies minted before the run, round-robin (\`bench/cookies.lua\`): one per mode, or"
    echo "$SESSIONS distinct sessions in the \`-10k\` modes."
    echo
    echo "| mode | what runs | req/s (median) | p99 ms (median) | × bare | × actix-session+identity |"
    echo "|---|---|---:|---:|---:|---:|"
    for mode in "${MODES[@]}"; do
        case $mode in
            bare) what="handler only, no session" ;;
            core) what="session-core signed cookie + \`#[login_required]\`, reads \`AuthUser\`" ;;
            core-10k) what="\`core\`, $SESSIONS sessions in turn: every cookie is verified and parsed (no memo hit)" ;;
            core-authorize) what="same + \`#[authorize(any(role = ..), fresh = ..)]\`" ;;
            core-authorize-path) what="\`core-authorize\` on \`/{page}\` (a path parameter: the route of \`core-policy\`)" ;;
            core-policy) what="\`core-authorize\`'s rule + \`policy = may_read_page\` (\`web::Path\` + \`web::Data\` over an in-memory map)" ;;
            core-users-memory) what="\`core-authorize\` + live users: a \`HashMap\` \`UserStore\`, loaded every request (no cache)" ;;
            core-users-sqlite) what="\`core-authorize\` + live users: the login app's SQLite store, one query per request (\`web::block\`)" ;;
            core-encrypted) what="session-core sealed (AES-256-GCM) cookie + \`#[login_required]\`" ;;
            core-revocations) what="signed cookie + \`#[login_required]\` + revocation check on \`RevocationMirror\`, a local copy of the Redis store kept current by pub/sub" ;;
            core-revocations-lookup) what="signed cookie + \`#[login_required]\` + Redis revocation lookup per request (one MGET)" ;;
            core-session-store) what="server-side: \`session_store(RedisSessionStore)\`, session-core's cookie, hashed keys + \`#[login_required]\`" ;;
            identity) what="actix-session \`CookieSessionStore\` (signed) + actix-identity \`Identity\`" ;;
            identity-10k) what="\`identity\`, $SESSIONS sessions in turn" ;;
            grants) what="same session + actix-web-grants \`#[protect(any(..))]\`" ;;
        esac
        rps=$(median "${RPS[$mode]}")
        p99=$(median "${P99[$mode]}")
        printf '| %s | %s | %.0f | %.2f | %.3f | %.3f |\n' "$mode" "$what" "$rps" "$p99" \
            "$(awk -v a="$rps" -v b="$bare" 'BEGIN { print a / b }')" \
            "$(awk -v a="$rps" -v b="$identity" 'BEGIN { print a / b }')"
    done
    echo
    echo "The \`-10k\` rows are their mode under a load that rotates over $SESSIONS distinct sessions, more than"
    echo "the $memo verified cookie values session-core's middleware remembers per worker: each request pays"
    echo "the full cookie verification (MAC, JSON parse), as for a server whose users keep more sessions"
    echo "open than that. actix-session has no such memo; \`identity-10k\` is there to compare like with like."
    echo
    for mode in "${MODES[@]}"; do
        [ "${mode%-10k}" != "$mode" ] || continue
        awk -v m="$mode" -v c="${mode%-10k}" -v a="$(median "${RPS[$mode]}")" -v b="$(median "${RPS[${mode%-10k}]}")" \
            'BEGIN { printf "- `%s`: %.3f× `%s` in this run\n", m, a / b, c }'
    done
    echo
    echo "## Revocation mirror"
    echo
    mirror_rps=$(median "${RPS[core-revocations]}") lookup_rps=$(median "${RPS[core-revocations-lookup]}")
    awk -v m="$mirror_rps" -v l="$lookup_rps" -v b="$bare" -v c="$(median "${RPS[core]}")" 'BEGIN {
        printf "- `core-revocations` (mirror): %.3f× bare, %.3f× `core` (no revocation), %.2f× the per-request lookup (`core-revocations-lookup`, %.3f× bare).\n", m / b, m / c, m / l, l / b }'
    echo "- Propagation, two real servers on one Redis (\`revocation-mirror propagation\`: sign in on A, log out on A,"
    echo "  poll B until refused; from sending the logout): $(field "$propagation" revocations) revocations, p50 $(field "$propagation" p50_ms) ms,"
    echo "  p99 $(field "$propagation" p99_ms) ms, max $(field "$propagation" max_ms) ms. The stated bound (README) is the mirror's \`bound\`, 1 s by default."
    echo "- Memory (\`revocation-mirror memory\`: growth of resident memory when a mirror loads N revoked sessions,"
    echo "  less an empty mirror's): $(field "$mirror_memory" entries) entries, $(field "$mirror_memory" bytes_per_entry) bytes each,"
    echo "  $(field "$mirror_memory" mb_per_million) MiB per million; loaded in $(field "$mirror_memory" load_ms) ms."
    echo
    echo "Raw req/s per round:"
    echo
    for mode in "${MODES[@]}"; do echo "- $mode:${RPS[$mode]}"; done
    if [ -f bench/ANALYSIS.md ]; then
        echo
        cat bench/ANALYSIS.md
    fi
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
