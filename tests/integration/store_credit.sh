# Store credit spent at checkout (pay_with -> Store credit): alone when it covers the order,
# or for part of it with the rest by slip or by credit; the money adds up through a till's
# payment of the rest, and a customer with none is told so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

P=$(t_phone 71)
O1=$(money_order_ussd "$P")
C=$(money_cid "$P")
check_match "an order of R55.98 to pay" '^[0-9]+$' "$O1"
r=$(money_pay "$P" "3*$O1*4")
check_eq "with no store credit the customer is told so" "END You have no store credit. Please choose another way to pay." "$r"
check_eq "... and nothing is paid" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $O1")"

money_store_credit "$C" 3000
r=$(money_pay "$P" "3*$O1*4")
check_eq "R30 of store credit pays part and offers the rest by credit, slip or voucher" \
	"CON R30.00 of store credit paid part of order #$O1. Pay the rest, R25.98, with:"$'\n'"1. Credit"$'\n'"2. Barcode slip"$'\n'"3. Voucher"$'\n'"0. Back" "$r"
check_eq "... the store credit is spent" 0 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($C)")"
check_eq "... the order waits for the rest" "awaiting_payment|3000" "$(psql_val "SELECT status || '|' || store_credit_cents FROM orders WHERE id = $O1")"
r=$(money_pay "$P" "3*$O1")
check_eq "Pay of the part-paid order shows what is still due, not the total" \
	"CON Pay R25.98 for order #$O1 with:" "$(head -1 <<<"$r")"
r=$(money_pay "$P" "3*$O1*3")
check_match "a slip for the rest is for R25.98" "^END Pay R25\.98 at any till with slip 9[0-9]{3} [0-9]{4} [0-9]{4} [0-9]{3} by " "$r"
REF=$(psql_val "SELECT ref FROM slips WHERE order_id = $O1")
check_eq "... in the database too" 2598 "$(psql_val "SELECT amount_cents FROM slips WHERE order_id = $O1")"
sms=$(psql_val "SELECT text FROM sms_messages WHERE customer_id = $C AND mo_id LIKE 'slip:$O1:%'")
check_match "the slip number, grouped in fours, and its pay-by date come by SMS" \
	"^Spaza: pay R25\.98 for order #$O1 at any till with slip ${REF:0:4} ${REF:4:4} ${REF:8:4} ${REF:12:3} by 20[0-9]{2}-[0-9]{2}-[0-9]{2}\.$" "$sms"
money_pay "$P" "3*$O1*3" >/dev/null
check_eq "... once, however often the slip is shown" 1 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $C AND mo_id LIKE 'slip:$O1:%'")"
KEY=$(ctl retailer add "Store credit test $$" 2>&1 | sed -n 's/^key id *//p')
check_eq "a till takes the rest on the slip" "paid" "$(psql_val "SELECT outcome FROM spaza_till_pay('$KEY', 'sc-$$', '$REF', 2598, 'h')")"
check_eq "... and the order is paid: R30 store credit and R25.98 cash" "paid|3000|5598" \
	"$(psql_val "SELECT o.status || '|' || o.store_credit_cents || '|' || (SELECT sum(spaza__txn_sales(t.id)) FROM ledger_txns t
		WHERE t.order_id = o.id) FROM orders o WHERE o.id = $O1")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes with a split payment" 0 "$rc"

# store credit that covers the order
money_store_credit "$C" 6000
O2=$(money_order_ussd "$P")
r=$(money_pay "$P" "3*$O2*4")
check_eq "store credit that covers the order pays it" "END Paid. Order #$O2 paid with R55.98 of store credit." "$r"
check_eq "... the order is paid by store credit" "paid|store_credit" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $O2")"
check_eq "... R4.02 is left" 402 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($C)")"

# the rest by credit, confirmed
ctl credit set-limit "$(e164 "$P")" 100 >/dev/null
O3=$(money_order_ussd "$P")
r=$(money_pay "$P" "3*$O3*4*1")
check_eq "R4.02 of store credit, then Credit asks to confirm the rest" \
	"CON Pay R51.96 for order #$O3 from your credit? Available after: R48.04."$'\n'"1. Confirm"$'\n'"2. Cancel" "$r"
