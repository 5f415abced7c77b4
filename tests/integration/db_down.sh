# The database goes away: an own PostgreSQL cluster (var/dbdown) and an own spazad with a 1 s
# hop deadline. While the database is stopped every hop that needs it gets a polite END
# within the deadline and nothing is half-written; the daemon stays up, reconnects by itself
# when the database is back, and serves a whole order again.
source "$(dirname "$0")/lib.sh"

DEADLINE_MS=1000
LIMIT=1.9	# seconds: the deadline plus room for a loaded machine and the sanitizers
SORRY="END Sorry, we could not do that right now. Please try again later."

CLUSTER=${SPAZA_IT_DBDOWN:-dbdown}	# set another name to run this beside a suite run in the same checkout
pg_up_retry "$CLUSTER" >/dev/null || { echo "could not start the $CLUSTER cluster" >&2; exit 1; }
at_exit "pg_down '$CLUSTER'"
DBDIR=$(pg_dir "$CLUSTER")
DBPORT=$PGPORT
psql -X -d postgres -qc "DROP DATABASE IF EXISTS spaza WITH (FORCE)" -c "CREATE DATABASE spaza" >/dev/null ||
	{ echo "could not create the dbdown database" >&2; exit 1; }
spazad_cfg "$T_TMP/setup.cfg" 1 1
"$SPAZACTL" -c "$T_TMP/setup.cfg" migrate >/dev/null &&
	"$SPAZACTL" -c "$T_TMP/setup.cfg" catalog import "$SPAZA_TOP/menus/demo-catalog.csv" >/dev/null ||
	{ echo "could not set up the dbdown database" >&2; exit 1; }
own_up dbdown " session hop-deadline $DEADLINE_MS" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }

# timed SESSION PHONE TEXT: the reply body in $R, the seconds it took in $T
timed() {
	local out
	out=$(curl -sS --max-time 20 --noproxy '*' -w '\n%{time_total}' --data-urlencode "sessionId=$1" \
		--data-urlencode "serviceCode=*120*777#" --data-urlencode "phoneNumber=$2" \
		--data-urlencode "text=$3" "$OWN_URL/ussd/at")
	R=${out%$'\n'*}
	T=${out##*$'\n'}
}
within() { awk -v t="$1" -v l="$2" 'BEGIN { exit !(t + 0 < l + 0) }'; }
check_polite() { # check_polite WHAT: $R is the polite END and came within the limit
	check_eq "$1: a polite END" "$SORRY" "$R"
	check_true "$1: answered within the hop deadline (${DEADLINE_MS} ms)" "took ${T} s, limit ${LIMIT} s" within "$T" "$LIMIT"
}
health() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 "$OWN_URL/health"; }
orders_of() { psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$1")'"; }

A=$(t_phone 12)		# a customer the daemon has seen before the outage
B=$(t_phone 12)		# a customer it has never seen
timed "$(t_sid)" "$A" "1*2*1*1*1*1"
check_match "with the database up an order is placed" '^END Order #[0-9]+ placed\.' "$R"

# ---- the database stops
pg_down "$CLUSTER"
check_true "the $CLUSTER cluster is stopped" "pg_isready still answers" \
	sh -c "! $PGBIN/pg_isready -q -h 127.0.0.1 -p $DBPORT"

timed "$(t_sid)" "$A" "1*2*1*1*1*1"
check_polite "an order by a known customer right after the database stopped"
timed "$(t_sid)" "$B" ""
check_polite "the first dial of a new customer with the database stopped"
timed "$(t_sid)" "$A" "2"
check_polite "my orders with the database stopped"
timed "$(t_sid)" "$A" "3*1001"
check_polite "pay lookup with the database stopped"
S=$(t_sid)
timed "$S" "$A" ""
check_match "a known customer still gets the main menu from memory" '^CON Welcome to Spaza' "$R"
timed "$S" "$A" "1*3*2*1*2*1"
check_polite "confirming an order with the database stopped"

check_true "the daemon stays up while the database is down" "process $OWN_PID is gone" kill -0 "$OWN_PID"
check_eq "/health says 503 while the database is down" 503 "$(health)"

