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

# ---- a "charged twice" care ticket runs the check for its customer at once (sql/016_wiring.sql)
ticket_state() { psql_val "SELECT state FROM care_tickets WHERE id = $1"; }
ticket_checked() { psql_val "SELECT 1 FROM care_messages WHERE ticket_id = $1 AND author = 'double-charge check'" | grep -q 1; }
dc_sms() { psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $1 AND channel = 'money' AND text LIKE '%paid twice%'"; }
sms_is() { [ "$(dc_sms "$1")" = "$2" ]; }
# E: paid twice (cash on delivery, then again behind the ledger's back); the customer says so by USSD
E=$(money_customer)
OE=$(money_order "$E" 800)
psql_val "SELECT outcome FROM spaza_cod_choose($E, $OE)" >/dev/null
ctl order cod-paid "$OE" --by courier >/dev/null
plant order_payment "$OE" 800
r=$(money_pay "$(msisdn_of "$E")" "5*1*$OE*3")
TE=$(sed -n 's/^END Thank you\. Ticket #\([0-9]*\) is open.*/\1/p' <<<"$r")
check_match "charged twice by USSD opens a ticket" "^[0-9]+$" "$TE"
wait_for 15 ticket_checked "${TE:-0}"
check_eq "... the check resolves it at once" resolved "$(ticket_state "${TE:-0}")"
check_eq "... having refunded the double charge once" 1 "$(psql_val "SELECT count(*) FROM refunds f JOIN double_charges d
	ON d.dup_txn_id = f.payment_txn_id WHERE f.duplicate AND d.order_id = $OE")"
check_match "... with the evidence on the ticket" "^double-charge check: order #$OE paid twice \(payment [0-9]+\): R8\.00 refunded to [a-z ]+$" \
	"$(psql_val "SELECT text FROM care_messages WHERE ticket_id = ${TE:-0} AND step = 'resolved'")"
wait_for 10 sms_is "$E" 1
check_eq "... and the customer is told by SMS" 1 "$(dc_sms "$E")"
check_eq "... the refund is on their timeline" 1 "$(ctl customer show "$(msisdn_of "$E")" | grep -c "  refund .*R8\.00 for order #$OE")"
# the customer reports it again: a new ticket, nothing refunded twice
r=$(money_pay "$(msisdn_of "$E")" "5*1*$OE*3")
TE2=$(sed -n 's/^END Thank you\. Ticket #\([0-9]*\) is open.*/\1/p' <<<"$r")
wait_for 15 ticket_checked "${TE2:-0}"
check_has "charged twice again: the check finds it refunded before" "R8.00 refunded before" \
	"$(psql_val "SELECT text FROM care_messages WHERE ticket_id = ${TE2:-0} AND author = 'double-charge check'")"
check_eq "... no second refund" 1 "$(psql_val "SELECT count(*) FROM refunds WHERE duplicate AND order_id = $OE")"
check_eq "... no second SMS" 1 "$(dc_sms "$E")"

# F: a clean customer says charged twice: the ticket stays open for a person, with the finding
F=$(money_customer)
OF=$(money_order "$F" 600)
psql_val "SELECT outcome FROM spaza_cod_choose($F, $OF)" >/dev/null
ctl order cod-paid "$OF" --by courier >/dev/null
r=$(money_pay "$(msisdn_of "$F")" "5*1*$OF*3")
TF=$(sed -n 's/^END Thank you\. Ticket #\([0-9]*\) is open.*/\1/p' <<<"$r")
wait_for 15 ticket_checked "${TF:-0}"
check_eq "charged twice on clean data: the ticket stays open" open "$(ticket_state "${TF:-0}")"
check_eq "... with the detector's finding noted" "double-charge check: no double charge found" \
	"$(psql_val "SELECT text FROM care_messages WHERE ticket_id = ${TF:-0} AND author = 'double-charge check'")"
check_eq "... nothing refunded" 0 "$(psql_val "SELECT count(*) FROM refunds WHERE order_id = $OF")"

# G: staff open the ticket (a call): spazactl runs the same check
G=$(money_customer)
OG=$(money_order "$G" 300)
psql_val "SELECT outcome FROM spaza_cod_choose($G, $OG)" >/dev/null
ctl order cod-paid "$OG" --by courier >/dev/null
plant order_payment "$OG" 300
out=$(ctl care open "$(msisdn_of "$G")" --order "$OG" charged_twice "called: paid twice" 2>&1); rc=$?
check_eq "care open charged_twice succeeds" 0 "$rc"
check_match "... and says the check refunded it and resolved the ticket" \
	"ticket #[0-9]+ resolved: double-charge check: order #$OG paid twice \(payment [0-9]+\): R3\.00 refunded to [a-z ]+" "$out"
check_eq "... the customer told by SMS once" 1 "$(dc_sms "$G")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes after the tickets' refunds" 0 "$rc"
