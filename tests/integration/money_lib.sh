# Helpers of the money care tests (refunds, store_credit, credit_repay, double_charge, cod):
# source it after lib.sh. The suite runs every *.sh here, this one too: run rather than
# sourced, it does nothing.
[[ "${BASH_SOURCE[0]}" != "$0" ]] || exit 0

# spazactl with a secrets file of our own, so a test can check the HMAC of a PIN it was sent.
umask 077
MONEY_VKEY=$(openssl rand -hex 32)
printf '# test secrets\nvoucher-pin = %s\nretailer-master = %s\nslip-qr = %s\n' "$MONEY_VKEY" \
	"$(openssl rand -hex 32)" "$(openssl rand -hex 32)" > "$T_TMP/secrets"
awk -v s=" secrets-file $T_TMP/secrets" '/^ secrets-file / { next } { print } /^spaza$/ { print s }' "$SPAZA_CFG" \
	> "$T_TMP/spazad.cfg"
umask 022
ctl() { "$SPAZACTL" -c "$T_TMP/spazad.cfg" "$@"; }
money_pin_hmac() { printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$MONEY_VKEY" | awk '{ print $NF }'; }
money_key() { echo "it-money-$$-$RANDOM$RANDOM"; }

# A customer of our own (range +2782978xxxxx) and orders of a hidden, inactive product.
money_customer() {
	local id=""
	while [ -z "$id" ]; do
		id=$(psql_val "INSERT INTO customers (msisdn) VALUES ('+2782978' || lpad(floor(random() * 100000)::int::text, 5, '0'))
			ON CONFLICT DO NOTHING RETURNING id")
	done
	echo "$id"
}
msisdn_of() { psql_val "SELECT msisdn FROM customers WHERE id = $1"; }
psql_val "INSERT INTO categories (id, name, position) VALUES (9978, 'money test', 0) ON CONFLICT DO NOTHING;
	INSERT INTO products (id, category_id, position, name, price_cents, stock, active)
	VALUES (997801, 9978, 1, 'money test item', 100, 1000000, false) ON CONFLICT DO NOTHING" >/dev/null
money_order() { # money_order CUSTOMER TOTAL_CENTS: awaiting payment
	psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
		VALUES ($1, 997801, 1, $2, $2, 'it-money-' || gen_random_uuid()) RETURNING id"
}
# money_voucher VALUE_CENTS: a voucher sold at the counter; prints its PIN's HMAC (hex)
money_voucher() {
	local h
	h=$(openssl rand -hex 32)
	psql_val "SELECT issued FROM spaza_voucher_issue(ARRAY['$h'], ARRAY['0000'], $1, NULL)" >/dev/null
	echo "$h"
}

# USSD: money_order_ussd PHONE places 2 x Coke 2L (R55.98) and prints the order number;
# money_pay PHONE TEXT runs a fresh session and prints its last reply.
money_order_ussd() {
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "1*2*1*1*2*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p'
}
money_pay() {
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "$2"
}
money_cid() { psql_val "SELECT id FROM customers WHERE msisdn = '$(e164 "$1")'"; }
# money_store_credit CUSTOMER_ID CENTS: store credit from a cash-on-delivery order refunded
money_store_credit() {
	local o
	o=$(money_order "$1" "$2")
	psql_val "SELECT outcome FROM spaza_cod_choose($1, $o)" >/dev/null
	ctl order cod-paid "$o" --by courier >/dev/null
	ctl refund "$o" --to store-credit --reason "test store credit" >/dev/null
}
