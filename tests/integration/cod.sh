# Cash on delivery (sql/012_money_care.sql, sql/019_cod_confirm.sql, spazactl order cod-paid): an order the customer
# chose to pay on delivery is paid, once, when a courier or a retailer confirms the cash;
# every other order is refused; and by USSD, pay_with offers it when the shop enables `cod`.
# The till API's and the back office's doors to the same confirmation: cod_till.sh, office_api.sh.
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
check_eq "... one confirmation (sql/019), by spazactl, the shop's own cash (no retailer)" "1|spazactl|Sipho (courier)|" \
	"$(psql_val "SELECT count(*) || '|' || min(via) || '|' || min(confirmed_by) || '|' || coalesce(min(retailer_id)::text, '') FROM cod_confirmations WHERE order_id = $O")"
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

# ---- by USSD: Pay -> 5. Cash on delivery, off by default, on with `payments cash-on-delivery 1`
cod_cfg() { printf 'enable\nconfigure terminal\nspaza\npayments cash-on-delivery %s\nend\nshow running-config\n' "$1" |
	"$SPAZACTL" -c "$SPAZA_CFG" vty 2>&1; }
P=$(t_phone 73)
O3=$(money_order_ussd "$P")
r=$(money_pay "$P" "3*$O3*5")
check_eq "cash on delivery off (the default): the customer is told it is not offered" \
	"END Cash on delivery is not offered. Please choose another way to pay." "$r"
check_eq "... and the order is not marked" "" "$(psql_val "SELECT payment_method FROM orders WHERE id = $O3")"
at_exit 'cod_cfg 0 >/dev/null'
out=$(cod_cfg 1)
check_has "payments cash-on-delivery 1 on the VTY is in the running config (written back)" " payments cash-on-delivery 1" "$out"
r=$(money_pay "$P" "3*$O3*5")
check_eq "cash on delivery on: the order waits for the cash at the door" \
	"END Order #$O3: pay R55.98 in cash when it is delivered." "$r"
check_eq "... marked cod, still awaiting payment" "awaiting_payment|cod" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $O3")"
out=$(ctl order cod-paid "$O3" --by "Spaza Express" 2>&1)
check_has "the courier's confirmation pays it" "R55.98 cash on delivery received by Spaza Express" "$out"
check_eq "... and the customer is told the order is paid" 1 "$(psql_val "SELECT count(*) FROM sms_messages
	WHERE order_id = $O3 AND kind = 'order_status' AND order_status = 'paid'")"
r=$(money_pay "$P" "2*1")
check_eq "the paid order's detail says it was paid cash on delivery" "CON #$O3 Paid, cash on delivery R55.98" "$(head -1 <<<"$r")"
out=$(cod_cfg 0)
check_lacks "payments cash-on-delivery 0 turns it off again" "cash-on-delivery" "$out"