# several at once, as a busy network would send them: each gets its answer in time
pids=()
for i in 1 2 3 4 5 6; do
	curl -sS --max-time 20 --noproxy '*' -o "$T_TMP/par$i" -w '%{time_total}' \
		--data-urlencode "sessionId=$(t_sid)-$i" --data-urlencode "serviceCode=*120*777#" \
		--data-urlencode "phoneNumber=$(t_phone 12)" --data-urlencode "text=1*1*1*1*1*1" \
		"$OWN_URL/ussd/at" > "$T_TMP/time$i" &
	pids+=($!)
done
wait "${pids[@]}"
bad=""
for i in 1 2 3 4 5 6; do
	[ "$(cat "$T_TMP/par$i")" = "$SORRY" ] && within "$(cat "$T_TMP/time$i")" "$LIMIT" ||
		bad+=" <$(cat "$T_TMP/par$i") in $(cat "$T_TMP/time$i") s>"
done
check_eq "six new customers at once with the database down each get the polite END in time" "" "$bad"

# ---- the database comes back, on the same port
pg_run "$PGBIN/pg_ctl" -D "$DBDIR/data" -l "$DBDIR/postgres.log" -w -t 30 \
	-o "-p $DBPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null ||
	{ fail "restarting the $CLUSTER cluster on port $DBPORT: expected it to start, got an error"; own_down db_down; exit 0; }
echo "$DBPORT" | pg_run tee "$DBDIR/port" >/dev/null
if wait_for 30 sh -c "[ \"\$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' $OWN_URL/health)\" = 200 ]"; then
	pass "the daemon reconnects by itself once the database is back (/health 200)"
else
	fail "the daemon reconnects by itself once the database is back: expected /health 200 within 30 s, got $(health)"
fi

check_eq "nothing of the failed orders was written: the known customer has only the first order" 1 "$(orders_of "$A")"
check_eq "the new customer of the outage has no order" 0 "$(orders_of "$B")"

timed "$(t_sid)" "$A" "1*2*1*1*2*1"
check_match "after the reconnect the known customer orders again" '^END Order #[0-9]+ placed\. Pay via option 3\.$' "$R"
O=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$R")
check_eq "the new order is committed, 2 x Coke 2L" "awaiting_payment|5598" \
	"$(psql_val "SELECT status || '|' || total_cents FROM orders WHERE id = ${O:-0}")"
S=$(t_sid)
timed "$S" "$B" ""
check_match "after the reconnect the new customer gets the main menu" '^CON Welcome to Spaza' "$R"
timed "$S" "$B" "1"
timed "$S" "$B" "1*5"
timed "$S" "$B" "1*5*1"
timed "$S" "$B" "1*5*1*1"
timed "$S" "$B" "1*5*1*1*4"
check_eq "after the reconnect the new customer reaches the confirmation" \
	"CON Order 4 x Chips 36g for R39.96?"$'\n'"1. Confirm"$'\n'"2. Cancel" "$R"
timed "$S" "$B" "1*5*1*1*4*1"
check_match "after the reconnect the new customer's whole order is placed" '^END Order #[0-9]+ placed\.' "$R"
timed "$(t_sid)" "$B" "2"
check_match "and is in their orders" "^CON Your orders:"$'\n'"1\. #[0-9]+ R39\.96 Awaiting payment"$'\n'"0\. Back$" "$R"

# the sessions of the outage are part of the customer's history too (DESIGN.md section 5: every
# session appears on the customer's timeline with its outcome)
outage_errors() { [ "$("$SPAZACTL" -c "$OWN_CFG" customer show "$A" 2>/dev/null | grep -c '  session  .*at \*120\*777# error, ')" -ge 4 ]; }
if wait_for 10 outage_errors; then
	pass "the known customer's sessions that failed during the outage are on the timeline with outcome error"
else
	fail "the known customer's sessions that failed during the outage are on the timeline with outcome error: expected its 4 sessions of the outage with outcome error, got <$(oneline "$("$SPAZACTL" -c "$OWN_CFG" customer show "$A" 2>&1)")>"
fi

