# The money core (sql/002_ledger.sql, spazactl vouchers|credit|retailer|ledger|order cancel):
# vouchers, credit lines and barcode slips on the double-entry ledger, exact under retries and
# races, and a ledger check that passes here and fails on a corrupted copy. The daemon does
# not call the payment functions yet, so they are called with psql, as spazad will send them.
source "$(dirname "$0")/lib.sh"

# spazactl with a secrets file of our own: the shared daemon's config has none.
umask 077
VKEY=$(openssl rand -hex 32)
RKEY=$(openssl rand -hex 32)
printf '# test secrets\nvoucher-pin = %s\nretailer-master = %s\n' "$VKEY" "$RKEY" > "$T_TMP/secrets"
chmod 600 "$T_TMP/secrets"
CFG=$T_TMP/spazad.cfg
awk -v s=" secrets-file $T_TMP/secrets" '/^ secrets-file / { next } { print } /^spaza$/ { print s }' "$SPAZA_CFG" > "$CFG"
ctl() { "$SPAZACTL" -c "$CFG" "$@"; }
umask 022

hmac() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | awk '{ print $NF }'; }
pin_hmac() { hmac "$VKEY" "$1"; }
uniq_key() { echo "it-ledger-$$-$RANDOM$RANDOM"; }

# Customers and orders of our own: a fresh number for each (range +2782977xxxxx), and orders
# of a hidden, inactive product so no menu shows them.
new_customer() {
	local id=""
	while [ -z "$id" ]; do
		id=$(psql_val "INSERT INTO customers (msisdn) VALUES ('+2782977' || lpad(floor(random() * 100000)::int::text, 5, '0'))
			ON CONFLICT DO NOTHING RETURNING id")
	done
	echo "$id"
}
msisdn_of() { psql_val "SELECT msisdn FROM customers WHERE id = $1"; }
psql_val "INSERT INTO categories (id, name, position) VALUES (9977, 'ledger test', 0) ON CONFLICT DO NOTHING;
	INSERT INTO products (id, category_id, position, name, price_cents, stock, active)
	VALUES (997701, 9977, 1, 'ledger test item', 100, 1000000, false) ON CONFLICT DO NOTHING" >/dev/null
new_order() { # new_order CUSTOMER TOTAL_CENTS: one unit, awaiting payment
	psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
		VALUES ($1, 997701, 1, $2, $2, 'it-ledger-' || gen_random_uuid()) RETURNING id"
}
order_status() { psql_val "SELECT status || '|' || coalesce(payment_method, '-') FROM orders WHERE id = $1"; }

redeem() { # redeem KEY PIN CUSTOMER ORDER -> "outcome paid remaining"
	psql_val "SELECT outcome || ' ' || paid_cents || ' ' || remaining_cents
		FROM spaza_voucher_redeem('$1', decode('$(pin_hmac "$2")', 'hex'), $3, $4)"
}
hold() { psql_val "SELECT outcome || ' ' || amount_cents || ' ' || available_cents FROM spaza_credit_hold('$1', $2, $3)"; }
slip() { psql_val "SELECT slip_ref FROM spaza_slip_create('$(uniq_key)', $1, 1234)"; }
pay() { # pay KEY_ID PAYMENT_ID REF AMOUNT REQUEST_HASH -> "outcome response"
	psql_val "SELECT outcome || ' ' || response::text FROM spaza_slip_pay('$1', '$2', '$3', $4, '$5')"
}
pay_outcome() { pay "$@" | cut -d' ' -f1; }
reverse() { # reverse KEY_ID PAYMENT_ID [REF] -> outcome
	local ref=NULL
	[ -z "${3:-}" ] || ref="'$3'"
	psql_val "SELECT outcome FROM spaza_slip_reverse('$1', '$2', $ref)"
}
ledger_pass() { # ledger_pass WHAT: spazactl ledger check passes
	if ctl ledger check >"$T_TMP/check.out" 2>&1; then pass "$1"
	else fail "$1: expected exit 0, got <$(oneline "$(cat "$T_TMP/check.out")")>"; fi
}

# gate_start KEY N: hold advisory lock KEY until N sessions queue behind it (10 s at most), so
# that N workers which take it shared first all start their real work at the same moment.
gate_start() {
	psql -X -qtA -c "SELECT pg_advisory_lock($1)" -c "DO \$\$ BEGIN FOR i IN 1..400 LOOP
		EXIT WHEN (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND objsubid = 1
			   AND NOT granted) >= $2;
		PERFORM pg_sleep(0.025); END LOOP; END \$\$" >/dev/null &
	wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND objid = $1 AND objsubid = 1 AND granted\")\" = 1 ]"
}
gated() { # gated KEY OUTFILE SQL: one worker, in the background
	psql -X -qtA -c "SELECT pg_advisory_lock_shared($1)" -c "$3" 2>&1 | grep -v '^$' > "$2" &
}

# ---- secrets and issuing vouchers --------------------------------------------------------

cp "$T_TMP/secrets" "$T_TMP/secrets-open"
chmod 644 "$T_TMP/secrets-open"
sed "s#secrets-file .*#secrets-file $T_TMP/secrets-open#" "$CFG" > "$T_TMP/open.cfg"
out=$("$SPAZACTL" -c "$T_TMP/open.cfg" vouchers issue --count 1 --value 10 --out "$T_TMP/never.csv" 2>&1); rc=$?
check_eq "a world-readable secrets file is refused (exit 1)" 1 "$rc"
check_has "... saying why" "group or others may access it (mode 0644)" "$out"
check_lacks "... without showing the key" "$VKEY" "$out"
check_true "... and no PIN file is written" "$T_TMP/never.csv exists" test ! -e "$T_TMP/never.csv"

out=$(ctl vouchers issue --count 6 --value 50 --out "$T_TMP/pins.csv" 2>&1); rc=$?
check_eq "vouchers issue --count 6 --value 50 succeeds" 0 "$rc"
check_has "... and says so" "issued 6 vouchers of R50.00" "$out"
check_eq "the PIN file is mode 0600" "600" "$(stat -c %a "$T_TMP/pins.csv")"
mapfile -t PINS < <(tail -n +2 "$T_TMP/pins.csv" | cut -d, -f1)
check_eq "the file holds 6 PINs" 6 "${#PINS[@]}"
bad=0
for p in "${PINS[@]}"; do
	[[ $p =~ ^[0-9]{16}$ ]] || bad=$((bad + 1))
	[ "$(psql_val "SELECT spaza_luhn_check_digit('${p:0:15}')")" = "${p:15:1}" ] || bad=$((bad + 1))
	[ "$(psql_val "SELECT count(*) FROM vouchers WHERE pin_hmac = decode('$(pin_hmac "$p")', 'hex')
		AND last4 = '${p:12:4}' AND value_cents = 5000 AND remaining_cents = 5000")" = 1 ] || bad=$((bad + 1))
done
check_eq "every PIN has 16 digits, a Luhn check digit, and its HMAC-SHA256 and last 4 in the database" 0 "$bad"
pg_dump --data-only > "$T_TMP/dump.sql" 2>/dev/null
found=0
for p in "${PINS[@]}"; do grep -q "$p" "$T_TMP/dump.sql" && found=$((found + 1)); done
check_eq "no PIN appears anywhere in a dump of the database" 0 "$found"
rm -f "$T_TMP/dump.sql"
out=$(ctl vouchers issue --count 1 --value 50 --out "$T_TMP/pins.csv" 2>&1); rc=$?
check_eq "issuing into an existing file is refused (exit 1)" 1 "$rc"
check_eq "... and the file is untouched" 7 "$(wc -l < "$T_TMP/pins.csv")"
check_eq "every voucher sale is on the ledger against its voucher float" 6 "$(psql_val "SELECT count(*)
	FROM vouchers v JOIN ledger_accounts a ON a.kind = 'voucher_float' AND a.owner_id = v.id
	JOIN ledger_entries e ON e.account_id = a.id JOIN ledger_txns t ON t.id = e.txn_id
	WHERE t.reason = 'voucher_sale' AND e.amount_cents = -5000
	AND v.pin_hmac IN ($(for p in "${PINS[@]}"; do printf "decode('%s', 'hex')," "$(pin_hmac "$p")"; done) NULL)")"

# ---- redeeming ---------------------------------------------------------------------------

A=$(new_customer)
O1=$(new_order "$A" 3000)
K1=$(uniq_key)
check_eq "a R30 order paid from a R50 voucher: paid, R20 remains" "paid 3000 2000" "$(redeem "$K1" "${PINS[0]}" "$A" "$O1")"
check_eq "... the order is paid by voucher" "paid|voucher" "$(order_status "$O1")"
check_eq "the same key again returns the first result" "paid 3000 2000" "$(redeem "$K1" "${PINS[0]}" "$A" "$O1")"
check_eq "the same key with another PIN is refused" "conflict 0 0" "$(redeem "$K1" "${PINS[1]}" "$A" "$O1")"
check_eq "... and nothing was posted twice" 1 "$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O1")"
check_eq "a paid order cannot be paid again with another key" "not_payable 0 0" \
	"$(redeem "$(uniq_key)" "${PINS[1]}" "$A" "$O1")"
