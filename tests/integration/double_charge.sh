# The double-charge detector (sql/012_money_care.sql, domain/double_charge.c, spazactl care
# double-charges): nothing is invented on the clean data the other tests left; double charges
# planted behind the ledger's back (the payment functions themselves refuse to pay an order
# twice) are noted the moment they are paid, refunded once by the sweep with the customer told
# by SMS, and a second sweep refunds nothing more; an ambiguous case goes to a person.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

out=$(ctl care double-charges 2>&1); rc=$?
check_eq "care double-charges runs on the data the other tests left" 0 "$rc"
check_has "... and finds no confirmed double charge there" "0 confirmed, 0 refunded now" "$out"
refunds_before=$(psql_val "SELECT count(*) FROM refunds WHERE duplicate")

# plant PAYMENT_REASON ORDER AMOUNT: a second payment of an order, posted directly (as a
# bug or a till that slipped past the checks would)
plant() {
	psql_val "SELECT spaza__post('it-dc-plant-$2-$RANDOM$RANDOM', '$1', $2, sha256('$RANDOM'), '{}'::jsonb,
		ARRAY[spaza__account('retailer_clearing', NULL), spaza__account('sales', NULL)], ARRAY[$3::bigint, -$3::bigint])" >/dev/null
}

# A: a COD order, then "paid" again by a slip at a till
A=$(money_customer)
OA=$(money_order "$A" 1200)
psql_val "SELECT outcome FROM spaza_cod_choose($A, $OA)" >/dev/null
ctl order cod-paid "$OA" --by courier >/dev/null
plant slip_payment "$OA" 1200
check_eq "a slip paid after another method is noted at once, on the payment itself" "slip_after_other|found" \
	"$(psql_val "SELECT kind || '|' || status FROM double_charges WHERE order_id = $OA")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "... and the ledger check names the order paid twice until it is refunded" "1" "$rc"
check_has "... (the order)" "order $OA (paid)" "$out"

# B: a store credit order paid again by another payment
B=$(money_customer)
OB0=$(money_order "$B" 500)
psql_val "SELECT outcome FROM spaza_cod_choose($B, $OB0)" >/dev/null
ctl order cod-paid "$OB0" --by courier >/dev/null
ctl refund "$OB0" --to store-credit --reason "setting up store credit" >/dev/null
OB=$(money_order "$B" 400)
check_eq "B pays an order from store credit" "paid" "$(psql_val "SELECT outcome FROM spaza_store_credit_pay('$(money_key)', $B, $OB)")"
plant order_payment "$OB" 400
sms_before=$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id IN ($A, $B) AND channel = 'money'")

out=$(ctl care double-charges --refund 2>&1); rc=$?
check_eq "care double-charges --refund succeeds" 0 "$rc"
check_match "... refunds A's order paid twice" "slip_after_other +refunded +\\$(msisdn_of "$A") +$OA +R12\.00 .*\(refunded now\)" "$out"
check_match "... and B's" "same_order +refunded +\\$(msisdn_of "$B") +$OB +R4\.00 .*\(refunded now\)" "$out"
check_eq "exactly two duplicate refunds were made" "$((refunds_before + 2))" "$(psql_val "SELECT count(*) FROM refunds WHERE duplicate")"
check_eq "... each pointing at the duplicate payment" 2 "$(psql_val "SELECT count(*) FROM refunds f JOIN double_charges d
	ON d.dup_txn_id = f.payment_txn_id WHERE f.duplicate AND d.order_id IN ($OA, $OB)")"
check_eq "A's cash came back as store credit" 1200 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($A)")"
check_eq "each customer is told by SMS" "$((sms_before + 2))" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id IN ($A, $B) AND channel = 'money'")"
check_has "... that the order was paid twice and what came back" "order #$OA was paid twice. We refunded R12.00" \
	"$(psql_val "SELECT text FROM sms_messages WHERE customer_id = $A AND channel = 'money'")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes once they are refunded" "0" "$rc"

out=$(ctl care double-charges --refund 2>&1); rc=$?
check_eq "the sweep again" 0 "$rc"
check_has "... refunds nothing more" "0 refunded now" "$out"
check_eq "... no new refund" "$((refunds_before + 2))" "$(psql_val "SELECT count(*) FROM refunds WHERE duplicate")"
check_eq "... no new SMS" "$((sms_before + 2))" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id IN ($A, $B) AND channel = 'money'")"
check_eq "... A's store credit unchanged" 1200 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($A)")"

# C: a double charge the trigger noted, refunded by the customer's own check (care's ticket)
C=$(money_customer)
OC=$(money_order "$C" 700)
psql_val "SELECT outcome FROM spaza_cod_choose($C, $OC)" >/dev/null
ctl order cod-paid "$OC" --by courier >/dev/null
plant order_payment "$OC" 700
out=$(ctl care double-charges --customer "$(msisdn_of "$C")" --refund 2>&1)
check_match "a customer's own check (care's \"charged twice\" ticket) refunds their double charge" "same_order +refunded +.*$OC.*refunded now" "$out"
check_lacks "... and lists only that customer's" "$(msisdn_of "$A")" "$out"

# D: the same amount by two methods within minutes for two orders: for a person, not refunded
D=$(money_customer)
OD1=$(money_order "$D" 900)
OD2=$(money_order "$D" 900)
psql_val "SELECT outcome FROM spaza_cod_choose($D, $OD1)" >/dev/null
ctl order cod-paid "$OD1" --by courier >/dev/null
ctl refund "$OD1" --amount 9 --to store-credit --reason "returned" >/dev/null
psql_val "SELECT outcome FROM spaza_store_credit_pay('$(money_key)', $D, $OD2)" >/dev/null
out=$(ctl care double-charges --customer "$(msisdn_of "$D")" --refund 2>&1)
check_match "the same amount by two methods within minutes is listed for a person" "same_amount_two_methods +for_a_person +\\$(msisdn_of "$D") +$OD2" "$out"
check_eq "... and not refunded" 0 "$(psql_val "SELECT count(*) FROM refunds WHERE order_id = $OD2")"
out=$(ctl care double-charges --since tomorrow 2>&1); rc=$?
check_eq "--since limits the list (exit 0)" 0 "$rc"
check_has "... to nothing found since tomorrow" "0 confirmed, 0 refunded now, 0 for a person" "$out"
out=$(ctl care double-charges --bogus 2>&1); rc=$?
check_eq "an unknown option is a usage error (exit 2)" 2 "$rc"
check_has "timeline_money shows A's refund of the double charge" "refund R12.00 for order #$OA to store credit" \
	"$(psql_val "SELECT string_agg(summary, ';') FROM timeline_money WHERE customer_id = $A")"
