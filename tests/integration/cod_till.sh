# Cash on delivery confirmed by a retailer's till over the signed till API (sql/019_cod_confirm.sql,
# front_till.c, doc/retailer-api.md "Cash on delivery"): GET and POST
# /api/v1/orders/{id}/cod-payment, every request signed with openssl as the reference says. A
# signed confirmation is taken once and its replay refused; a retry of the same payment id is the
# same payment, byte for byte, one posting on the ledger; the body must name the path's order;
# another retailer, another id, a non-COD, cancelled or unknown order and a wrong amount are
# refused; the retailer's settlement counts the cash; spazactl's cod-paid names the retailer;
# the customer's "paid" SMS is queued; the ledger check passes at the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"
# the daemon's own secrets (money_lib's spazactl has a retailer-master of its own)
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }

# ---- two retailers and their keys --------------------------------------------------------------
retailer() { # retailer NAME: "KEY SECRET" from spazactl retailer add
	ctl retailer add "$1" 2>&1 | awk '$1 == "key" && $2 == "id" { k = $3 } $1 == "secret" { s = $2 } END { print k, s }'
}
NAME_A="COD shop A $$"
read -r KEY_A SECRET_A <<<"$(retailer "$NAME_A")"
read -r KEY_B SECRET_B <<<"$(retailer "COD shop B $$")"
[[ $KEY_A =~ ^rk_ && $KEY_B =~ ^rk_ ]] || { fail "cod_till: retailer add gave no key ($KEY_A, $KEY_B)"; exit 0; }