O2=$(new_order "$A" 3000)
check_eq "a R30 order on the R20 remainder: insufficient, the remainder shown" "insufficient 0 2000" \
	"$(redeem "$(uniq_key)" "${PINS[0]}" "$A" "$O2")"
O3=$(new_order "$A" 1500)
check_eq "a R15 order on the R20 remainder: paid, R5 remains" "paid 1500 500" "$(redeem "$(uniq_key)" "${PINS[0]}" "$A" "$O3")"
out=$(ctl vouchers show "${PINS[0]:12:4}")
check_has "vouchers show LAST4 shows the remainder" "value R50.00  remaining R5.00  active" "$out"
check_has "... and each redemption with its order" "order #$O3" "$out"
B=$(new_customer)
OB=$(new_order "$B" 1000)
check_eq "another customer's order cannot be paid in A's name" "not_payable 0 0" \
	"$(redeem "$(uniq_key)" "${PINS[0]}" "$A" "$OB")"

# 50 sessions of 50 customers redeem one R50 PIN for R30 orders at the same moment.
gate_start 4242001 50
for i in $(seq 1 50); do
	c=$(new_customer); o=$(new_order "$c" 3000)
	gated 4242001 "$T_TMP/race.$i" "SELECT outcome FROM spaza_voucher_redeem('$(uniq_key)',
		decode('$(pin_hmac "${PINS[1]}")', 'hex'), $c, $o)"
