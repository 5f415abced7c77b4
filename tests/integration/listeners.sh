# The three listeners are apart: each route is served on its own listener only (404 on the
# others), each listener has its own allow-list, spazad refuses to start with a listener open
# to the network unprotected (a front with no allow-list, a till or admin listener with no
# TLS) unless the config says `insecure` (then it warns at every start), a body declared over
# max-body is answered 413 and the connection closed, and slow clients neither hold every
# connection nor keep theirs past the listener's timeout.
source "$(dirname "$0")/lib.sh"

# code URL [CURL ARGS...]: the HTTP status (000: no answer, the connection refused or closed)
code() { local u=$1; shift; curl -s --noproxy '*' --max-time 10 -o "$T_TMP/body" -w '%{http_code}' "$@" "$u" || true; }
stat_of() { # stat_of TEXT: the total of the counter whose description has TEXT, from `show stats`
	(vty_open "$OWN_VTY" && vty "show stats"; vty_close) | grep -F "$1" | sed -nE '1s/.*: +([0-9]+) \(.*/\1/p'
}
REFUSED="not on the listener's allow-list" PER_IP="already holds its per-IP limit" TIMEOUTS="within the listener's timeout"
AT_FORM=(-d 'sessionId=l1&serviceCode=*120*777%23&phoneNumber=0821234567&text=')

# ---- each route on its listener only
own_up routes " allow front 127.0.0.0/8" " allow admin 127.0.0.0/8" " allow till 10.9.0.0/16" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
check_eq "/ussd/at is served on the front listener" "200" "$(code "$OWN_URL/ussd/at" "${AT_FORM[@]}")"
check_eq "/ussd/at is 404 on the admin listener" "404" "$(code "$OWN_ADMIN_URL/ussd/at" "${AT_FORM[@]}")"
check_eq "/api/v1/slips/... is 404 on the front listener" "404" "$(code "$OWN_URL/api/v1/slips/91234")"
check_eq "/kannel/mo is 404 on the admin listener" "404" "$(code "$OWN_ADMIN_URL/kannel/mo?from=0821234567&text=HELP")"
check_eq "/kannel/dlr is 404 on the admin listener" "404" "$(code "$OWN_ADMIN_URL/kannel/dlr?id=1&type=1")"
check_eq "the front listener's /health answers a load balancer" "200|ok" "$(code "$OWN_URL/health")|$(cat "$T_TMP/body")"
check_eq "the admin listener's /health answers 200" "200" "$(code "$OWN_ADMIN_URL/health")"
check_match "the admin /health says in JSON how the database and the Kannel links are" \
	'^\{"status":"ok","database":"up","catalog":"loaded","kannel":\{"sendsms":"(off|configured)",.*"box":"off"\}\}$' \
	"$(cat "$T_TMP/body")"
before=$(stat_of "$REFUSED")
check_eq "a till listener allowing 10.9.0.0/16 only refuses loopback's connection" "000" \
	"$(code "$OWN_TILL_URL/api/v1/slips/91234")"
check_eq "the refused connection is counted in show stats (http:refused-peers)" "$(( ${before:-0} + 1 ))" \
	"$(stat_of "$REFUSED")"
own_down routes

own_up till_routes " allow till 127.0.0.0/8" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
check_eq "/api/v1/slips/... is served on the till listener (unsigned: 401)" "401" "$(code "$OWN_TILL_URL/api/v1/slips/91234")"
check_eq "/ussd/at is 404 on the till listener" "404" "$(code "$OWN_TILL_URL/ussd/at" "${AT_FORM[@]}")"
check_eq "/kannel/mo is 404 on the till listener" "404" "$(code "$OWN_TILL_URL/kannel/mo?from=0821234567&text=HELP")"
check_eq "/api/v1/slips/... is 404 on the admin listener" "404" "$(code "$OWN_ADMIN_URL/api/v1/slips/91234")"