# capi METHOD PATH [BODY]: signed by retailer A (KEY=, SECRET= for another); each call is signed
# at a time of its own (a second earlier than the last), so no two are the same signature unless
# SIG= hands one in. Prints the status; the body is in $T_TMP/body, the signature header in
# $T_TMP/sig.
# The count lives in a file: `st=$(capi ...)` runs it in a subshell, where a variable's
# increment is lost (and two requests of one second then had one signature: a replay).
echo 0 > "$T_TMP/capi_n"
capi() {
	local key=${KEY:-$KEY_A} secret=${SECRET:-$SECRET_A} t sig n
	n=$(( $(cat "$T_TMP/capi_n") + 1 ))
	echo "$n" > "$T_TMP/capi_n"
	t=$(( $(date +%s) - n ))
	sig=${SIG:-t=$t,v2=$(till_sign "$secret" "$1" "$2" "$key" "$t" "${3-}")}
	echo "$sig" > "$T_TMP/sig"
	local args=(-sS --noproxy '*' --max-time 20 -o "$T_TMP/body" -w '%{http_code}' -X "$1" -H "X-Spaza-Key: $key")
	[ -z "${NOSIG:-}" ] && args+=(-H "X-Spaza-Signature: $sig")
	[ "$1" = POST ] && args+=(-H 'Content-Type: application/json' --data-binary "${3-}")
	curl "${args[@]}" "$SPAZA_TILL_URL$2"
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d.get(sys.argv[2]); print("" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$T_TMP/body" "$1"; }
code_of() { local c; c=$(field error); [ -n "$c" ] || c=$(field outcome); echo "$c"; }
cod_body() { printf '{"type":"cod_payment","order":%s,"payment_id":"%s","amount_cents":%s}' "$1" "$2" "$3"; }
cod_order() { # cod_order CUSTOMER CENTS: an order the customer chose to pay cash on delivery
	local o; o=$(money_order "$1" "$2")
	psql_val "SELECT outcome FROM spaza_cod_choose($1, $o)" >/dev/null
	echo "$o"
}

CUST=$(money_customer)
O=$(cod_order "$CUST" 2500)
P="/api/v1/orders/$O/cod-payment"

# ---- lookup ----------------------------------------------------------------------------------
st=$(capi GET "$P")
check_eq "a cash-on-delivery order looked up: 200, awaiting payment, payable" "200 awaiting_payment true" \
	"$st $(field order_status) $(field payable)"
check_eq "... the amount due" "2500" "$(field amount_cents)"
check_lacks "... and nothing of the customer" "$(msisdn_of "$CUST")" "$(cat "$T_TMP/body")"
st=$(NOSIG=1 capi GET "$P")
check_eq "unsigned: 401" "401 missing_signature" "$st $(code_of)"
st=$(capi GET "/api/v1/orders/x$O/cod-payment")
check_eq "not an order number in the path: 404" "404 not_found" "$st $(code_of)"
st=$(capi GET "/api/v1/orders/$O")
check_eq "the order without /cod-payment: 404" "404 not_found" "$st $(code_of)"

# ---- refused before any money moves ---------------------------------------------------------
st=$(capi POST "$P" "$(cod_body "$((O + 1))" "cod-$$-1" 2500)")
check_eq "a body naming another order than the path's: 400" "400 bad_request" "$st $(code_of)"
st=$(capi POST "$P" "$(printf '{"type":"payment","order":%s,"payment_id":"cod-%s-1","amount_cents":2500}' "$O" $$)")
check_eq "a body of another type: 400" "400 bad_request" "$st $(code_of)"
st=$(capi POST "$P" "$(printf '{"type":"cod_payment","order":%s,"amount_cents":2500}' "$O")")
check_eq "a body without a payment id: 400" "400 bad_request" "$st $(code_of)"
st=$(capi POST "$P" "$(cod_body "$O" "cod-$$-w" 2400)")
check_eq "not the amount due: 422, saying what is" "422 wrong_amount 2500" "$st $(code_of) $(field amount_cents)"
t=$(date +%s)
st=$(SIG="t=$t,v2=$(till_sign "$SECRET_A" POST "$P" "$KEY_A" "$t" "$(cod_body "$O" "cod-$$-1" 1)")" \
	capi POST "$P" "$(cod_body "$O" "cod-$$-1" 2500)")
check_eq "a body changed after signing: 401" "401 bad_signature" "$st $(code_of)"
check_eq "... and the order is still unpaid" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $O")"

# ---- the confirmation, its replay and its retry ---------------------------------------------
BODY=$(cod_body "$O" "cod-$$-1" 2500)
st=$(capi POST "$P" "$BODY")
check_eq "retailer A confirms the cash: 200 paid" "200 paid 2500 cod-$$-1" "$st $(code_of) $(field amount_cents) $(field payment_id)"
check_eq "... confirmed by the retailer; the order is paid" "$NAME_A paid" "$(field confirmed_by) $(field order_status)"
FIRST=$(cat "$T_TMP/body")
SIG1=$(cat "$T_TMP/sig")
check_eq "... the order is paid, cash on delivery" "paid|cod" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $O")"
st=$(SIG=$SIG1 capi POST "$P" "$BODY")
check_eq "the same signed request again is a replay: 401" "401 replayed" "$st $(code_of)"
st=$(capi POST "$P" "$BODY")
check_eq "a retry of the same payment id (signed again): 200, the same payment" "200" "$st"
check_eq "... the first answer, byte for byte" "$FIRST" "$(cat "$T_TMP/body")"
check_eq "... one posting on the ledger, for the cash at retailer A" "1" \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O AND reason = 'cod_payment'")"
check_eq "... one confirmation, through the till API, under A's key" "1|till_api|$KEY_A|cod-$$-1" \
	"$(psql_val "SELECT count(*) || '|' || min(via) || '|' || min(key_id) || '|' || min(request_id) FROM cod_confirmations WHERE order_id = $O")"
check_eq "the customer is told the order is paid (one SMS)" "1" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id = $O AND kind = 'order_status' AND order_status = 'paid'")"
st=$(capi GET "$P")
check_eq "a lookup now: paid, by you, with your payment id" "200 paid false true cod-$$-1" \
	"$st $(field order_status) $(field payable) $(field paid_by_you) $(field payment_id)"
st=$(KEY=$KEY_B SECRET=$SECRET_B capi GET "$P")
check_eq "... for retailer B: not by you, and no payment id of A's" "200 false " "$st $(field paid_by_you) $(field payment_id)"

# ---- refused after --------------------------------------------------------------------------
st=$(KEY=$KEY_B SECRET=$SECRET_B capi POST "$P" "$(cod_body "$O" "cod-$$-b" 2500)")
check_eq "retailer B confirming the same order: 409 already paid, naming A" "409 already_paid $NAME_A" \
	"$st $(code_of) $(field confirmed_by)"
st=$(capi POST "$P" "$(cod_body "$O" "cod-$$-2" 2500)")
check_eq "retailer A again under a new payment id: 409 already paid" "409 already_paid" "$st $(code_of)"
O2=$(cod_order "$CUST" 700)
st=$(capi POST "/api/v1/orders/$O2/cod-payment" "$(cod_body "$O2" "cod-$$-1" 700)")
check_eq "the payment id once used for another order: 409 conflict" "409 conflict" "$st $(code_of)"
check_eq "... and that order stays unpaid" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $O2")"
N=$(money_order "$CUST" 900)
st=$(capi POST "/api/v1/orders/$N/cod-payment" "$(cod_body "$N" "cod-$$-n" 900)")
check_eq "an order not to be paid cash on delivery: 409 not_cod" "409 not_cod" "$st $(code_of)"
st=$(capi GET "/api/v1/orders/$N/cod-payment")
check_eq "... its lookup too, with no amount" "409 not_cod " "$st $(code_of) $(field amount_cents)"
check_eq "... it stays unpaid" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $N")"
ctl order cancel "$O2" >/dev/null
st=$(capi POST "/api/v1/orders/$O2/cod-payment" "$(cod_body "$O2" "cod-$$-c" 700)")
check_eq "a cancelled cash-on-delivery order: 409 not_payable, cancelled" "409 not_payable cancelled" \
	"$st $(code_of) $(field order_status)"
st=$(capi POST "/api/v1/orders/99999999999/cod-payment" "$(cod_body 99999999999 "cod-$$-u" 100)")
check_eq "an order nobody placed: 404" "404 not_found" "$st $(code_of)"

# ---- what the retailer owes, spazactl, the ledger ---------------------------------------------
check_has "spazactl report settlements counts A's cash on delivery" "$NAME_A|0|0|0|0|1|2500" \
	"$(ctl report settlements --csv 2>&1 | tr ',' '|')"
out=$(ctl order cod-paid "$O" --by "Sipho (courier)" 2>&1)
check_has "spazactl cod-paid on it says who took the cash first" "received by $NAME_A" "$out"
check_eq "... and moves no money again" "1" "$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O AND reason = 'cod_payment'")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "spazactl ledger check passes after the till's cash on delivery" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" >&2
check_has "... and says it covers cash on delivery" "cash on delivery confirmed once" "$out"
moved=$(psql -X -qtA <<SQL
BEGIN;
UPDATE cod_confirmations SET retailer_id = NULL, request_id = NULL WHERE order_id = $O;
SELECT invariant FROM spaza_cod_check();
ROLLBACK;
SQL
)
check_eq "the check would see A's cash put on the shop's own account (a transaction, rolled back)" \
	"cash on delivery on the account of another than who holds it" "$moved"