done
wait
check_eq "50 concurrent redemptions of one PIN: exactly one paid" 1 "$(cat "$T_TMP"/race.* | grep -c '^paid$')"
check_eq "... the other 49 find it insufficient" 49 "$(cat "$T_TMP"/race.* | grep -c '^insufficient$')"
check_eq "... and the voucher has R20 left" "2000|active" \
	"$(psql_val "SELECT remaining_cents || '|' || status FROM vouchers WHERE pin_hmac = decode('$(pin_hmac "${PINS[1]}")', 'hex')")"

# 20 retries of one hop (one key) at the same moment: one payment, twenty identical answers.
C=$(new_customer); OC=$(new_order "$C" 2000); KC=$(uniq_key)
gate_start 4242002 20
for i in $(seq 1 20); do
	gated 4242002 "$T_TMP/retry.$i" "SELECT outcome || ' ' || paid_cents || ' ' || remaining_cents
		FROM spaza_voucher_redeem('$KC', decode('$(pin_hmac "${PINS[2]}")', 'hex'), $C, $OC)"
done
wait
check_eq "20 concurrent retries of one redemption all answer the first result" "20 paid 2000 3000" \
	"$(cat "$T_TMP"/retry.* | sort | uniq -c | awk '{ print $1, $2, $3, $4 }')"
check_eq "... which was posted once" 1 "$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $OC")"

# An expired voucher.
psql_val "UPDATE vouchers SET expires_at = now() - interval '1 day' WHERE pin_hmac = decode('$(pin_hmac "${PINS[3]}")', 'hex')" >/dev/null
OE=$(new_order "$C" 1000)
check_eq "an expired voucher pays nothing (its value shown)" "expired 0 5000" "$(redeem "$(uniq_key)" "${PINS[3]}" "$C" "$OE")"
check_eq "... and the order stays unpaid" "awaiting_payment|-" "$(order_status "$OE")"

