# Refunds (sql/012_money_care.sql, spazactl refund): partial and whole, each to where its
# money came from (a voucher, the credit line, store credit; a cash payment as a new voucher
# PIN by SMS or as store credit), once per key, the customer told by SMS once; and the ledger
# check's new invariant: a refund points at the payment it returns and never exceeds it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

# ---- a voucher payment, refunded in part, then the rest --------------------------------
A=$(money_customer)
V=$(money_voucher 1000)
O=$(money_order "$A" 500)
check_eq "a R5 order paid from a R10 voucher" "paid" "$(psql_val "SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$V', 'hex'), $A, $O)")"
out=$(ctl refund "$O" --amount 2 --reason "one loaf was stale" 2>&1); rc=$?
check_eq "refund --amount 2 of a voucher payment succeeds" 0 "$rc"
check_has "... back on the voucher it came from" "refunded R2.00 to voucher" "$out"
check_eq "... the voucher holds R7 again" 700 "$(psql_val "SELECT remaining_cents FROM vouchers WHERE pin_hmac = decode('$V', 'hex')")"
check_eq "... and the customer is told by SMS, in English, how much and where" 1 \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $A AND direction = 'out' AND channel = 'money'
		AND text LIKE '%R2.00 for order #$O is back on the voucher%'")"
out=$(ctl refund "$O" --amount 2 --reason "one loaf was stale" 2>&1); rc=$?
check_eq "the same command again answers as the first time" "0 refunded R2.00 to voucher" "$rc $(grep -o 'refunded R2.00 to voucher' <<<"$out")"
check_eq "... and moves no money again" 1 "$(psql_val "SELECT count(*) FROM refunds WHERE order_id = $O")"
check_eq "... nor sends a second SMS" 1 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $A AND channel = 'money'")"
out=$(ctl refund "$O" --amount 4 --reason "more" 2>&1); rc=$?
check_eq "a refund beyond what is left is refused (exit 1)" 1 "$rc"
check_has "... saying how much is refundable" "only R3.00 is refundable" "$out"
out=$(ctl order cancel "$O" 2>&1); rc=$?
check_eq "an order refunded in part cannot be cancelled (its whole total would go back)" 1 "$rc"
check_eq "... and nothing more was refunded" 700 "$(psql_val "SELECT remaining_cents FROM vouchers WHERE pin_hmac = decode('$V', 'hex')")"
out=$(ctl refund "$O" --reason "whole order returned" 2>&1); rc=$?
check_eq "refund without --amount refunds the rest" "0" "$rc"
check_has "... R3" "refunded R3.00 to voucher" "$out"
check_eq "the voucher is whole again" 1000 "$(psql_val "SELECT remaining_cents FROM vouchers WHERE pin_hmac = decode('$V', 'hex')")"
out=$(ctl refund "$O" --reason "again" 2>&1); rc=$?
check_eq "nothing is left to refund after that (exit 1)" "1" "$rc"
check_has "... saying so" "nothing left to refund" "$out"
check_eq "every refund points at the voucher payment it returns" 2 "$(psql_val "SELECT count(*) FROM refunds f
	JOIN ledger_txns t ON t.id = f.payment_txn_id WHERE f.order_id = $O AND t.reason = 'voucher_redeem'")"

# ---- a credit payment: what is owed goes down ---------------------------------------------
B=$(money_customer)
ctl credit set-limit "$(msisdn_of "$B")" 100 >/dev/null
OB=$(money_order "$B" 3000)
psql_val "SELECT outcome FROM spaza_credit_hold('$(money_key)', $B, $OB)" >/dev/null
psql_val "SELECT outcome FROM spaza_credit_post($OB)" >/dev/null
psql_val "UPDATE customers SET lang = 'zu' WHERE id = $B" >/dev/null
out=$(ctl refund "$OB" --amount 10 --reason "late delivery" 2>&1)
check_has "a credit payment is refunded to the credit line" "refunded R10.00 to credit" "$out"
check_eq "... the customer owes R20 now" 2000 "$(psql_val "SELECT owed_cents FROM spaza_credit_balance($B)")"
check_eq "... and is told in isiZulu when that is their language" 1 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $B AND channel = 'money' AND text LIKE '%R10.00 we-oda #$OB%'")"

