# Loyalty points (sql/018_profile_loyalty.sql): earned per rand when an order becomes paid,
# once; taken back in proportion to a refund; expired oldest first after loyalty expiry-days,
# once a day; spent at checkout on USSD, alone or for part (sql/021, 1 point = 1 cent) and given
# back by a refund or a cancellation; every movement a ledger posting with its key, and the
# ledger check covering them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

lcheck() { ctl ledger check >/dev/null; }
points() { points_settled; ctl loyalty show "$(msisdn_of "$1")" | sed -n '1s/^.*: \(-\?[0-9]*\) points$/\1/p'; }
ppr=$(psql_val "SELECT points_per_rand FROM loyalty_rules")
check_eq "spazad wrote the configured rate (loyalty points-per-rand 1 by default)" 1 "$ppr"

# ---- earning: once per paid order
A=$(money_customer)
V=$(money_voucher 10000)
O=$(money_order "$A" 5550)
check_eq "no points before the order is paid" 0 "$(points "$A")"
K=$(money_key)
check_eq "a R55.50 order paid by voucher" paid "$(psql_val "SELECT outcome FROM spaza_voucher_redeem('$K', decode('$V', 'hex'), $A, $O)")"
check_eq "... earns 55 points (one per whole rand)" 55 "$(points "$A")"
psql_val "SELECT outcome FROM spaza_voucher_redeem('$K', decode('$V', 'hex'), $A, $O)" >/dev/null
check_eq "the payment retried with its key earns nothing more" 55 "$(points "$A")"
ctl order status "$O" shipped >/dev/null
check_eq "shipping the order earns nothing more" 55 "$(points "$A")"
check_eq "one earning posting, keyed by the order" 1 \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE idem_key = 'loyalty:earn:$O' AND reason = 'loyalty_earn'")"
check_match "loyalty show lists the earning with its order" "loyalty_earn +\\+55  order #$O" "$(ctl loyalty show "$(msisdn_of "$A")")"
check_true "the ledger check passes after earning" "ledger check failed" lcheck

r=$(ussd "$(t_sid)" "$(msisdn_of "$A")" "7*2")
check_eq "My account > My points on USSD shows the 55 points" \
	"CON You have 55 loyalty points. You earn points on every paid order."$'\n'"1. Enter a referral code"$'\n'"2. Offers by SMS"$'\n'"0. Back" "$r"

# ---- the balance by SMS: POINTS, AMAPHUZU, PUNTE
mo() {
	curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$1" --data-urlencode "to=31555" \
		--data-urlencode "text=$2" --data-urlencode "meta=" --data-urlencode "id=it-loyalty-$$-$RANDOM$RANDOM" \
		--data-urlencode "smsc=it-smsc" "$SPAZA_URL/kannel/mo"
}
check_eq "SMS POINTS answers with the balance" "Spaza: you have 55 loyalty points. You earn points on every paid order." \
	"$(mo "$(msisdn_of "$A")" "points")"
mo "$(msisdn_of "$A")" "lang zu" >/dev/null
check_eq "AMAPHUZU (isiZulu) answers in isiZulu" \
	"Spaza: unamaphuzu okwethembeka angu-55. Uthola amaphuzu ku-oda ngalinye olikhokhile." \
	"$(mo "$(msisdn_of "$A")" "amaphuzu")"
mo "$(msisdn_of "$A")" "lang af" >/dev/null
check_eq "PUNTE (Afrikaans) answers in Afrikaans" \
	"Spaza: jy het 55 lojaliteitspunte. Jy verdien punte op elke betaalde bestelling." \
	"$(mo "$(msisdn_of "$A")" "Punte")"

# ---- refund reversal: in proportion, never below zero
out=$(ctl refund "$O" --amount 22.20 --reason "part returned" 2>&1)
check_has "a part refund of R22.20" "refunded R22.20" "$out"
check_eq "... takes back 22 of the 55 points (22.20/55.50 of them)" 33 "$(points "$A")"
out=$(ctl refund "$O" --reason "the rest returned" 2>&1)
check_eq "refunding the rest takes back the other 33" 0 "$(points "$A")"
check_eq "two reversal postings for the order" 2 \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE reason = 'loyalty_reverse' AND result->>'order' = '$O'")"
check_true "the ledger check passes after the reversals" "ledger check failed" lcheck

# ---- cancelling a paid order (its whole total back) takes back every point
B=$(money_customer)
V2=$(money_voucher 3000)
O2=$(money_order "$B" 3000)
psql_val "SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$V2', 'hex'), $B, $O2)" >/dev/null
check_eq "a R30 order earns 30 points" 30 "$(points "$B")"
ctl order cancel "$O2" >/dev/null 2>&1
check_eq "cancelling it (refunded whole) takes the 30 back" "cancelled 0" "$(psql_val "SELECT status FROM orders WHERE id = $O2") $(points "$B")"