# Brute force: 5 wrong PINs in 24 h lock voucher entry for that customer, even a right PIN.
L=$(new_customer); OL=$(new_order "$L" 1000)
r=""
for i in 1 2 3 4 5; do r+="$(redeem "$(uniq_key)" "$(printf '%016d' $((RANDOM * 7 + i)))" "$L" "$OL" | cut -d' ' -f1) "; done
check_eq "5 wrong PINs are 5 invalid answers" "invalid invalid invalid invalid invalid " "$r"
check_eq "the 6th attempt, with a good PIN, is locked" "locked 0 0" "$(redeem "$(uniq_key)" "${PINS[4]}" "$L" "$OL")"
check_eq "... and paid nothing" "awaiting_payment|-" "$(order_status "$OL")"
check_eq "another customer is not locked by it" "paid 1000 4000" \
	"$(redeem "$(uniq_key)" "${PINS[4]}" "$C" "$(new_order "$C" 1000)")"
# 12 wrong PINs at once from one customer: the count cannot be raced past.
M=$(new_customer); OM=$(new_order "$M" 1000)
gate_start 4242003 12
for i in $(seq 1 12); do
	gated 4242003 "$T_TMP/brute.$i" "SELECT outcome FROM spaza_voucher_redeem('$(uniq_key)',
		sha256('wrong $i $$'), $M, $OM)"
done
wait
check_eq "12 concurrent wrong PINs: 5 invalid, then 7 locked" "5 invalid|7 locked" \
	"$(cat "$T_TMP"/brute.* | sort | uniq -c | awk '{ print $1, $2 }' | paste -sd'|')"

# ---- credit lines ------------------------------------------------------------------------

D=$(new_customer); DM=$(msisdn_of "$D")
out=$(ctl credit set-limit "$DM" 50); rc=$?
check_eq "credit set-limit MSISDN 50" "0|credit limit of $DM: R50.00 (R0.00 in use)" "$rc|$out"
D1=$(new_order "$D" 3000); D2=$(new_order "$D" 3000)
gate_start 4242004 2
gated 4242004 "$T_TMP/credit.1" "SELECT outcome || ' ' || available_cents FROM spaza_credit_hold('$(uniq_key)', $D, $D1)"
gated 4242004 "$T_TMP/credit.2" "SELECT outcome || ' ' || available_cents FROM spaza_credit_hold('$(uniq_key)', $D, $D2)"
wait
check_eq "two concurrent R30 holds on a R50 line: one ok, one over_limit with R20 available" "ok 2000|over_limit 2000" \
	"$(cat "$T_TMP"/credit.* | sort | paste -sd'|')"
DH=$(psql_val "SELECT order_id FROM holds WHERE customer_id = $D AND status = 'pending'")
DX=$([ "$DH" = "$D1" ] && echo "$D2" || echo "$D1")
check_eq "the hold is posted when the order is accepted" "posted 3000" \
	"$(psql_val "SELECT outcome || ' ' || amount_cents FROM spaza_credit_post($DH)")"
check_eq "... again: the same answer, posted once" "posted 3000|1" \
	"$(psql_val "SELECT outcome || ' ' || amount_cents FROM spaza_credit_post($DH)")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $DH")"
check_eq "... and the order is paid on credit" "paid|credit" "$(order_status "$DH")"
out=$(ctl credit show "$DM")
check_match "credit show: limit, used, owed, available" \
	"limit +R50\.00.*used +R30\.00.*held +R0\.00.*owed +R30\.00.*available +R20\.00" "$(oneline "$out")"
out=$(ctl credit set-limit "$DM" 20 2>&1); rc=$?
check_eq "a limit below what is in use is refused (exit 1)" 1 "$rc"
check_eq "a hold for the other order is still over the limit" "over_limit 3000 2000" "$(hold "$(uniq_key)" "$D" "$DX")"
# repay R30 from a fresh R50 voucher: R20 stays on it
check_eq "repaying by voucher pays what is owed, the rest stays on the voucher" "repaid 3000 2000 0" \
	"$(psql_val "SELECT outcome || ' ' || repaid_cents || ' ' || remaining_cents || ' ' || owed_cents
		FROM spaza_credit_repay('$(uniq_key)', $D, decode('$(pin_hmac "${PINS[5]}")', 'hex'))")"
