# PostgreSQL stopped under load (scripts/soak scenario 2, short): an own cluster stopped for 3 s
# while tools/spaza-load --faults drives an own spazad (1 s hop deadline) for 10 s. Every hop is
# answered within the deadline (the polite END where the database is needed), spazad reconnects
# by itself, and nothing the load was told about is missing, doubled or half-written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faults.bash"
T=fault_pgstop
DEADLINE_MS=1000
LIMIT_MS=1900	# the deadline plus room for a loaded machine and the sanitizers

[ -x "$LOAD" ] || { echo "SKIP: $T: tools/spaza-load not built"; exit 0; }
fault_db "${SPAZA_IT_FAULTPG:-faultpg}" || { echo "could not set up the own database" >&2; exit 1; }
fault_vouchers 500 || { echo "could not issue vouchers" >&2; exit 1; }
fault_up faultpg " session hop-deadline $DEADLINE_MS" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }

fault_load pg 10 -c 8 --pins "$T_TMP/pins" --timeout 5
sleep 3
pg_run "$PGBIN/pg_ctl" -D "$FAULT_PGDIR/data" -m fast -w stop >/dev/null
sleep 3
fault_pg_start || fail "$T: the own cluster starts again on port $FAULT_PGPORT"
t0=$(date +%s%3N)
if wait_for 20 sh -c "[ \"\$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' $OWN_URL/health)\" = 200 ]"; then
	pass "$T: spazad reconnects by itself, answering with the database $(( $(date +%s%3N) - t0 )) ms after it started"
else
	fail "$T: spazad reconnects by itself: expected /health 200 within 20 s of the database's start, got none"
fi
fault_load_wait
J=$T_TMP/pg.json
check_eq "$T: no wrong reply, HTTP error, broken connection or timeout ($(tail -n 1 "$T_TMP/pg.log"))" 0 "$(jget "$J" errors)"
check_true "$T: hops needing the database got the polite END while it was down ($(jget "$J" polite))" "none did" \
	test "$(jget "$J" polite)" -gt 0
check_true "$T: every hop answered within the hop deadline (max $(jget "$J" max_ms) ms)" "limit $LIMIT_MS ms" \
	awk -v t="$(jget "$J" max_ms)" -v l="$LIMIT_MS" 'BEGIN { exit !(t < l) }'
fault_checks "$T" pg

own_down "$T"
