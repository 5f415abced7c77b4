# The credit line seen and repaid (spaza_credit_repay, reachable at last): My account on USSD
# shows limit, used, available and due with store credit; Repay credit takes a voucher PIN
# (a wrong one asks again; owing nothing says so); BAL by SMS in every language.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

mo() { # mo PHONE TEXT: one MO as smsbox's get-url sends it; prints the reply body
	curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$1" --data-urlencode "to=31555" \
		--data-urlencode "text=$2" --data-urlencode "meta=" --data-urlencode "id=it-repay-$$-$RANDOM$RANDOM" \
		--data-urlencode "smsc=it-smsc" "$SPAZA_URL/kannel/mo"
}
# vouchers the daemon can check: under the suite's own secrets
"$SPAZACTL" -c "$SPAZA_CFG" vouchers issue --count 2 --value 30 --out "$T_TMP/pins" >/dev/null 2>&1
mapfile -t PINS < <(grep -oE '^[0-9]{16}' "$T_TMP/pins")
check_eq "two R30 vouchers for the test" 2 "${#PINS[@]}"

P=$(t_phone 72)
r=$(money_pay "$P" "7")
check_eq "My account of a customer with nothing: all zero" \
	"CON Credit limit R0.00"$'\n'"Used R0.00"$'\n'"Available R0.00"$'\n'"Due R0.00"$'\n'"Store credit R0.00"$'\n'"1. Repay credit"$'\n'"2. My points"$'\n'"0. Back" "$r"
r=$(money_pay "$P" "7*1*1*${PINS[0]}")
check_eq "repaying when nothing is owed says so" "END You owe nothing on your credit. Thank you!" "$r"
check_eq "... and takes nothing from the voucher" 3000 "$(psql_val "SELECT remaining_cents FROM vouchers WHERE last4 = '${PINS[0]:12:4}' ORDER BY id DESC LIMIT 1")"

ctl credit set-limit "$(e164 "$P")" 100 >/dev/null
O=$(money_order_ussd "$P")
money_pay "$P" "3*$O*2*1" >/dev/null
C=$(money_cid "$P")
money_store_credit "$C" 250
r=$(money_pay "$P" "7")
check_eq "My account after a R55.98 credit order and R2.50 store credit" \
	"CON Credit limit R100.00"$'\n'"Used R55.98"$'\n'"Available R44.02"$'\n'"Due R55.98"$'\n'"Store credit R2.50"$'\n'"1. Repay credit"$'\n'"2. My points"$'\n'"0. Back" "$r"
r=$(mo "$P" "BAL")
check_eq "BAL by SMS says the same" \
	"Spaza credit: limit R100.00, used R55.98, available R44.02, due R55.98. Store credit: R2.50." "$r"
r=$(mo "$P" "saldo")
check_eq "... the Afrikaans word works too (the reply in the customer's language)" \
	"Spaza credit: limit R100.00, used R55.98, available R44.02, due R55.98. Store credit: R2.50." "$r"

BAD=${PINS[0]:0:15}$(( (${PINS[0]:15:1} + 1) % 10 ))
r=$(money_pay "$P" "7*1*1*$BAD")
check_eq "a PIN with a wrong check digit asks again" \
	"CON Invalid voucher PIN."$'\n'"Repay credit: enter 16-digit voucher PIN"$'\n'"0. Back" "$r"
r=$(money_pay "$P" "7*1*1*${PINS[0]}")
check_eq "a R30 voucher repays R30 of the R55.98" \
	"END Thank you! R30.00 of your credit repaid. Still due: R25.98. Left on the voucher: R0.00." "$r"
r=$(money_pay "$P" "7*1*1*${PINS[1]}")
check_eq "the next voucher repays the rest and keeps what is over" \
	"END Thank you! R25.98 of your credit repaid. Still due: R0.00. Left on the voucher: R4.02." "$r"
