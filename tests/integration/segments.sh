# Segments (doc/crm.md): RFM scores and the named segments on planted histories, exactly as the
# configured thresholds say, kept current by each paid or cancelled order (the trigger) and the
# same after `spazactl segments recompute`; thresholds come from the configuration; the shop's
# rule segments count and list their members live; bad rules are refused with a reason.
source "$(dirname "$0")/lib.sh"
T=segments
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }

# cust PHONE LANG: a customer planted as first contact would make it -> id
cust() { psql_val "INSERT INTO customers (msisdn, lang) VALUES ('$(e164 "$1")', '$2') RETURNING id" | head -1; }
# order CUSTOMER RAND DAYS-AGO [unpaid]: one order of the first product for that total, placed and
# (unless unpaid) paid on credit through the ledger's functions that many days ago -> order id
PRODUCT=$(psql_val "SELECT id FROM products WHERE active ORDER BY id LIMIT 1")
# The order is placed now and its time planted after it is paid: an unpaid order planted days
# ago is one the daemon's expiry sweep may expire before the payment (it did, once in CI).
order() {
	local o
	o=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
		VALUES ($1, $PRODUCT, 1, $2 * 100, $2 * 100, 'it-seg-$$-$RANDOM$RANDOM') RETURNING id" | head -1)
	[ "${4:-}" = unpaid ] || pay "$1" "$o" "$3"
	psql_val "UPDATE orders SET created_at = now() - interval '$3 days' WHERE id = $o" >/dev/null
	echo "$o"
}
pay() { # pay CUSTOMER ORDER DAYS-AGO
	psql_val "SELECT outcome FROM spaza_credit_set_limit($1, 100000000)" >/dev/null
	psql_val "SELECT outcome FROM spaza_credit_hold('it-seg-hold-$2', $1, $2)" >/dev/null
	psql_val "SELECT outcome FROM spaza_credit_post($2)" >/dev/null
	psql_val "UPDATE orders SET paid_at = now() - interval '$3 days' WHERE id = $2" >/dev/null
}
rfm() { psql_val "SELECT r::text || f || m || ' ' || segment || ' ' || orders_paid || ' ' || spent_cents FROM customer_rfm WHERE customer_id = $1"; }

# the suite's thresholds: the defaults (recency 7 30 90 180 days, frequency 10 5 3 2 orders,
# monetary R2000 1000 500 200, top at 12, new within 30 days, lapsed after 90)
ctl segments recompute >/dev/null 2>&1
before_top=$(psql_val "SELECT count(*) FROM customer_rfm WHERE segment = 'top'")

PA=$(t_phone 41) PB=$(t_phone 41) PC=$(t_phone 41) PD=$(t_phone 41) PE=$(t_phone 41) PF=$(t_phone 41)
A=$(cust "$PA" en) B=$(cust "$PB" zu) C=$(cust "$PC" af) D=$(cust "$PD" zu) E=$(cust "$PE" en) F=$(cust "$PF" zu)
# A: 10 paid orders of R250, 60 days ago to 1 day ago: R5 F5 M5 = 15: top
for d in 60 50 40 30 20 10 8 5 3 1; do order "$A" 250 "$d" >/dev/null; done
# B: 3 orders, 100 to 20 days ago, R600: R4 (30 days) F3 M3 = 10: average
order "$B" 100 100 >/dev/null; order "$B" 200 50 >/dev/null; order "$B" 300 20 >/dev/null
# C: one order 45 days ago, R100: R3 F1 M1: once-off
order "$C" 100 45 >/dev/null
# D: an order placed 5 days ago, then paid (the status trigger, not an insert): R5 F1 M1: new
# E: two orders, 200 and 120 days ago, R300: R2 F2 M2: lapsed
order "$E" 100 200 >/dev/null; OE=$(order "$E" 200 120)
# the planted times are in; the nightly rebuild reads them
ctl segments recompute >/dev/null 2>&1
# D: an order placed, scored nothing while unpaid, then paid now: the trigger scores it at once
OD=$(order "$D" 50 0 unpaid)
check_eq "$T: an order awaiting payment scores nothing" "" "$(rfm "$D")"
pay "$D" "$OD" 0

check_eq "$T: A (10 orders, R2500, last 1 day ago) scores 555, top" "555 top 10 250000" "$(rfm "$A")"
check_eq "$T: B (3 orders, R600, last 20 days ago) scores 433, average" "433 average 3 60000" "$(rfm "$B")"
check_eq "$T: C (1 order, R100, 45 days ago) scores 311, once-off" "311 once-off 1 10000" "$(rfm "$C")"
check_eq "$T: D, paid just now, is scored by the paying itself (no rebuild): 511, new" "511 new 1 5000" "$(rfm "$D")"
check_eq "$T: E (last paid 120 days ago) scores 222, lapsed" "222 lapsed 2 30000" "$(rfm "$E")"
check_eq "$T: F (no paid order) has no scores" "" "$(rfm "$F")"
check_eq "$T: the named counts moved by exactly the planted top customer" "$((before_top + 1))" \
	"$(psql_val "SELECT count(*) FROM customer_rfm WHERE segment = 'top'")"

# a paid order cancelled (and refunded) leaves the scores at once (R100 left, one order)
ctl order cancel "$OE" >/dev/null 2>&1
check_eq "$T: E's order cancelled: one order, R100 left, at once (the trigger)" "211 lapsed 1 10000" "$(rfm "$E")"

# the nightly rebuild gives the same scores (E's last paid order is now the one 200 days ago: R1)
out=$(ctl segments recompute 2>&1)
check_match "$T: segments recompute rescored everyone and lists the segments" "RFM scores recomputed.*top" "$out"
check_eq "$T: after recompute A is still 555 top" "555 top 10 250000" "$(rfm "$A")"
check_eq "$T: after recompute B is still 433 average" "433 average 3 60000" "$(rfm "$B")"
check_eq "$T: after recompute E's recency is its remaining order's, 200 days ago: 111 lapsed" "111 lapsed 1 10000" "$(rfm "$E")"

