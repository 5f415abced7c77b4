# Shared by scripts/bench and scripts/bench-drain (source it after lib.sh): the shop the hop
# benchmark runs on, and how a run's figures and the machine's other load are read.
#
# The caller sets IDLE_WAIT (seconds wait_quiet waits for a 90% idle machine).

# jget FILE KEY: a value of the flat one-line JSON object spaza-load --json prints
jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }

median() {
	tr ' ' '\n' | sed '/^$/d' | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "nan" && a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "nan" && a + 0 <= b + 0) }'; }

# cpu_idle: percent of all CPUs idle over half a second (/proc/stat: user .. steal)
cpu_idle() {
	local s1 s2
	s1=$(head -n 1 /proc/stat)
	sleep 0.5
	s2=$(head -n 1 /proc/stat)
	awk -v a="$s1" -v b="$s2" 'BEGIN { split(a, x); split(b, y)
		for (i = 2; i <= 9; i++) t += y[i] - x[i]
		printf "%d\n", (t > 0 ? 100 * (y[5] - x[5] + y[6] - x[6]) / t : 100) }'
}

# wait_quiet: wait up to IDLE_WAIT seconds for 90% idle; prints the last idle share
wait_quiet() {
	local end=$((SECONDS + IDLE_WAIT)) idle
	idle=$(cpu_idle)
	while [ "$idle" -lt 90 ] && [ "$SECONDS" -lt "$end" ]; do idle=$(cpu_idle); done
	echo "$idle"
}

# busy_ticks: CPU ticks of all CPUs spent in user, nice, system and steal (/proc/stat). Interrupt
# and softirq time is left out: processes are not charged for it either.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $9; exit }' /proc/stat; }

# proc_ticks PID...: utime + stime of the processes (all their threads)
proc_ticks() {
	local p
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# cluster_pids NAME: the processes of the private PostgreSQL cluster NAME (pg_up NAME)
cluster_pids() {
	local pm
	pm=$(head -n 1 "$(pg_dir "$1")/data/postmaster.pid" 2>/dev/null || true)
	[ -n "$pm" ] && { echo "$pm"; pgrep -P "$pm" || true; }
	return 0
}

# bench_seed_shop ORDERS_FILE: the shop of SHOP-BENCH in the database psql reaches (migrated, the
# bench catalogue imported): customers +27820000000..+27820000999 with 3 orders each (delivered,
# paid, awaiting payment) of the catalogue's first product. The first two are paid on a credit
# line through the ledger's own functions, as a shop's would be, so that `spazactl ledger check`
# holds on the bench database too. ORDERS_FILE gets the awaiting orders (MSISDN ORDER_ID a line),
# the load tool's --orders.
bench_seed_shop() {
	psql -v ON_ERROR_STOP=1 -qc "
WITH p AS (SELECT id, price_cents FROM products ORDER BY category_id, position LIMIT 1),
     c AS (INSERT INTO customers (msisdn)
           SELECT '+27820000' || lpad(n::text, 3, '0') FROM generate_series(0, 999) AS n
           RETURNING id, msisdn)
INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, status, idem_key)
SELECT c.id, p.id, 1, p.price_cents, p.price_cents, 'awaiting_payment', 'seed-' || c.msisdn || '-' || k
FROM c, p, generate_series(1, 3) AS k ORDER BY c.msisdn, k" \
		-c "SELECT spaza_credit_set_limit(id, 1000000) FROM customers WHERE msisdn LIKE '+27820000%'" \
		-c "SELECT spaza_credit_hold('seed-hold-' || o.id, o.customer_id, o.id) FROM orders o
		    WHERE o.idem_key ~ '^seed-.*-[12]$' ORDER BY o.id" \
		-c "SELECT spaza_credit_post(o.id) FROM orders o WHERE o.idem_key ~ '^seed-.*-[12]$' ORDER BY o.id" \
		-c "UPDATE orders SET status = 'delivered' WHERE idem_key LIKE 'seed-%-1'" >/dev/null
	psql -qtA -F ' ' -c "SELECT c.msisdn, o.id FROM orders o JOIN customers c ON c.id = o.customer_id
		WHERE o.status = 'awaiting_payment' ORDER BY o.id" > "$1"
	[ "$(wc -l < "$1")" -eq 1000 ] || die "seeding did not leave 1,000 awaiting orders"
}

# bench_vouchers CFG COUNT PINS_FILE: COUNT vouchers worth R2000.00 for the voucher sessions
# (SHOP-BENCH section 5), issued like any shop issues them (PINs stored only as HMACs); their PINs,
# one a line, in PINS_FILE for the load tool's --pins.
bench_vouchers() {
	rm -f "$3" "$3.issued"
	"$SPAZA_TOP/src/spazactl" -c "$1" vouchers issue --count "$2" --value 2000 --out "$3.issued" >/dev/null
	grep -oE '[0-9]{16}' "$3.issued" > "$3"
	rm -f "$3.issued"
}