# ---- the points are owed by the payment and posted by spazad's sweep (sql/028); a refund that
# comes before the sweep posts them first and then takes them back, all in its transaction
D=$(money_customer)
V4=$(money_voucher 2000)
O4=$(money_order "$D" 2000)
out=$(psql -X -qtA -v ON_ERROR_STOP=1 <<SQL
BEGIN;
SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$V4', 'hex'), $D, $O4);
SELECT 'owed ' || points FROM points_due WHERE order_id = $O4;
SELECT 'earned ' || count(*) FROM ledger_txns WHERE idem_key = 'loyalty:earn:$O4';
SELECT outcome FROM spaza_refund('$(money_key)', $O4, NULL, 'store_credit', 'returned at once');
COMMIT;
SQL
)
check_eq "inside the payment's transaction the 20 points are owed, not yet posted" \
	"paid owed 20 earned 0 refunded" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
check_eq "the refund at once posted the owed 20 and took them back: nothing owed, 0 points" \
	"0 1 1 0" "$(psql_val "SELECT (SELECT count(*) FROM points_due WHERE order_id = $O4) || ' ' ||
	(SELECT count(*) FROM ledger_txns WHERE idem_key = 'loyalty:earn:$O4') || ' ' ||
	(SELECT count(*) FROM ledger_txns WHERE reason = 'loyalty_reverse' AND result->>'order' = '$O4')") $(points "$D")"
check_true "the ledger check passes after a refund that came before the sweep" "ledger check failed" lcheck

# ---- expiry: oldest first, once a day
C=$(money_customer)
V3=$(money_voucher 4000)
O3=$(money_order "$C" 4000)
psql_val "SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$V3', 'hex'), $C, $O3)" >/dev/null
check_eq "a R40 order earns 40 points" 40 "$(points "$C")"
ctl loyalty expire >/dev/null
check_eq "points a day old do not expire" 40 "$(points "$C")"
later=$(psql_val "SELECT to_char(now() + interval '366 days', 'YYYY-MM-DD\"T\"HH24:MI:SS')")
out=$(ctl loyalty expire --as-of "$later")
check_match "a year and a day later they expire" '^expired [0-9]+ points of [0-9]+ customers$' "$out"
check_eq "... all 40 of them" 0 "$(points "$C")"
ctl loyalty expire --as-of "$later" >/dev/null
check_eq "running the expiry again the same day posts nothing more" 1 \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE reason = 'loyalty_expire' AND result->>'customer' = '$C'")"
out=$(ctl loyalty expire --as-of yesterday-ish 2>&1); rc=$?
check_eq "a malformed --as-of is an error, not a crash" 1 "$rc"

out=$(ctl ledger check); rc=$?
check_eq "the ledger check passes with earning, reversal and expiry postings" 0 "$rc"
check_has "... and says it covers the points" "loyalty points never negative" "$out"

# ---- the check sees a broken points invariant (the owner can post one, bypassing the rules)
D=$(money_customer)
psql_val "SELECT spaza__points_post('it-loyalty-bad-$$', 'loyalty_expire', NULL, $D, -5)" >/dev/null
out=$(ctl ledger check); rc=$?
check_eq "a customer driven below zero points fails the ledger check" 1 "$rc"
check_has "... naming the violation" "VIOLATION: customer holds negative points: customer $D: -5 points" "$out"
psql_val "SELECT spaza__points_post('it-loyalty-fix-$$', 'loyalty_earn', NULL, $D, 5)" >/dev/null
check_true "the check passes again once the points are put back" "ledger check failed" lcheck

# ---- spending points at checkout (sql/021): Pay > 6. Points, 1 point = 1 cent
S=$(money_customer)
SP=$(msisdn_of "$S")
psql_val "SELECT spaza__points_post('it-loyalty-gift-$$', 'loyalty_earn', NULL, $S, 3000)" >/dev/null
O5=$(money_order "$S" 2000)
sid=$(t_sid)
r=$(ussd "$sid" "$SP" "3*$O5*6")
check_eq "3000 points pay a R20 order whole" "END Paid. Order #$O5 paid with 2000 points." "$r"
check_eq "... the order is paid with points" "paid|points|2000" \
	"$(psql_val "SELECT status || '|' || payment_method || '|' || points_cents FROM orders WHERE id = $O5")"
check_eq "... 2000 points gone, 20 earned by the paid order" 1020 "$(points "$S")"
r=$(ussd "$sid" "$SP" "3*$O5*6")
check_eq "the hop repeated answers the same" "END Paid. Order #$O5 paid with 2000 points." "$r"
check_eq "... and spends nothing twice: one points payment, keyed by the dialogue" "1 1020" \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O5 AND reason = 'points_payment'") $(points "$S")"
check_true "the ledger check passes after a points payment" "ledger check failed" lcheck

O6=$(money_order "$S" 5000)
ctl credit set-limit "$SP" 100 >/dev/null
sid=$(t_sid)
r=$(ussd "$sid" "$SP" "3*$O6*6")
check_eq "1020 points pay part of a R50 order and offer the rest by credit, slip or cash" \
	"CON 1020 points paid R10.20. Pay the rest of order #$O6, R39.80, with:"$'\n'"1. Credit"$'\n'"2. Barcode slip"$'\n'"3. Cash on delivery"$'\n'"0. Back" "$r"
