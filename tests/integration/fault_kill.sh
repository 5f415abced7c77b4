# kill -9 of spazad under load, then the same daemon again (scripts/soak scenario 1, short): an own
# cluster and an own spazad driven by tools/spaza-load --faults for 8 s, killed at 3 s. Every order
# and voucher payment the load tool was told about is in the database once, nothing is doubled by
# the hops it sent again after the restart, every order has its SMS row, the ledger holds. Then a
# hop whose order committed right before the kill (spazad stopped mid-commit, killed once the
# order is visible) is replayed against the restarted daemon: the same order number, one row.
# Last, SIGTERM in the middle of the load: a clean exit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults.bash"
T=fault_kill

[ -x "$LOAD" ] || { echo "SKIP: $T: tools/spaza-load not built"; exit 0; }
fault_db "${SPAZA_IT_FAULTKILL:-faultkill}" || { echo "could not set up the own database" >&2; exit 1; }
fault_vouchers 500 || { echo "could not issue vouchers" >&2; exit 1; }
fault_up faultkill " session hop-deadline 2000" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }

fault_load kill 8 -c 8 --pins "$T_TMP/pins"
sleep 3
if fault_kill9; then
	pass "$T: spazad killed with -9 under load answers again ${FAULT_BACK_MS} ms after the kill"
else
	fail "$T: spazad killed with -9 under load answers again: expected /health 200 within 30 s, got none (see $OWN_LOG)"
fi
fault_load_wait
J=$T_TMP/kill.json; cat "$T_TMP/kill.log" >&2
check_eq "$T: no wrong reply or HTTP error from the load ($(tail -n 1 "$T_TMP/kill.log"))" 0 \
	"$(( $(jget "$J" mismatches) + $(jget "$J" http_errors) ))"
check_true "$T: the hops cut by the kill were sent again (retried $(jget "$J" retried))" "none was" \
	test "$(jget "$J" retried)" -gt 0
check_eq "$T: no hop left unanswered" 0 "$(jget "$J" unanswered)"
fault_checks "$T" kill

# ---- the order committed, spazad killed before it answered: the replay finds it
P=+27829990777 SID=$(t_sid)
F=(--data-urlencode "sessionId=$SID" --data-urlencode "serviceCode=*384*123#" --data-urlencode "phoneNumber=$P")
curl -s -m 10 --noproxy '*' "${F[@]}" --data-urlencode "text=1*2*3*1*4" "$OWN_URL/ussd/at" >/dev/null
psql_val "UPDATE soak_delay SET armed = 1, delay_ms = 700, msisdn = '$P'" >/dev/null
curl -s -m 10 --noproxy '*' "${F[@]}" --data-urlencode "text=1*2*3*1*4*1" "$OWN_URL/ussd/at" >"$T_TMP/first" 2>&1 &
CPID=$!
# the INSERT sleeps in the trigger: stop spazad, let the order commit, kill it before it answers
wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'\")\" = 1 ]"
kill -STOP "$OWN_PID"
wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$SID:%'\")\" = 1 ]"
ID=$(psql_val "SELECT id FROM orders WHERE idem_key LIKE 'at:$SID:%'")
fault_kill9 || fail "$T: spazad answers again after the second kill"
wait "$CPID"
check_eq "$T: the phone got no answer from the killed spazad" "" "$(cat "$T_TMP/first")"
R=$(curl -s -m 10 --noproxy '*' "${F[@]}" --data-urlencode "text=1*2*3*1*4*1" "$OWN_URL/ussd/at")
check_eq "$T: the hop replayed after the restart answers with the order committed before the kill" \
	"END Order #${ID:-?} placed. Pay via option 3." "$R"
check_eq "$T: the replayed session has one order" 1 "$(psql_val "SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$SID:%'")"
check_eq "$T: the replayed order has one order_placed SMS row" 1 \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE kind = 'order_placed' AND order_id = ${ID:-0}")"

# ---- SIGTERM under load: requests wait on the database while the daemon stops; it must answer
# or drop them and exit cleanly (it used to abort in libmicrohttpd, then to use freed sessions)
fault_load term 4 -c 8
sleep 1.5
kill "$OWN_PID"
wait "$OWN_PID"
check_eq "$T: spazad stopped with SIGTERM in the middle of the load exits with status 0" 0 "$?"
rm -f "$OWN_PIDF"
fault_load_wait
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|Fatal error' "$OWN_LOG"; then
	fail "$T: own spazad log free of sanitizer reports and aborts: expected none, got some (see $OWN_LOG)"
else
	pass "$T: own spazad log free of sanitizer reports and aborts"
fi