# a crash between hold and post: the hold is left pending; expiry resolves it
KH=$(uniq_key)
check_eq "a hold for the other order now fits" "ok 3000 2000" "$(hold "$KH" "$D" "$DX")"
check_eq "the same hold again returns the first hold" "ok 3000 2000" "$(hold "$KH" "$D" "$DX")"
ledger_pass "the ledger check passes with a hold pending (as after a crash before posting)"
check_eq "expiry (as the restarted daemon runs it) releases the lapsed hold" "1" \
	"$(psql_val "SELECT holds_expired FROM spaza_holds_expire(now() + interval '1 hour')")"
check_eq "... the credit is available again" "0|0|5000" \
	"$(psql_val "SELECT used_cents || '|' || held_cents || '|' || available_cents FROM spaza_credit_balance($D)")"
check_eq "... and a late post finds no hold" "no_hold|awaiting_payment|-" \
	"$(psql_val "SELECT outcome FROM spaza_credit_post($DX)")|$(order_status "$DX")"

# ---- slips and tills ---------------------------------------------------------------------

out=$(ctl retailer add "ledger-test-$$-a"); rc=$?
KA=$(sed -n 's/^key id *//p' <<<"$out"); SA=$(sed -n 's/^secret *//p' <<<"$out")
check_eq "retailer add prints a key id and a secret" "0|1|1" "$rc|$([[ $KA =~ ^rk_[0-9a-f]{16}$ ]] && echo 1)|$([[ $SA =~ ^[0-9a-f]{64}$ ]] && echo 1)"
check_eq "the secret is HMAC-SHA256(retailer-master, key id)" "$(hmac "$RKEY" "$KA")" "$SA"
check_eq "the database holds the key id, not the secret" "1|0" \
	"$(psql_val "SELECT count(*) FROM retailer_keys WHERE key_id = '$KA'")|$(pg_dump --data-only 2>/dev/null | grep -c "$SA")"
KB=$(ctl retailer add "ledger-test-$$-b" | sed -n 's/^key id *//p')
out=$(ctl retailer rotate-key "ledger-test-$$-b"); KB2=$(sed -n 's/^key id *//p' <<<"$out")
check_eq "rotate-key: a new key id, the old one revoked" "1|0" \
	"$(psql_val "SELECT count(*) FROM spaza_retailer_by_key('$KB2')")|$(psql_val "SELECT count(*) FROM spaza_retailer_by_key('$KB')")"
check_eq "a revoked key cannot pay" "unknown_key" "$(pay_outcome "$KB" x 900000000000001 100 h)"
KB=$KB2

E=$(new_customer); S1=$(new_order "$E" 4599)
REF=$(slip "$S1")
check_match "a slip reference is 9 + receiver 1234 + the order in 9 digits + a check digit" "^91234$(printf '%09d' "$S1")[0-9]$" "$REF"
check_eq "... the check digit is the Luhn digit C computes" "OK" \
	"$(printf 'ref 1234 %s %s\n' "$S1" "$REF" > "$T_TMP/one.ref"; "$SPAZA_TOP/tests/easypay_test" --check "$T_TMP/one.ref" | grep -q '^FAIL' && echo bad || echo OK)"
check_eq "asking again for a slip of the same order gives the same reference" "$REF" "$(slip "$S1")"
check_eq "the slip looks up as open, R45.99" "open|4599" "$(psql_val "SELECT status || '|' || amount_cents FROM spaza_slip_lookup('${REF:0:4} ${REF:4:4} ${REF:8:4} ${REF:12}')")"
check_eq "a wrong amount is refused" "wrong_amount" "$(pay_outcome "$KA" "P1-$$" "$REF" 4500 h1)"
check_eq "an unknown slip is refused" "unknown_slip" "$(pay_outcome "$KA" "P1-$$" 999990000000007 4599 h1)"
# the till retries its payment 10 times at once
gate_start 4242005 10
for i in $(seq 1 10); do
	gated 4242005 "$T_TMP/till.$i" "SELECT outcome || ' ' || response::text FROM spaza_slip_pay('$KA', 'P1-$$', '$REF', 4599, 'h1')"