check_eq "the line is free again" "0|10000" "$(psql_val "SELECT owed_cents || '|' || available_cents FROM spaza_credit_balance($C)")"
check_eq "two repayments on the ledger" 2 "$(psql_val "SELECT count(*) FROM ledger_txns t JOIN ledger_entries e ON e.txn_id = t.id
	JOIN ledger_accounts a ON a.id = e.account_id WHERE t.reason = 'credit_repayment' AND a.kind = 'customer_credit' AND a.owner_id = $C")"
check_has "... on the customer's timeline" "repaid R25.98 of credit" \
	"$(psql_val "SELECT string_agg(summary, ';') FROM timeline_money WHERE customer_id = $C")"

# ---- by a barcode slip: paid at a till, it repays the line when the till confirms it
r=$(money_pay "$P" "7*1*2")
check_eq "owing nothing, a repayment slip is not made" "END You owe nothing on your credit. Thank you!" "$r"
O2=$(money_order_ussd "$P")
money_pay "$P" "3*$O2*2*1" >/dev/null
r=$(money_pay "$P" "7*1*2")
check_match "Repay by slip gives a slip for what is owed, grouped in fours, with its pay-by date" \
	"^END Repay R55\.98 at any till with slip 9[0-9]{3} [0-9]{4} [0-9]{4} [0-9]{3} by 20[0-9]{2}-[0-9]{2}-[0-9]{2}\.$" "$r"
REF=$(psql_val "SELECT ref FROM slips WHERE customer_id = $C")
check_match "... a slip of no order, for the customer" '^9[0-9]{14}$' "$REF"
check_has "... and the customer gets it by SMS too" "repay R55.98 of your credit at any till with slip ${REF:0:4} ${REF:4:4}" \
	"$(psql_val "SELECT text FROM sms_messages WHERE customer_id = $C AND channel = 'money' AND mo_id LIKE 'slip:0:%'")"
KEY=$(ctl retailer add "Repay test $$" 2>&1 | sed -n 's/^key id *//p')
check_eq "a till sees it payable" "open|awaiting_payment" "$(psql_val "SELECT status || '|' || order_status FROM spaza_slip_lookup('$REF')")"
check_eq "a wrong amount is refused" "wrong_amount" "$(psql_val "SELECT outcome FROM spaza_till_pay('$KEY', 'rp-$$-1', '$REF', 100, 'h1')")"
check_eq "the till takes the cash" "paid" "$(psql_val "SELECT outcome FROM spaza_till_pay('$KEY', 'rp-$$-2', '$REF', 5598, 'h2')")"
check_eq "... the same payment again is answered as before" "paid" "$(psql_val "SELECT outcome FROM spaza_till_pay('$KEY', 'rp-$$-2', '$REF', 5598, 'h2')")"
check_eq "... and the line is repaid once" "0|10000" "$(psql_val "SELECT owed_cents || '|' || available_cents FROM spaza_credit_balance($C)")"
check_eq "a second payment of the paid slip is refused" "already_paid" "$(psql_val "SELECT outcome FROM spaza_till_pay('$KEY', 'rp-$$-3', '$REF', 5598, 'h3')")"
check_eq "a till cannot reverse a repayment" "not_reversible" "$(psql_val "SELECT outcome FROM spaza_till_reverse('$KEY', 'rp-$$-2', '$REF')")"

mo "$P" "LANG ZU" >/dev/null
r=$(mo "$P" "IBHALANSI")
check_eq "BAL in isiZulu" \
	"Isikweletu se-Spaza: umkhawulo R100.00, osetshenzisiwe R0.00, okusele R100.00, okufanele ukhokhe R0.00. Isikweletu sesitolo: R2.50." "$r"
mo "$P" "TAAL AF" >/dev/null
r=$(mo "$P" "BAL")
check_eq "BAL in Afrikaans (the English word works for everyone)" \
	"Spaza-krediet: limiet R100.00, gebruik R0.00, beskikbaar R100.00, verskuldig R0.00. Winkelkrediet: R2.50." "$r"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes after the repayments" 0 "$rc"
