# Sessions left after a CON screen: an own spazad with a 2 s idle timeout ends them, and
# they land on the customer's timeline with outcome timeout (or abandoned, when the same
# customer dialled again meanwhile).
source "$(dirname "$0")/lib.sh"

IDLE=2
own_up timeout " session idle-timeout $IDLE" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
ctl() { "$SPAZACTL" -c "$OWN_CFG" "$@"; }
timeline_has() { ctl customer show "$1" 2>/dev/null | grep -qE "$2"; }

# 1. a session left on the categories screen times out
P=$(t_phone 11)
S=$(t_sid)
r=$(ussd "$S" "$P" "" "" "$OWN_URL")
check_match "the first hop shows the main menu" '^CON Welcome to Spaza' "$r"
r=$(ussd "$S" "$P" "1" "" "$OWN_URL")
check_match "the second hop shows the categories" '^CON Categories' "$r"
start=$(date +%s)
if wait_for $((IDLE + 15)) timeline_has "$P" '  session  .*at \*120\*777# timeout, '; then
	pass "a session idle longer than the idle timeout ends with outcome timeout on the timeline"
else
	fail "a session idle longer than the idle timeout ends with outcome timeout on the timeline: expected a timeout line within $((IDLE + 15)) s, got <$(oneline "$(ctl customer show "$P" 2>&1)")>"
fi
took=$(( $(date +%s) - start ))
check_true "the timeout comes no sooner than the idle timeout" "it was on the timeline after ${took} s" \
	test "$took" -ge $((IDLE - 1))
check_match "the timed-out session keeps its hops and screens" \
	'  session  .*at \*120\*777# timeout, 2 hops: main categories'$'(\n|$)' "$(ctl customer show "$P" 2>&1)"
n=$(psql_val "SELECT count(*) FROM ussd_sessions s JOIN customers c ON c.id = s.customer_id
	WHERE c.msisdn = '$(e164 "$P")' AND s.session_ref = '$S' AND s.outcome = 'timeout' AND s.ended_at >= s.started_at")
check_eq "the timed-out session is one row with its session id and an end time" 1 "$n"

# 2. that hops closer together than the idle timeout keep a session alive past it is a matter
# of the session's timers alone: tests/session_test.c proves it on a fake clock.

# 3. a session left hanging while the same customer dialled again and finished: abandoned
P3=$(t_phone 11)
S3=$(t_sid)
ussd "$S3" "$P3" "" "" "$OWN_URL" >/dev/null
ussd "$S3" "$P3" "3" "" "$OWN_URL" >/dev/null
r=$(ussd "$(t_sid)" "$P3" "5*3" "" "$OWN_URL")
check_eq "a new dial of the same customer is served while the old session hangs" \
	"END Spaza help: call 0800 555 123 (free) or SMS HELP to 31555." "$r"
if wait_for $((IDLE + 15)) timeline_has "$P3" '  session  .*at \*120\*777# (abandoned|timeout), '; then
	pass "the hanging session reaches the timeline once it idles out"
else
	fail "the hanging session reaches the timeline once it idles out: expected a line within $((IDLE + 15)) s, got <$(oneline "$(ctl customer show "$P3" 2>&1)")>"
fi
check_match "the session left for a newer dial counts as abandoned, with its screens" \
	'  session  .*at \*120\*777# abandoned, 2 hops: main pay_order'$'(\n|$)' "$(ctl customer show "$P3" 2>&1)"

# 4. the counters say the same
vty_open "$OWN_VTY" || { fail "own VTY reachable: expected a connection, got none"; own_down "session_timeout"; exit 0; }
st=$(vty "show stats")
vty_close
check_match "show stats counts the timed-out sessions" \
	'(sessions:timeout|Sessions idle longer than the idle timeout):[[:space:]]+[1-9]' "$st"
check_match "show stats counts the abandoned session" \
	'(sessions:abandoned|Sessions [^:]*same customer dialled again):[[:space:]]+1[[:space:]]' "$st"

# 5. the daemon is fine afterwards
r=$(ussd "$(t_sid)" "$P" "2" "" "$OWN_URL")
check_eq "the customer whose session timed out can dial again" "CON You have no orders yet."$'\n'"0. Back" "$r"
own_down "session_timeout"