done
wait
check_eq "a payment sent 10 times at once: 10 identical paid responses" "10 paid" \
	"$(cat "$T_TMP"/till.* | sort | uniq -c | awk '{ print $1, $2 }')"
check_eq "... one payment on the ledger, the order paid by slip" "1|1|paid|slip" \
	"$(psql_val "SELECT count(*) FROM till_payments WHERE till_payment_id = 'P1-$$'")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $S1")|$(order_status "$S1")"
first=$(cat "$T_TMP/till.1")
check_eq "a later repeat returns the first response, unchanged" "$first" "$(pay "$KA" "P1-$$" "$REF" 4599 h1)"
check_eq "the same payment id with another request is refused" "conflict" "$(pay_outcome "$KA" "P1-$$" "$REF" 4599 other)"
check_eq "another payment id on the paid slip is refused" "already_paid" "$(pay_outcome "$KA" "P2-$$" "$REF" 4599 h2)"
check_eq "another retailer's payment (same id, its own namespace) is refused too" "already_paid" "$(pay_outcome "$KB" "P1-$$" "$REF" 4599 h1)"
check_eq "another retailer cannot reverse this retailer's payment" "paid_by_other" "$(reverse "$KB" "P1-$$" "$REF")"
check_eq "nor without a reference" "unknown_payment" "$(reverse "$KB" "P1-$$")"
check_eq "the retailer reverses its payment" "reversed" "$(reverse "$KA" "P1-$$" "$REF")"
check_eq "... the order awaits payment again, the slip is open again" "awaiting_payment|-|open" \
	"$(order_status "$S1")|$(psql_val "SELECT status FROM slips WHERE ref = '$REF'")"
check_eq "... the reversal is on the ledger, and the order has no settled payment" "reversal|0" \
	"$(psql_val "SELECT reason FROM ledger_txns WHERE order_id = $S1 ORDER BY id DESC LIMIT 1")|$(psql_val "SELECT count(*) FILTER (WHERE reason = 'slip_payment') - count(*) FILTER (WHERE reason = 'reversal') FROM ledger_txns WHERE order_id = $S1")"
check_eq "the reversal repeated: the same answer, reversed once" "reversed|1" \
	"$(reverse "$KA" "P1-$$")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $S1 AND reason = 'reversal'")"
check_eq "pay after reverse (the reversed payment id) is refused" "reversed" "$(pay_outcome "$KA" "P1-$$" "$REF" 4599 h1)"
check_eq "a new payment pays the reopened slip" "paid" "$(pay_outcome "$KA" "P3-$$" "$REF" 4599 h3)"
check_eq "reverse after another payment's confirmation (an unknown id) is refused" "paid_by_other" "$(reverse "$KA" "P4-$$" "$REF")"
check_eq "... and the old reversal repeated changes nothing" "reversed|paid|slip" "$(reverse "$KA" "P1-$$")|$(order_status "$S1")"
ctl order status "$S1" shipped >/dev/null
check_eq "reverse after the order shipped is refused" "shipped|shipped|slip" "$(reverse "$KA" "P3-$$")|$(order_status "$S1")"
# a till that timed out on its payment reverses it before the payment arrives
S2=$(new_order "$E" 1000); REF2=$(slip "$S2")
check_eq "a reversal of a payment never seen is recorded" "reversed" "$(reverse "$KA" "P5-$$" "$REF2")"
check_eq "... and the payment arriving late is refused" "reversed|awaiting_payment|-" "$(pay_outcome "$KA" "P5-$$" "$REF2" 1000 h5)|$(order_status "$S2")"
# expiry
S3=$(new_order "$E" 1000); REF3=$(slip "$S3")
psql_val "UPDATE slips SET expires_at = now() - interval '1 minute' WHERE ref = '$REF3'" >/dev/null
check_eq "an expired slip is refused" "expired" "$(pay_outcome "$KA" "P6-$$" "$REF3" 1000 h6)"
# (spazad's own sweep may get there first: the slip's status is what counts)
psql_val "SELECT slips_expired FROM spaza_holds_expire()" >/dev/null
check_eq "expiry marks lapsed slips expired" expired "$(psql_val "SELECT status FROM slips WHERE ref = '$REF3'")"