# thresholds come from the configuration: top at 10 makes B top
sed 's/^ crm segments .*//' "$SPAZA_CFG" > "$T_TMP/top10.cfg"
echo " crm segments top-score 10 new-days 30 lapsed-days 90 sweep-hour 3 batch 1000" >> "$T_TMP/top10.cfg"
"$SPAZACTL" -c "$T_TMP/top10.cfg" segments recompute >/dev/null 2>&1
check_eq "$T: with crm segments top-score 10, B (10 points) is top" "433 top 3 60000" "$(rfm "$B")"
ctl segments recompute >/dev/null 2>&1
check_eq "$T: back on the suite's config, B is average again" "433 average 3 60000" "$(rfm "$B")"

# ---- rule segments
out=$(ctl segments define zu-spenders lang zu and spent-over 40 2>&1)
check_match "$T: define writes the rule back canonically" "segment zu-spenders defined: spent-over 40.00 and lang zu" "$out"
members=$(ctl segments members zu-spenders --limit 100000 2>&1)
check_has "$T: zu-spenders has B (zu, R600)" "$(e164 "$PB")" "$members"
check_has "$T: zu-spenders has D (zu, R50)" "$(e164 "$PD")" "$members"
check_lacks "$T: zu-spenders lacks A (en)" "$(e164 "$PA")" "$members"
check_lacks "$T: zu-spenders lacks F (zu, never paid)" "$(e164 "$PF")" "$members"
want=$(psql_val "SELECT count(*) FROM customers c JOIN customer_rfm r ON r.customer_id = c.id WHERE c.lang = 'zu' AND r.spent_cents > 4000")
check_has "$T: show counts the members live" "members: $want " "$(ctl segments show zu-spenders 2>&1)"

# bought a category within N days: A bought 1 day ago, C 45 days ago
CAT=$(psql_val "SELECT k.name FROM products p JOIN categories k ON k.id = p.category_id WHERE p.id = $PRODUCT")
ctl segments define recent-cat bought "$CAT" within 30 >/dev/null 2>&1
members=$(ctl segments members recent-cat --limit 100000 2>&1)
check_has "$T: bought $CAT within 30 has A (1 day ago)" "$(e164 "$PA")" "$members"
check_lacks "$T: bought $CAT within 30 lacks C (45 days ago)" "$(e164 "$PC")" "$members"
ctl segments define cat-by-id bought "$(psql_val "SELECT category_id FROM products WHERE id = $PRODUCT")" within 50 >/dev/null 2>&1
check_has "$T: a category by its number works too (C within 50 days)" "$(e164 "$PC")" "$(ctl segments members cat-by-id --limit 100000 2>&1)"

# opted-in and a named segment together
psql_val "UPDATE customers SET opt_out = true, opt_out_at = now(), opt_out_source = 'sms' WHERE id = $D" >/dev/null
ctl segments define new-opted segment new and opted-in >/dev/null 2>&1
check_lacks "$T: new and opted-in lacks D, who sent STOP" "$(e164 "$PD")" "$(ctl segments members new-opted --limit 100000 2>&1)"
check_has "$T: a named segment lists its members (new has D)" "$(e164 "$PD")" "$(ctl segments members new --limit 100000 2>&1)"

# open-ticket: care_tickets (sql/011_care.sql) when it is there, nobody otherwise
ctl segments define ticketed open-ticket >/dev/null 2>&1
if [ -z "$(psql_val "SELECT to_regclass('care_tickets')")" ]; then want=0; else
	want=$(psql_val "SELECT count(DISTINCT customer_id) FROM care_tickets WHERE state IN ('open', 'waiting')"); fi
check_has "$T: open-ticket counts customers with a ticket not resolved ($want)" "members: $want " "$(ctl segments show ticketed 2>&1)"
want=$(psql_val "SELECT count(*) FROM credit_lines cl WHERE cl.used_cents > (SELECT coalesce(sum(amount_cents), 0) FROM holds h WHERE h.customer_id = cl.customer_id AND h.status = 'pending')")
ctl segments define owing credit-due >/dev/null 2>&1
check_has "$T: credit-due counts customers owing on credit ($want)" "members: $want " "$(ctl segments show owing 2>&1)"

list=$(ctl segments list 2>&1)
check_match "$T: list shows the named segments with counts" "top +[0-9]+ +[0-9.]+" "$list"
check_has "$T: list shows the shop's segments" "zu-spenders          spent-over 40.00 and lang zu" "$list"

# bad rules: refused with a reason, exit 2, nothing stored
for bad in "lang xh|lang is en, zu or af" "bought drinks|needs \"within DAYS\"" "spent-over lots|spent-over needs an amount" \
	"lang zu lang af|lang is given twice" "segment vip|segment is top, average" "frobnicate|unknown condition"; do
	rule=${bad%%|*} why=${bad#*|}
	rc=0; out=$(ctl segments define badrule $rule 2>&1) || rc=$?
	check_eq "$T: define \"$rule\" exits 2" 2 "$rc"
	check_has "$T: ... saying why" "$why" "$out"
done
check_eq "$T: a refused rule stores nothing" "0" "$(psql_val "SELECT count(*) FROM crm_segments WHERE name = 'badrule'")"
rc=0; out=$(ctl segments show nosuch 2>&1) || rc=$?
check_eq "$T: show of an unknown segment exits 1" 1 "$rc"
check_has "$T: ... naming it" 'no segment "nosuch"' "$out"
