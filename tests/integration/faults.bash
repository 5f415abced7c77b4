# Helpers of the fault tests (tests/integration/fault_*.sh), the short versions of scripts/soak's
# scenarios: source it after lib.sh. Not a test itself (the suite runs *.sh only).
#
# Each test has an own PostgreSQL cluster (the delay trigger must not be in the suite's database)
# and an own spazad, driven by tools/spaza-load --faults: the polite END and "we'll SMS you" are
# answers, a hop lost to a broken connection is sent again; --acks lists what it was told, and
# scripts/soak-checks.sql holds that against the database.

LOAD=$SPAZA_TOP/tools/spaza-load

# fault_db CLUSTER: an own cluster (stopped at exit) with a fresh database: the bench catalogue
# (spaza-load's screens) and scripts/soak-delay.sql. Exports PG* and SPAZA_CONNINFO like pg_up.
fault_db() {
	pg_up_retry "$1" >/dev/null || return 1
	at_exit "pg_down '$1'"
	FAULT_PGDIR=$(pg_dir "$1")
	FAULT_PGPORT=$PGPORT
	psql -X -d postgres -qc "DROP DATABASE IF EXISTS spaza WITH (FORCE)" -c "CREATE DATABASE spaza" >/dev/null &&
		spazad_cfg "$T_TMP/setup.cfg" 1 1 &&
		"$SPAZACTL" -c "$T_TMP/setup.cfg" migrate >/dev/null &&
		"$SPAZACTL" -c "$T_TMP/setup.cfg" catalog import "$SPAZA_TOP/menus/bench-catalog.csv" >/dev/null &&
		psql -X -v ON_ERROR_STOP=1 -q -f "$SPAZA_TOP/scripts/soak-delay.sql" >/dev/null
}

# fault_pg_start: the cluster of fault_db up again on its port after a pg_ctl stop
fault_pg_start() {
	pg_run "$PGBIN/pg_ctl" -D "$FAULT_PGDIR/data" -l "$FAULT_PGDIR/postgres.log" -w -t 30 \
		-o "-p $FAULT_PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null &&
		echo "$FAULT_PGPORT" | pg_run tee "$FAULT_PGDIR/port" >/dev/null
}

# fault_vouchers N: N vouchers of R2000.00; their PINs in $T_TMP/pins
fault_vouchers() {
	"$SPAZACTL" -c "$T_TMP/setup.cfg" vouchers issue --count "$1" --value 2000 --out "$T_TMP/pins.issued" >/dev/null &&
		grep -oE '[0-9]{16}' "$T_TMP/pins.issued" > "$T_TMP/pins"
}

# fault_up NAME [CONFIG LINES]: own_up with no per-phone limits (1,000 phones carry the load)
fault_up() {
	local name=$1; shift
	own_up "$name" " limits hops-per-minute 0 sessions-per-hour 0" "$@"
}

# fault_load NAME SECONDS [ARGS...]: spaza-load --faults in the background against the own
# spazad; its files are $T_TMP/NAME.{json,acks,log}
fault_load() {
	local name=$1 secs=$2; shift 2
	"$LOAD" --url "$OWN_URL/ussd/at" -d "$secs" --warmup 0 --faults --json --acks "$T_TMP/$name.acks" "$@" \
		>"$T_TMP/$name.json" 2>"$T_TMP/$name.log" &
	FAULT_LOAD_PID=$!
}
fault_load_wait() { wait "$FAULT_LOAD_PID"; FAULT_LOAD_PID=""; }

# jget FILE KEY: a value of spaza-load's one-line JSON
jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }

# fault_kill9: kill -9 of the own spazad, then the same daemon again (same config, log appended);
# FAULT_BACK_MS: from the kill until it answers /health with 200
fault_kill9() {
	local t0=$(date +%s%3N)
	kill -9 "$OWN_PID" 2>/dev/null
	wait "$OWN_PID" 2>/dev/null
	"$SPAZAD" -c "$OWN_CFG" >>"$OWN_LOG" 2>&1 &
	OWN_PID=$!
	echo "$OWN_PID" > "$OWN_PIDF"
	wait_for 30 sh -c "curl -sf --noproxy '*' -o /dev/null '$OWN_URL/health'" || return 1
	FAULT_BACK_MS=$(( $(date +%s%3N) - t0 ))
}

# fault_checks WHAT NAME: scripts/soak-checks.sql on $T_TMP/NAME.acks, as PASS/FAIL lines
fault_checks() {
	local what=$1 f=$T_TMP/$2.checks
	if ! psql -X -v ON_ERROR_STOP=1 -qtA -F ' ' -f "$SPAZA_TOP/scripts/soak-checks.sql" <"$T_TMP/$2.acks" \
		>"$f" 2>&1; then
		fail "$what: the checks of scripts/soak-checks.sql ran: expected them to, got <$(oneline "$(cat "$f")")>"
		return
	fi
	v() { awk -v k="$1" -v n="${2:-2}" '$1 == k { print $n }' "$f"; }
	check_eq "$what: every acknowledged order is in the database, for that phone and session ($(v acked_orders) acknowledged): missing" 0 "$(v acked_missing)"
	check_eq "$what: no session has two orders (a replay doubling one)" 0 "$(v sessions_with_two_orders)"
	check_eq "$what: no order number acknowledged to two sessions" 0 "$(v acked_by_two_sessions)"
	check_eq "$what: every acknowledged voucher payment ($(v acked_paid)) has exactly one ledger transaction: without" 0 "$(v paid_without_one_txn)"
	check_eq "$what: no order paid twice" 0 "$(v orders_paid_twice)"
	check_eq "$what: no order or payment committed behind a polite END" 0 "$(( $(v unacked_commits 4) + $(v unacked_payments 4) ))"
	check_eq "$what: every order \"we'll SMS you\" was said of ($(v slow_orders)) is committed: not" 0 "$(( $(v slow_orders) - $(v slow_orders 3) ))"
	check_eq "$what: every voucher payment \"we'll SMS you\" was said of ($(v slow_payments)) is in the ledger: not" 0 "$(( $(v slow_payments) - $(v slow_payments 3) ))"
	check_eq "$what: every order has exactly one order_placed SMS row: without" 0 "$(v outbox_placed_not_one)"
	check_eq "$what: every order paid by voucher has exactly one \"paid\" SMS row: without" 0 "$(v outbox_paid_not_one)"
	if "$SPAZACTL" -c "$OWN_CFG" ledger check >"$T_TMP/ledger.out" 2>&1; then
		pass "$what: spazactl ledger check on the own database"
	else
		fail "$what: spazactl ledger check on the own database: expected no violation, got <$(oneline "$(cat "$T_TMP/ledger.out")")>"
	fi
}