# ---- cancelling and refunds --------------------------------------------------------------

# paid by voucher: back to the voucher's remainder, once
R=$(new_customer); RV=$(new_order "$R" 1200)
redeem "$(uniq_key)" "${PINS[5]}" "$R" "$RV" >/dev/null
before=$(psql_val "SELECT remaining_cents FROM vouchers WHERE pin_hmac = decode('$(pin_hmac "${PINS[5]}")', 'hex')")
out=$(ctl order cancel "$RV")
check_eq "cancelling an order paid by voucher refunds to the voucher" "order #$RV cancelled, R12.00 refunded to voucher ...${PINS[5]:12:4}" "$out"
check_eq "cancelling it again refunds nothing more" "$out|1|$((before + 1200))" \
	"$(ctl order cancel "$RV")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $RV AND reason = 'refund'")|$(psql_val "SELECT remaining_cents FROM vouchers WHERE pin_hmac = decode('$(pin_hmac "${PINS[5]}")', 'hex')")"
# paid by slip (cash): store credit
RS=$(new_order "$R" 2500); RREF=$(slip "$RS")
pay_outcome "$KA" "P7-$$" "$RREF" 2500 h7 >/dev/null
check_eq "cancelling an order paid in cash refunds store credit" "order #$RS cancelled, R25.00 refunded to store credit" "$(ctl order cancel "$RS")"
check_eq "... the customer has R25 of store credit" "2500" "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($R)")"
check_eq "a till cannot reverse a refunded payment" "not_reversible" "$(reverse "$KA" "P7-$$")"
# paid on credit: back to the credit line
ctl credit set-limit "$(msisdn_of "$R")" 100 >/dev/null
RC=$(new_order "$R" 4000)
hold "$(uniq_key)" "$R" "$RC" >/dev/null; psql_val "SELECT spaza_credit_post($RC)" >/dev/null
check_eq "cancelling an order paid on credit refunds to the credit line" "order #$RC cancelled, R40.00 refunded to the credit line|0" \
	"$(ctl order cancel "$RC")|$(psql_val "SELECT used_cents FROM spaza_credit_balance($R)")"
# unpaid, with a pending hold and an open slip: both voided
RU=$(new_order "$R" 3000)
hold "$(uniq_key)" "$R" "$RU" >/dev/null; RUREF=$(slip "$RU")
check_eq "cancelling an unpaid order refunds nothing" "order #$RU cancelled (it was not paid: nothing to refund)" "$(ctl order cancel "$RU")"
check_eq "... its hold and slip are voided, the credit released" "voided|voided|0" \
	"$(psql_val "SELECT status FROM holds WHERE order_id = $RU")|$(psql_val "SELECT status FROM slips WHERE ref = '$RUREF'")|$(psql_val "SELECT used_cents FROM spaza_credit_balance($R)")"
check_eq "... and its slip can no longer be paid" "not_payable" "$(pay_outcome "$KA" "P8-$$" "$RUREF" 3000 h8)"
out=$(ctl order cancel "$S1" 2>&1); rc=$?
check_eq "a shipped order cannot be cancelled (exit 1)" "1" "$rc"

# ---- check digits: C and SQL agree -------------------------------------------------------

psql_val "SELECT 'luhn ' || d || ' ' || spaza_luhn_check_digit(d) FROM (
		SELECT substr(translate(md5(g::text), 'abcdef', '014725'), 1, 1 + g % 32) AS d FROM generate_series(1, 5000) g) x
	UNION ALL SELECT 'luhn ' || g || ' ' || spaza_luhn_check_digit(g::text) FROM generate_series(0, 2999) g
	UNION ALL SELECT 'ref ' || r || ' ' || a || ' ' || spaza_easypay_ref(r, a) FROM (
		SELECT (g * 7919) % 10000 AS r, (g::bigint * 104729 * 31) % 1000000000 AS a FROM generate_series(1, 5000) g) x" \
	> "$T_TMP/digits.txt"
"$SPAZA_TOP/tests/easypay_test" --check "$T_TMP/digits.txt" | grep -E '^(PASS|FAIL)'

# ---- the ledger check --------------------------------------------------------------------

