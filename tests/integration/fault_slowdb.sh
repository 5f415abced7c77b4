# A slow database under load (scripts/soak scenario 4, short): an own cluster whose orders INSERT
# sleeps 2 s when scripts/soak-delay.sql's control row is armed, an own spazad with a 1 s hop
# deadline, tools/spaza-load --faults for 8 s giving up on a hop after 0.75 s and sending it again.
# The customers whose order or payment was stuck get "we'll SMS you", the work commits once, the
# retried hops do nothing twice. Then one delayed order by hand: "we'll SMS you" within the
# deadline, the same answer to the hop sent again at once, the order once with its SMS queued, and
# the hop sent again after the session is gone finds that order.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults.bash"
T=fault_slowdb
SLOW="END This is taking longer than usual. We will SMS you the result."
DEADLINE_MS=1000
LIMIT_MS=1900	# the deadline plus room for a loaded machine and the sanitizers

[ -x "$LOAD" ] || { echo "SKIP: $T: tools/spaza-load not built"; exit 0; }
fault_db "${SPAZA_IT_FAULTSLOW:-faultslow}" || { echo "could not set up the own database" >&2; exit 1; }
fault_vouchers 500 || { echo "could not issue vouchers" >&2; exit 1; }
fault_up faultslow " session hop-deadline $DEADLINE_MS" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }

fault_load slow 8 -c 8 --pins "$T_TMP/pins" --timeout 0.75
for at in 2 2.5; do	# at 2 s and 4.5 s: both stalls are over before the load ends
	sleep "$at"
	psql_val "UPDATE soak_delay SET armed = 1, delay_ms = 2000, msisdn = NULL" >/dev/null
done
fault_load_wait
# what was stuck commits before the checks look (the decrement of `armed` commits with it)
wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"SELECT armed FROM soak_delay\")\" = 0 ]"
J=$T_TMP/slow.json
check_eq "$T: no wrong reply or HTTP error from the load ($(tail -n 1 "$T_TMP/slow.log"))" 0 \
	"$(( $(jget "$J" mismatches) + $(jget "$J" http_errors) ))"
check_eq "$T: both armed delays were taken" 0 "$(psql_val "SELECT armed FROM soak_delay")"
check_true "$T: customers stuck behind the slow INSERT were told \"we'll SMS you\" ($(jget "$J" slow))" "none was" \
	test "$(jget "$J" slow)" -gt 0
check_eq "$T: no hop left unanswered" 0 "$(jget "$J" unanswered)"
fault_checks "$T" slow

# ---- one delayed order by hand
P=+27829990555 SID=$(t_sid)
F=(--data-urlencode "sessionId=$SID" --data-urlencode "serviceCode=*384*123#" --data-urlencode "phoneNumber=$P")
hop() { curl -s -m 10 --noproxy '*' -w '\n%{time_total}' "${F[@]}" --data-urlencode "text=1*5*2*1*3$1" "$OWN_URL/ussd/at"; }
hop "" >/dev/null
psql_val "UPDATE soak_delay SET armed = 1, delay_ms = 2000, msisdn = '$P'" >/dev/null
out=$(hop "*1")
R1=${out%$'\n'*} S1=${out##*$'\n'}
check_eq "$T: the customer whose order is stuck is told \"we'll SMS you\"" "$SLOW" "$R1"
check_true "$T: ... within the hop deadline (took ${S1} s)" "limit $LIMIT_MS ms" \
	awk -v t="$S1" -v l="$LIMIT_MS" 'BEGIN { exit !(t * 1000 < l) }'
out=$(hop "*1")
check_eq "$T: the hop sent again at once gets the same answer" "$SLOW" "${out%$'\n'*}"
wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$SID:%'\")\" = 1 ]"
ID=$(psql_val "SELECT id FROM orders WHERE idem_key LIKE 'at:$SID:%'")
check_eq "$T: the stuck order commits once, its order_placed SMS queued" "1|queued" \
	"$(psql_val "SELECT count(*) || '|' || string_agg(status, ',') FROM sms_messages WHERE kind = 'order_placed' AND order_id = ${ID:-0}")"
# an ended session answers repeats from memory for 10 s; after that a repeat is replayed
R3=$SLOW
for i in $(seq 1 20); do
	[ "$R3" = "$SLOW" ] || break
	sleep 1
	out=$(hop "*1")
	R3=${out%$'\n'*}
done
check_eq "$T: the hop sent again after the session is gone finds the order" \
	"END Order #${ID:-?} placed. Pay via option 3." "$R3"
check_eq "$T: the session still has one order" 1 "$(psql_val "SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$SID:%'")"

own_down "$T"