# ---- cash: the customer's choice of a new voucher PIN or store credit ----------------------
C=$(money_customer)
OC=$(money_order "$C" 800)
psql_val "SELECT outcome FROM spaza_cod_choose($C, $OC)" >/dev/null
ctl order cod-paid "$OC" --by "Thabo (courier)" >/dev/null
psql_val "UPDATE customers SET lang = 'af' WHERE id = $C" >/dev/null
out=$(ctl refund "$OC" --amount 3 --to voucher --reason "wrong size" 2>&1); rc=$?
check_eq "a cash payment refunded --to voucher succeeds" 0 "$rc"
check_has "... as a new voucher" "refunded R3.00 to new_voucher (voucher ..." "$out"
sms=$(psql_val "SELECT text FROM sms_messages WHERE customer_id = $C AND channel = 'money'")
check_match "... whose PIN the customer gets by SMS, in Afrikaans, in fours" "nuwe koopbewys\. PIN: [0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}\." "$sms"
pin=$(grep -oE '[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}' <<<"$sms" | tr -d ' ')
check_eq "... the PIN is a real voucher worth R3 (its HMAC in the database, never the PIN)" "300|300" \
	"$(psql_val "SELECT value_cents || '|' || remaining_cents FROM vouchers WHERE pin_hmac = decode('$(money_pin_hmac "$pin")', 'hex')")"
check_lacks "... and spazactl does not print it" "$pin" "$out"
out=$(ctl refund "$OC" --amount 3 --to voucher --reason "wrong size" 2>&1)
check_eq "the same refund again makes no second voucher" 1 "$(psql_val "SELECT count(*) FROM refunds WHERE order_id = $OC")"
check_eq "... and sends no second PIN" 1 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $C AND channel = 'money'")"
out=$(ctl refund "$OC" --to store-credit --reason "rest as store credit" 2>&1)
check_has "the rest of a cash payment --to store-credit" "refunded R5.00 to store_credit" "$out"
check_has "... which the customer can see" "store credit  R5.00" "$(ctl credit show "$(msisdn_of "$C")")"
out=$(ctl refund "$OC" --to cheque --reason "x" 2>&1); rc=$?
check_eq "an unknown --to is a usage error (exit 2)" 2 "$rc"
out=$(ctl refund "$OC" --amount 1 2>&1); rc=$?
check_eq "a refund without --reason is a usage error (exit 2)" 2 "$rc"
check_has "the audit log has each refund with its reason" "refund $OC --amount 3 --to voucher --reason wrong size" "$(ctl audit 2>&1)"

# ---- the invariant: a refund beyond its payment is a violation ------------------------------
D=$(money_customer)
OD=$(money_order "$D" 400)
psql_val "SELECT outcome FROM spaza_cod_choose($D, $OD)" >/dev/null
ctl order cod-paid "$OD" --by courier >/dev/null
ctl refund "$OD" --amount 1 --reason "ok" >/dev/null
bad=$(psql -X -qtA -c "BEGIN" -c "UPDATE refunds SET amount_cents = 99999 WHERE order_id = $OD" \
	-c "SELECT invariant FROM spaza_ledger_check() WHERE invariant LIKE 'refund%'" -c "ROLLBACK" 2>&1 | grep -v '^$' | sort -u | tr '\n' ';')
check_has "a refund row beyond its payment fails the ledger check" "refund beyond its payment" "$bad"
bad=$(psql -X -qtA -c "BEGIN" -c "ALTER TABLE ledger_txns DISABLE TRIGGER ledger_txns_cancel_refund_guard" \
	-c "SELECT spaza__post('it-stray-refund-$OD', 'refund', $OD, sha256('x'), '{}'::jsonb,
		ARRAY[spaza__account('refunds', NULL), spaza__account('store_credit', $D)], ARRAY[1::bigint, -1::bigint])" \
	-c "SELECT invariant FROM spaza_ledger_check()" -c "ROLLBACK" 2>&1 | grep -v '^$' | tr '\n' ';')
check_has "a refund posting that points at no payment fails the ledger check" "refund not pointing at a payment" "$bad"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "the ledger check passes after all these refunds" "0" "$rc"