check_eq "... the order waits for the rest, every point spent" "awaiting_payment|1020 0" \
	"$(psql_val "SELECT status || '|' || points_cents FROM orders WHERE id = $O6") $(points "$S")"
r=$(ussd "$sid" "$SP" "3*$O6*6*1")
check_eq "Credit asks to confirm the rest" \
	"CON Pay R39.80 for order #$O6 from your credit? Available after: R60.20."$'\n'"1. Confirm"$'\n'"2. Cancel" "$r"
r=$(ussd "$sid" "$SP" "3*$O6*6*1*1")
check_eq "confirmed, the rest is paid from credit" "END Order #$O6 (R39.80) paid from your credit. Still available: R60.20." "$r"
check_eq "... the order is paid, and earns its 50 points" "paid 50" "$(psql_val "SELECT status FROM orders WHERE id = $O6") $(points "$S")"
r=$(ussd "$(t_sid)" "$SP" "2*1")
check_eq "the order's detail says points and credit paid it" "CON #$O6 Paid, points+credit R50.00" "$(head -1 <<<"$r")"
check_true "the ledger check passes after points and credit for one order" "ledger check failed" lcheck

out=$(ctl refund "$O5" --reason "returned" 2>&1)
check_has "refunding the points-paid order" "refunded R20.00" "$out"
check_eq "... gives the 2000 points back as points (less the 20 the order earned)" "points 2030" \
	"$(psql_val "SELECT string_agg(refund_to, ',') FROM refunds WHERE order_id = $O5") $(points "$S")"
check_eq "... and tells the customer the points are theirs again (SMS)" 1 "$(psql_val "SELECT count(*) FROM sms_messages
	WHERE customer_id = $S AND text LIKE '%points worth R20.00 you paid order #$O5 with are yours again%'")"
ctl refund "$O6" --reason "returned" >/dev/null 2>&1
check_eq "refunding the mixed order: the credit part to credit, the points part as points" "credit,points 3000" \
	"$(psql_val "SELECT string_agg(refund_to, ',' ORDER BY refund_to) FROM refunds WHERE order_id = $O6") $(points "$S")"
check_true "the ledger check passes after the refunds" "ledger check failed" lcheck

O7=$(money_order "$S" 4000)
r=$(ussd "$(t_sid)" "$SP" "3*$O7*6")
check_has "3000 points pay part of a R40 order" "3000 points paid R30.00." "$r"
ctl order cancel "$O7" >/dev/null 2>&1
check_eq "cancelling the unpaid order gives the points back" "cancelled 3000" \
	"$(psql_val "SELECT status FROM orders WHERE id = $O7") $(points "$S")"
out=$(ctl ledger check); rc=$?
check_eq "the ledger check passes after spending, refunding and cancelling points" 0 "$rc"

# ---- the points screens in isiZulu and Afrikaans: paid whole, and part with the rest to choose
for l in zu af; do
	L=$(money_customer)
	psql_val "UPDATE customers SET lang = '$l' WHERE id = $L" >/dev/null
	psql_val "SELECT spaza__points_post('it-loyalty-gift-$l-$$', 'loyalty_earn', NULL, $L, 1500)" >/dev/null
	O8=$(money_order "$L" 1000)
	O9=$(money_order "$L" 2000)
	r1=$(ussd "$(t_sid)" "$(msisdn_of "$L")" "3*$O8*6")
	points_settled	# the 10 points O8 earned are posted a moment after it was paid (sql/028)
	r2=$(ussd "$(t_sid)" "$(msisdn_of "$L")" "3*$O9*6")
	if [ $l = zu ]; then
		check_eq "isiZulu: points pay the whole order" "END Kukhokhiwe. I-oda #$O8 likhokhwe ngamaphuzu angu-1000." "$r1"
		check_eq "isiZulu: points pay part, the rest to choose" \
			"CON Amaphuzu akhokhe R5.10. Khokha okusele kwe-oda #$O9, R14.90, nge:"$'\n'"1. Isikweletu"$'\n'"2. Isiliphu sebhakhodi"$'\n'"3. Imali uma kulethwa"$'\n'"0. Emuva" "$r2"
	else
		check_eq "Afrikaans: points pay the whole order" "END Betaal. Bestelling #$O8 met 1000 punte betaal." "$r1"
		check_eq "Afrikaans: points pay part, the rest to choose" \
			"CON 510 punte het R5.10 betaal. Betaal die res van #$O9, R14.90, met:"$'\n'"1. Krediet"$'\n'"2. Strokie met strepieskode"$'\n'"3. Kontant by aflewering"$'\n'"0. Terug" "$r2"
	fi
done
check_true "the ledger check passes after the isiZulu and Afrikaans points payments" "ledger check failed" lcheck