# ---- a body declared over max-body: 413 before the body, and the connection is closed
port=${OWN_URL##*:}
if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
	printf 'POST /ussd/at HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n' >&3
	out=$(timeout 5 cat <&3); rc=$?
	exec 3<&- 3>&-
	check_match "a body declared over max-body is answered 413 without sending it" '^HTTP/1.1 413 ' "$out"
	check_eq "and the connection is closed at once (not waiting for the body)" 0 "$rc"
else
	fail "a connection to the front listener: refused"
fi
own_down till_routes

# ---- a listener open to the network without its protection is refused, at start and by -C
# refused CFG WHAT CASE: spazad -C and spazad itself refuse CFG with "file:line: ... WHAT"
refused() {
	local cfg=$1 what=$2 case=$3 line out rc=0
	line=$(grep -nE "^ listen ${what%% *} " "$cfg" | tail -1 | cut -d: -f1)
	out=$("$SPAZAD" -C -c "$cfg" 2>&1) || rc=$?
	check_match "spazad -C refuses a non-loopback $what ($case)" "^1\|.*$cfg:$line: listen ${what%% *} 0\.0\.0\.0 [0-9]+ is not a loopback address and has no ${what#* }" "$rc|$out"
	rc=0
	timeout 20 "$SPAZAD" -c "$cfg" >"$T_TMP/refused.log" 2>&1 || rc=$?
	check_match "spazad refuses to start with a non-loopback $what ($case)" "^1\|.*$cfg:$line: .*no ${what#* }" "$rc|$(cat "$T_TMP/refused.log")"
}
base() { own_cfg "$1" "$(free_port)" "$(free_port)"; }
base "$T_TMP/front.cfg"; echo " listen front 0.0.0.0 $(free_port)" >> "$T_TMP/front.cfg"
refused "$T_TMP/front.cfg" "front allow-list" "none at all"
base "$T_TMP/front1.cfg"; printf ' listen front 0.0.0.0 %s\n ussd-at allow 10.0.0.0/8\n' "$(free_port)" >> "$T_TMP/front1.cfg"
refused "$T_TMP/front1.cfg" "front allow-list" "ussd-at allow only, /kannel/* open"
base "$T_TMP/till.cfg"; echo " listen till 0.0.0.0 $(free_port)" >> "$T_TMP/till.cfg"
refused "$T_TMP/till.cfg" "till TLS" "listen till 0.0.0.0"
base "$T_TMP/admin.cfg"; echo " listen admin 0.0.0.0 $(free_port)" >> "$T_TMP/admin.cfg"
refused "$T_TMP/admin.cfg" "admin TLS" "listen admin 0.0.0.0"

base "$T_TMP/ok.cfg"
printf ' listen front 0.0.0.0 %s\n allow front 10.0.0.0/8\n' "$(free_port)" >> "$T_TMP/ok.cfg"
check_match "a non-loopback front with an allow-list passes spazad -C" '^configuration OK' "$("$SPAZAD" -C -c "$T_TMP/ok.cfg" 2>&1)"
base "$T_TMP/ok2.cfg"
printf ' http listen 0.0.0.0 %s\n ussd-at allow 10.0.0.0/8\n kannel allow 10.1.0.0/16\n' "$(free_port)" >> "$T_TMP/ok2.cfg"
check_match "an old config (http listen, ussd-at and kannel allow-lists) passes spazad -C" '^configuration OK' \
	"$("$SPAZAD" -C -c "$T_TMP/ok2.cfg" 2>&1)"

own_up insecure " allow front 127.0.0.0/8" " listen till 0.0.0.0 $(free_port)" " insecure till" \
	" listen admin 0.0.0.0 $(free_port)" " insecure admin" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
pass "spazad starts with non-loopback till and admin listeners without TLS when the config says insecure"
check_has "it warns about the insecure till listener in the log" "WARNING: till listener on 0.0.0.0 is open to the network with no TLS" "$(cat "$OWN_LOG")"
check_has "it warns about the insecure admin listener in the log" "WARNING: admin listener on 0.0.0.0 is open to the network with no TLS" "$(cat "$OWN_LOG")"
if [ "$(ulimit -Sn)" != "$(ulimit -Hn)" ]; then
	check_has "the open files limit is raised to the hard limit, and logged" \
		"open files limit raised from $(ulimit -Sn) to $(ulimit -Hn)" "$(cat "$OWN_LOG")"
else
	check_has "the open files limit, already the hard limit, is logged" \
		"open files limit $(ulimit -Hn) (the hard limit)" "$(cat "$OWN_LOG")"
fi
own_down insecure

# ---- slow clients: 12 connections from 127.0.0.1 sending their headers a byte at a time
# against a per-IP limit of 6 and a timeout of 3 s. Six are refused at once, six are held and
# cut after 3 s, however steadily their bytes come; meanwhile another address is served at once.
own_up slow " allow front 127.0.0.0/8" " listen front limits per-ip 6 timeout 3" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
port=${OWN_URL##*:}
slow() { # slow N: a byte every 0.3 s (18 s at most); writes how long its connection lasted (ms)
	trap '' PIPE
	local t0=${EPOCHREALTIME/./} i
	exec 4<>"/dev/tcp/127.0.0.1/$port" || { echo 0 > "$T_TMP/slow.$1"; return; }
	printf 'POST /ussd/at HTTP/1.1\r\nX-Slow: ' >&4 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		printf 'a' >&4 2>/dev/null || break
		sleep 0.3
	done
	echo $(( (${EPOCHREALTIME/./} - t0) / 1000 )) > "$T_TMP/slow.$1"
}
pids=()
for n in $(seq 1 12); do slow "$n" & pids+=($!); done
sleep 1
t0=${EPOCHREALTIME/./}
r=$(curl -s --noproxy '*' --max-time 10 --interface 127.0.0.2 "${AT_FORM[@]}" "$OWN_URL/ussd/at")
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
check_match "a hop from another address is answered while the slow clients hold their slots" '^CON ' "$r"
check_true "and promptly (within 2 s)" "it took $ms ms" [ "$ms" -lt 2000 ]
check_eq "a hop from the slow clients' address is refused while they hold its 6 slots" "000" \
	"$(code "$OWN_URL/ussd/at" "${AT_FORM[@]}")"
check_true "the connections over the per-IP limit are counted (http:per-ip-limit)" \
	"got $(stat_of "$PER_IP")" [ "$(stat_of "$PER_IP")" -ge 6 ]
wait_for 12 sh -c "[ \$(ls '$T_TMP' | grep -c '^slow\.') -eq 12 ]"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
held=0 cut=0
for n in $(seq 1 12); do
	d=$(cat "$T_TMP/slow.$n" 2>/dev/null || echo 99999)
	[ "$d" -ge 2500 ] && held=$((held + 1))
	[ "$d" -ge 2500 ] && [ "$d" -le 8000 ] && cut=$((cut + 1))	# 3 s timeout; a loaded host adds some
done
check_eq "6 slow connections were held, none beyond the limit" 6 "$held"
check_eq "and each of them was cut 3 to 8 s after it began, while still sending" 6 "$cut"
check_true "the cut connections are counted (http:timeouts)" "got $(stat_of "$TIMEOUTS")" \
	[ "$(stat_of "$TIMEOUTS")" -ge 6 ]
check_eq "the slow clients' address is served again once they are cut" "200" "$(code "$OWN_URL/ussd/at" "${AT_FORM[@]}")"
own_down slow