# ---- the database hangs: its backends stopped (SIGSTOP; one per database-connections), the
# connections open but silent
BPID=$(psql_val "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = 'spaza' AND pid <> pg_backend_pid()")
if [[ "$BPID" =~ ^[0-9]+( [0-9]+)*$ ]]; then
	kill -STOP $BPID
	at_exit "kill -CONT $BPID 2>/dev/null"
	C=$(t_phone 12)
	timed "$(t_sid)" "$A" "1*2*1*1*3*1"
	HUNG_ORDER_REPLY=$R
	check_eq "an order while the database hangs: told the result comes by SMS (DESIGN.md section 5)" \
		"END This is taking longer than usual. We will SMS you the result." "$R"
	check_true "an order while the database hangs is answered within the hop deadline" \
		"took ${T} s, limit ${LIMIT} s" within "$T" "$LIMIT"
	timed "$(t_sid)" "$C" ""
	check_polite "the first dial of a new customer while the database hangs"
	timed "$(t_sid)" "$A" "2"
	check_polite "my orders while the database hangs"
	check_true "the daemon stays up while the database hangs" "process $OWN_PID is gone" kill -0 "$OWN_PID"
	kill -CONT $BPID
	# one more request through the same connection: once it is answered, what was queued
	# before it is settled
	timed "$(t_sid)" "$A" "2"
	check_match "once the database answers again, my orders works" '^CON Your orders:' "$R"
	late=$(psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE c.msisdn = '$(e164 "$A")' AND o.qty = 3")
	if [ "$late" -ge 1 ] && [ "$HUNG_ORDER_REPLY" = "$SORRY" ]; then
		fail "a customer told to try again later has no order made behind their back: expected no order of 3 x Coke 2L, or a screen saying the order goes through (DESIGN.md section 5: \"we'll SMS you\"), got the order committed after <$HUNG_ORDER_REPLY>"
	else
		pass "a customer told to try again later has no order made behind their back"
	fi
else
	fail "test set-up: the daemon's database connections: expected their backend pids, got <$(oneline "$BPID")>"
fi

# ---- "we'll SMS you", then the database goes away before the promised SMS is written: the
# hung backend is terminated (the order rolls back, the session fails) while the database takes
# no connections; the promise waits in spazad and is queued once when the database is back.
BPID=$(psql_val "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = 'spaza' AND pid <> pg_backend_pid()")
if [[ "$BPID" =~ ^[0-9]+( [0-9]+)*$ ]]; then
	D=$(t_phone 13)
	timed "$(t_sid)" "$D" ""	# a customer record to promise to
	kill -STOP $BPID
	at_exit "kill -CONT $BPID 2>/dev/null"
	SID=$(t_sid)
	timed "$SID" "$D" "1*2*1*1*3*1"
	check_eq "an order on a hung database: told the result comes by SMS" \
		"END This is taking longer than usual. We will SMS you the result." "$R"
	psql -X -d postgres -qc "ALTER DATABASE spaza WITH ALLOW_CONNECTIONS false" >/dev/null
	at_exit "psql -X -d postgres -qc 'ALTER DATABASE spaza WITH ALLOW_CONNECTIONS true' >/dev/null 2>&1"
	kill -TERM $BPID; kill -CONT $BPID
	sleep 4	# spazad finds the connection gone and tries to reconnect, refused, a few times
	psql -X -d postgres -qc "ALTER DATABASE spaza WITH ALLOW_CONNECTIONS true" >/dev/null
	promised() { psql_val "SELECT count(*) || '|' || string_agg(s.status || ':' || s.text, ',') FROM sms_messages s
		JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$(e164 "$D")' AND s.kind = 'reply'"; }
	wait_for 15 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM sms_messages s JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$(e164 "$D")' AND s.kind = 'reply'\")\" != 0 ]"
	check_eq "the promised SMS is queued once the database is back (the order did not go through)" \
		"1|queued:Sorry, we could not do that right now. Please try again later." "$(promised)"
	check_eq "... and no order was made" 0 "$(orders_of "$D")"
	check_eq "... under the promising hop's key" "at:$SID:" \
		"$(psql_val "SELECT substr(mo_id, 1, length('at:$SID:')) FROM sms_messages s JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$(e164 "$D")' AND s.kind = 'reply'")"
	out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
	check_match "no promised SMS counted as lost" 'never reached the database[^:]*: +0($|[^0-9])' "$out"
else
	fail "test set-up: the daemon's database connection (promise): expected their backend pids, got <$(oneline "$BPID")>"
fi

own_down "db_down"