ledger_pass "spazactl ledger check passes after all of the above"
check_has "... and says so" "every invariant holds" "$(cat "$T_TMP/check.out")"
out=$(psql -X -qtA 2>&1 <<SQL
BEGIN;
INSERT INTO ledger_txns (idem_key, reason, content_hash) VALUES ('it-ledger-bad-$$', 'refund', sha256('x')) RETURNING id \\gset
INSERT INTO ledger_entries (txn_id, account_id, amount_cents)
	VALUES (:id, (SELECT id FROM ledger_accounts WHERE kind = 'sales'), 100);
COMMIT;
SQL
)
check_has "an unbalanced transaction cannot commit" "does not balance (1 entries summing to 100)" "$out"
out=$(psql -X -qtA -c "UPDATE ledger_entries SET amount_cents = amount_cents + 1 WHERE id = (SELECT min(id) FROM ledger_entries)" 2>&1)
check_has "a ledger entry cannot be edited" "append-only" "$out"

# A corrupted copy: one violation of each invariant, which the checker must name.
SCRATCH=spaza_ledger_scratch_$$
psql -X -q -d postgres -c "CREATE DATABASE $SCRATCH" >/dev/null
at_exit "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $SCRATCH WITH (FORCE)' >/dev/null 2>&1"
pg_dump | psql -X -q -v ON_ERROR_STOP=1 -d "$SCRATCH" >/dev/null 2>"$T_TMP/restore.err"
check_eq "the database copies into a scratch database" "" "$(grep -v '^$' "$T_TMP/restore.err")"
sed "s/dbname=[^ ]*/dbname=$SCRATCH/" "$CFG" > "$T_TMP/scratch.cfg"
out=$("$SPAZACTL" -c "$T_TMP/scratch.cfg" ledger check 2>&1); rc=$?
check_eq "the untouched copy passes" "0" "$rc"
psql -X -q -v ON_ERROR_STOP=1 -d "$SCRATCH" >"$T_TMP/corrupt.out" 2>&1 <<SQL
-- with triggers off (as a careless restore or a manual fix might leave it)
SET session_replication_role = replica;
INSERT INTO ledger_entries (txn_id, account_id, amount_cents)
	VALUES ((SELECT max(id) FROM ledger_txns WHERE reason = 'voucher_sale'), (SELECT id FROM ledger_accounts WHERE kind = 'sales'), 1);
ALTER TABLE credit_lines DROP CONSTRAINT credit_used_within_limit;
UPDATE credit_lines SET used_cents = limit_cents + 100 WHERE customer_id = $D;
UPDATE vouchers SET remaining_cents = remaining_cents - 100 WHERE pin_hmac = decode('$(pin_hmac "${PINS[0]}")', 'hex');
DROP INDEX till_payments_one_paid_per_slip;
INSERT INTO till_payments (retailer_id, till_payment_id, slip_id, amount_cents, status, request_hash, response, ledger_txn_id)
	SELECT retailer_id, till_payment_id || '-twice', slip_id, amount_cents, 'paid', request_hash, response, ledger_txn_id
	FROM till_payments WHERE till_payment_id = 'P3-$$';
UPDATE orders SET status = 'paid' WHERE id = $OE;
SQL
check_eq "the copy is corrupted" "0" "$?"
out=$("$SPAZACTL" -c "$T_TMP/scratch.cfg" ledger check 2>&1); rc=$?
check_eq "the ledger check fails on the corrupted copy (exit 1)" "1" "$rc"
check_has "... naming the unbalanced transaction" "VIOLATION: unbalanced transaction: transaction" "$out"
check_has "... and the sum over all postings" "VIOLATION: ledger does not sum to zero: all entries sum to 1" "$out"
check_has "... the credit line over its limit" "VIOLATION: credit line used beyond its limit: customer $D" "$out"
check_has "... the voucher out of step with its value" "VIOLATION: voucher redeemed beyond its value" "$out"
check_has "... the slip paid twice" "VIOLATION: slip paid more than once: slip $REF: 2 payments" "$out"
check_has "... and the paid order with no payment" "VIOLATION: paid order not paid exactly once: order $OE (paid): paid 0," "$out"
check_has "... counting them" "ledger check: 7 violations" "$out"
ledger_pass "the real database still passes"