r=$(money_pay "$P" "3*$O3*2")
check_eq "in a new session, Credit asks for what is still due, not the total" \
	"CON Pay R51.96 for order #$O3 from your credit? Available after: R48.04."$'\n'"1. Confirm"$'\n'"2. Cancel" "$r"
r=$(money_pay "$P" "3*$O3*2*1")
check_eq "confirmed, the rest is paid from credit" "END Order #$O3 (R51.96) paid from your credit. Still available: R48.04." "$r"
check_eq "... the customer owes R51.96" 5196 "$(psql_val "SELECT owed_cents FROM spaza_credit_balance($C)")"

# an order partly paid by store credit, cancelled unpaid, gives it back
money_store_credit "$C" 1000
O4=$(money_order_ussd "$P")
money_pay "$P" "3*$O4*4" >/dev/null
check_eq "R10 of store credit on another order" 0 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($C)")"
ctl order cancel "$O4" >/dev/null
check_eq "cancelled unpaid, the R10 comes back as store credit" 1000 "$(psql_val "SELECT store_credit_cents FROM spaza_credit_balance($C)")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes after all of it" 0 "$rc"

# store credit, then a voucher for the rest (sql/016_wiring.sql): the voucher pays what is due
"$SPAZACTL" -c "$SPAZA_CFG" vouchers issue --count 1 --value 50 --out "$T_TMP/pins" >/dev/null 2>&1
PIN=$(grep -oE '[0-9]{16}' "$T_TMP/pins" | head -1)
check_match "a R50 voucher for the test" '^[0-9]{16}$' "$PIN"
O5=$(money_order_ussd "$P")	# the R10 of store credit the cancelled order gave back
r=$(money_pay "$P" "3*$O5*4*3*$PIN")
check_eq "R10 of store credit, then a voucher pays the rest, R45.98" \
	"END Paid. Order #$O5 R45.98 paid by voucher. Left on the voucher: R4.02." "$r"
check_eq "... the order is paid: R10 store credit and R45.98 from the voucher" "paid|1000|5598" \
	"$(psql_val "SELECT o.status || '|' || o.store_credit_cents || '|' || (SELECT sum(spaza__txn_sales(t.id)) FROM ledger_txns t
		WHERE t.order_id = o.id) FROM orders o WHERE o.id = $O5")"
check_eq "... and the voucher has R4.02 left" 402 "$(psql_val "SELECT remaining_cents FROM vouchers ORDER BY id DESC LIMIT 1")"
r=$(money_pay "$P" "3*$O5*4*3*$PIN")
check_eq "paying it again is refused, nothing taken twice" "END Order #$O5 is Paid." "$r"
check_eq "... the voucher still has R4.02" 402 "$(psql_val "SELECT remaining_cents FROM vouchers ORDER BY id DESC LIMIT 1")"
r=$(money_pay "$P" "2*1")
check_eq "the order's detail says it was paid by store credit and a voucher" "CON #$O5 Paid, store credit+voucher R55.98" "$(head -1 <<<"$r")"
detail_path() { # detail_path ORDER: My orders' keys to that order's detail (three a page, newest first)
	local pos p="2"
	pos=$(psql_val "SELECT count(*) FROM orders WHERE customer_id = $C AND id >= $1")
	for _ in $(seq 1 $(((pos - 1) / 3))); do p+="*98"; done
	echo "$p*$(((pos - 1) % 3 + 1))"
}
r=$(money_pay "$P" "$(detail_path "$O3")")
check_eq "... one paid by store credit and credit says so" "CON #$O3 Paid, store credit+credit R55.98" "$(head -1 <<<"$r")"
r=$(money_pay "$P" "$(detail_path "$O2")")
check_eq "... and one paid by store credit alone" "CON #$O2 Paid, by store credit R55.98" "$(head -1 <<<"$r")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes after store credit and a voucher" 0 "$rc"
