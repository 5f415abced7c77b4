# Cash on delivery (sql/012_money_care.sql, spazactl order cod-paid): an order the customer
# chose to pay on delivery is paid, once, when a courier or a retailer confirms the cash;
# every other order is refused; and by USSD, pay_with offers it when the shop enables `cod`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

A=$(money_customer)
O=$(money_order "$A" 2500)
out=$(ctl order cod-paid "$O" --by "Sipho (courier)" 2>&1); rc=$?
check_eq "an order not chosen for cash on delivery is refused (exit 1)" 1 "$rc"
check_has "... saying so" "is not to be paid cash on delivery" "$out"
check_eq "... and stays unpaid" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $O")"
check_eq "the customer chooses cash on delivery" "ok 2500" "$(psql_val "SELECT outcome || ' ' || amount_cents FROM spaza_cod_choose($A, $O)")"
check_eq "... the order waits for the cash, marked cod" "awaiting_payment|cod" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $O")"
B=$(money_customer)
check_eq "another customer cannot choose it for A's order" "not_payable" "$(psql_val "SELECT outcome FROM spaza_cod_choose($B, $O)")"
out=$(ctl order cod-paid "$O" --by "Sipho (courier)" 2>&1); rc=$?
check_eq "the courier confirms the cash (exit 0)" 0 "$rc"
check_has "... R25 received by Sipho" "R25.00 cash on delivery received by Sipho (courier)" "$out"
check_eq "... the order is paid, cash on delivery" "paid|cod" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $O")"
check_eq "... one posting for it on the ledger" 1 "$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O AND reason = 'cod_payment'")"
out=$(ctl order cod-paid "$O" --by "Shoprite Soweto" 2>&1); rc=$?
check_eq "a second confirmation (the retailer too) succeeds" 0 "$rc"
check_has "... naming who confirmed first" "received by Sipho (courier)" "$out"
check_eq "... and moves no money again" 1 "$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O AND reason = 'cod_payment'")"
check_has "the customer's timeline shows it" "paid R25.00 for order #$O by cash on delivery" \
	"$(psql_val "SELECT string_agg(summary, ';') FROM timeline_money WHERE customer_id = $A")"
out=$(ctl order cod-paid "$O" 2>&1); rc=$?
check_eq "cod-paid without --by is a usage error (exit 2)" 2 "$rc"
out=$(ctl order cod-paid 99999999 --by x 2>&1); rc=$?
check_eq "no such order (exit 1)" 1 "$rc"
# a cancelled COD order cannot be settled
O2=$(money_order "$A" 300)
psql_val "SELECT outcome FROM spaza_cod_choose($A, $O2)" >/dev/null
ctl order cancel "$O2" >/dev/null
out=$(ctl order cod-paid "$O2" --by courier 2>&1); rc=$?
check_eq "a cancelled cash-on-delivery order is refused" "1" "$rc"
check_has "... as not awaiting payment" "is not awaiting payment" "$out"
check_has "the audit log has the confirmation" "order cod-paid $O --by Sipho (courier)" "$(ctl audit 2>&1)"
