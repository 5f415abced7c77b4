# Helpers shared by the integration tests: source it. The suite runs every *.sh here, this
# one too: run rather than sourced, it does nothing.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || exit 0
#
# Every assertion prints one line: "PASS: what" or "FAIL: what: expected X, got Y".
# A test exits 0 when it ran (whatever it found), non-zero only when it could not run.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set +e
set -uo pipefail

SPAZAD=$SPAZA_TOP/src/spazad
SPAZACTL=$SPAZA_TOP/src/spazactl
# The shared daemon's database, for own daemons that talk to the same one.
: "${SPAZA_CONNINFO:=host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=${PGUSER:-postgres} dbname=${PGDATABASE:-spaza}}"
export SPAZA_CONNINFO

# A scratch directory for this test, removed at exit (with whatever cleanup the test adds).
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/spaza-it.XXXXXX")
# Started as root, spazad runs as the user spaza (run-as): an own daemon must still read what a
# test puts here (menus it reloads) and write its configuration back (`write file`).
[ "$(id -u)" != 0 ] || ! id spaza >/dev/null 2>&1 || chown spaza "$T_TMP"
T_CLEANUP=()
t_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUP[i]}" || true; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 143' TERM INT HUP	# so that the EXIT trap stops what the test started
at_exit() { T_CLEANUP+=("$*"); }

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
# oneline TEXT: a reply or output on one line (newline as \n), short enough to read.
oneline() { local s=${1//$'\n'/\\n}; [ ${#s} -gt 1500 ] && s="${s:0:1500}..."; printf '%s' "$s"; }
check_eq() { # check_eq WHAT EXPECTED GOT
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected <$(oneline "$2")>, got <$(oneline "$3")>"; fi
}
check_match() { # check_match WHAT ERE GOT: GOT (as a whole, may span lines) matches the extended regex
	if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1: expected to match /$(oneline "$2")/, got <$(oneline "$3")>"; fi
}
check_has() { # check_has WHAT NEEDLE GOT: GOT contains the fixed string NEEDLE
	if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: expected <$(oneline "$3")> to contain <$(oneline "$2")>"; fi
}
check_lacks() { # check_lacks WHAT NEEDLE GOT
	if [[ "$3" != *"$2"* ]]; then pass "$1"; else fail "$1: expected no <$(oneline "$2")>, got <$(oneline "$3")>"; fi
}
check_true() { # check_true WHAT DESCRIPTION-OF-FAILURE CMD...
	local what=$1 why=$2; shift 2
	if "$@"; then pass "$what"; else fail "$what: $why"; fi
}

# t_phone RANGE: a phone number of this test's range (08299<RANGE>xxx, RANGE two digits),
# a different one on every call; the run starts at a random point of the range, so a rerun
# against the same database most likely starts from customers with no history.
T_PHONE_BASE=$(( (RANDOM * 32768 + RANDOM) % 1000 ))
t_phone() {
	local n
	# a file, as t_phone runs in $(...) subshells; locked, as tests call it from concurrent ones
	n=$( { flock 9; n=$(( $(cat "$T_TMP/phones" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$T_TMP/phones"; echo "$n"; } 9>"$T_TMP/phones.lock" )
	printf '08299%s%03d' "$1" $(( (T_PHONE_BASE + n) % 1000 ))
}
# luhn_fix DIGITS: DIGITS and their Luhn check digit (voucher PINs, slip numbers)
luhn_fix() {
	local p=$1 sum=0 i d n=${#1}
	for ((i = 0; i < n; i++)); do
		d=${p:n-1-i:1}
		if (( i % 2 == 0 )); then d=$((d * 2)); (( d > 9 )) && d=$((d - 9)); fi
		sum=$((sum + d))
	done
	echo "$p$(( (10 - sum % 10) % 10 ))"
}
t_sid() { echo "it-$(basename "$0" .sh)-$$-$RANDOM$RANDOM"; }
e164() { echo "+27${1#0}"; }

# ussd SESSION PHONE TEXT [SERVICE-CODE] [BASE-URL]: one hop; prints the body.
ussd() {
	curl -sS --max-time 20 --noproxy '*' --data-urlencode "sessionId=$1" \
		--data-urlencode "serviceCode=${4:-*120*777#}" --data-urlencode "phoneNumber=$2" \
		--data-urlencode "text=$3" "${5:-$SPAZA_URL}/ussd/at"
}

# stat_count DESCRIPTION STATS: the total `show stats` (STATS) prints for the counter with that
# description (descriptions may hold colons themselves).
stat_count() { grep -F "  $1:" <<<"$2" | head -1 | sed -E 's/^.*:[[:space:]]+([0-9]+) \(.*$/\1/'; }

# psql_val SQL: the result unaligned, no decoration.
psql_val() { psql -X -qtAc "$1"; }

# The points a paid order earns are owed first and posted by spazad's points sweep a moment
# later (sql/028_points_later.sql): wait (up to 10 s) until nothing is owed.
points_settled() { wait_for 10 sh -c '[ "$(psql -X -qtAc "SELECT count(*) FROM points_due")" = 0 ]'; }

# The next wall-clock second, so that what follows starts in a second of its own.
next_second() {
	local s; s=$(date +%s)
	wait_for 3 sh -c "[ \$(date +%s) -gt $s ]"
}

# till_sign SECRET METHOD TARGET KEY T BODY: the hex of a till request's v2 signature, computed
# with openssl exactly as doc/retailer-api.md tells tills to: HMAC-SHA256 under the secret as
# printed (64 characters) of "v2", the method, the path and query as sent, the key id, t and
# the hex SHA-256 of the body, one a line.
till_sign() {
	local body_hash
	body_hash=$(printf '%s' "$6" | openssl dgst -sha256 | awk '{ print $NF }')
	printf 'v2\n%s\n%s\n%s\n%s\n%s' "$2" "$3" "$4" "$5" "$body_hash" |
		openssl dgst -sha256 -hmac "$1" | awk '{ print $NF }'
}

# ---- the VTY over bash's /dev/tcp: one command at a time, each answer read up to the prompt.

# vty_open PORT: fd 7 connected, the banner read.
vty_open() {
	exec 7<>"/dev/tcp/127.0.0.1/$1" || return 1
	VTY_OUT=$(vty_read_prompt)
}
vty_close() { printf 'exit\n' >&7 2>/dev/null; exec 7>&- 7<&-; }
# Read until a line that is only the prompt ("NAME> ", "NAME# ", "NAME(config)# ") ends the
# output, 20 s at most; telnet negotiation and CRs are dropped. No forks in the loop: it
# runs once per character.
vty_read_prompt() {
	local LC_ALL=C buf="" c t0=$SECONDS	# bytes, not characters: telnet sends 0xff
	while IFS= read -r -N 1 -t 10 -u 7 c; do
		buf+=$c
		if [ "$c" = " " ] && [[ ${buf##*$'\n'} =~ ^[^A-Za-z0-9]*[A-Za-z0-9_.-]+(\(config[a-z-]*\))?[\>#]\ $ ]]; then
			break
		fi
		(( SECONDS - t0 < 20 )) || break
	done
	printf '%s' "$buf" | LC_ALL=C tr -d '\r\000' | LC_ALL=C sed 's/\xff[\xfb-\xfe].//g; s/\xff.//g'
}
# vty CMD: send it, print its output (without the echoed command line and the next prompt).
vty() {
	local out
	printf '%s\n' "$1" >&7 || return 1
	out=$(vty_read_prompt)
	out=${out%$'\n'*}			# the next prompt
	[ "${out%%$'\n'*}" != "$1" ] || out=${out#*$'\n'}	# the echo of the command
	[ "$out" != "$1" ] || out=""
	printf '%s\n' "$out"
}

# ---- own PostgreSQL clusters

# pg_up_retry NAME: scripts/lib.sh's pg_up, tried again on other ports when the one free_port
# picked turns out to be taken (free_port sees listening sockets only). Exports like pg_up.
pg_up_retry() {
	local i
	for i in 1 2 3; do
		(pg_up "$1") >/dev/null 2>&1 && break
	done
	pg_up "$1"
}

# ---- own daemons

# own_cfg FILE HTTP_PORT VTY_PORT [EXTRA spaza-node lines...]: scripts/lib.sh's config for
# SPAZA_CONNINFO, plus lines for the spaza node (e.g. " session idle-timeout 2").
own_cfg() {
	local f=$1 h=$2 v=$3; shift 3
	spazad_cfg "$f" "$h" "$v"
	local l
	for l in "$@"; do printf '%s\n' "$l" >> "$f"; done
	# `write file` keeps the old file as a hard link first, and the kernel (protected_hardlinks)
	# lets spazad, once it runs as spaza, link only to files of its own
	[ "$(id -u)" != 0 ] || ! id spaza >/dev/null 2>&1 || chown spaza "$f"
}
# own_up NAME [EXTRA lines...]: start an own spazad; sets OWN_URL (the front listener),
# OWN_TILL_URL, OWN_ADMIN_URL, OWN_VTY, OWN_CFG, OWN_PID, OWN_LOG. It is stopped at exit. The log goes beside the shared daemon's config (var/test/
# in the suite). free_port only knows listening sockets, so a port can still be taken by
# some connection's local end: then try other ports.
own_up() {
	local name=$1; shift
	local http vty attempt
	OWN_CFG=$T_TMP/$name.cfg OWN_LOG=$(dirname "${SPAZA_CFG:-$T_TMP/x}")/it-$name.log OWN_PIDF=$T_TMP/$name.pid
	for attempt in 1 2 3; do
		http=$(free_port); vty=$(free_port)
		own_cfg "$OWN_CFG" "$http" "$vty" "$@"
		"$SPAZAD" -c "$OWN_CFG" >"$OWN_LOG" 2>&1 &
		OWN_PID=$!
		echo "$OWN_PID" > "$OWN_PIDF"
		OWN_URL=http://127.0.0.1:$http OWN_VTY=$vty
		OWN_TILL_URL=http://127.0.0.1:$(cfg_port "$OWN_CFG" till)
		OWN_ADMIN_URL=http://127.0.0.1:$(cfg_port "$OWN_CFG" admin)
		wait_for 30 sh -c "curl -sf --noproxy '*' -o /dev/null '$OWN_URL/health' || ! kill -0 $OWN_PID" &&
			kill -0 "$OWN_PID" 2>/dev/null && { at_exit "spazad_down '$OWN_PIDF'"; return 0; }
		spazad_down "$OWN_PIDF"
		grep -qE 'cannot listen|cannot open the VTY' "$OWN_LOG" || return 1
	done
	return 1
}
# own_down WHAT: stop the own daemon; it must exit by itself on SIGTERM, with nothing from the
# sanitizers in its log.
own_down() {
	local pid=$OWN_PID
	kill "$pid" 2>/dev/null
	if wait_for 15 sh -c "! kill -0 $pid 2>/dev/null"; then
		pass "$1: own spazad stopped on SIGTERM"
	else
		fail "$1: own spazad stopped on SIGTERM: expected exit within 15 s, got still running"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rm -f "$OWN_PIDF"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$OWN_LOG"; then
		fail "$1: own spazad log free of sanitizer reports: expected none, got some (see $OWN_LOG)"
	else
		pass "$1: own spazad log free of sanitizer reports"
	fi
	if grep -qE 'talloc: .* at exit' "$OWN_LOG"; then
		fail "$1: own spazad exits with no talloc leak reported: expected none, got <$(grep -m1 -E 'talloc: .* at exit' "$OWN_LOG")>"
	else
		pass "$1: own spazad exits with no talloc leak reported"
	fi
}
