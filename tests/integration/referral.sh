# Referrals (sql/018_profile_loyalty.sql, spazactl referral): a code per customer; a new customer
# enters one once; both get points on the referee's first paid order, taken back when that order
# is refunded; the abuse limits (own code, new numbers only, once per referee, a monthly cap per
# referrer) refuse with their reason, and every outcome is counted. On USSD (My account > My
# points > Enter a referral code) the same rules say their refusal on screen.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"

SINCE=$(psql_val "SELECT now()")
points() { points_settled; ctl loyalty show "$(msisdn_of "$1")" | sed -n '1s/^.*: \(-\?[0-9]*\) points$/\1/p'; }
enter() { ctl referral enter "$(msisdn_of "$1")" "$2" 2>&1 | sed 's/^.*: //'; }
pay() { # pay CUSTOMER CENTS: an order paid by voucher; prints the order
	local v o
	v=$(money_voucher "$2")
	o=$(money_order "$1" "$2")
	psql_val "SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$v', 'hex'), $1, $o)" >/dev/null
	echo "$o"
}
RP=$(psql_val "SELECT referral_points FROM loyalty_rules")

R=$(money_customer)
out=$(ctl referral code "$(msisdn_of "$R")")
CODE=$(sed -n 's/^.*referral code \([0-9]*\)$/\1/p' <<<"$out")
check_match "a customer's referral code is six digits" '^[1-9][0-9]{5}$' "$CODE"
check_has "... and the same code the next time" "referral code $CODE" "$(ctl referral code "$(msisdn_of "$R")")"

N1=$(money_customer)
check_eq "an unknown code is refused" unknown_code "$(enter "$N1" 12345)"
check_eq "one's own code is refused" own_code "$(enter "$R" "$CODE")"
check_eq "a new customer enters the code" ok "$(enter "$N1" "$CODE")"
check_eq "... once: a second code is refused" already "$(enter "$N1" "$CODE")"
OLD=$(money_customer)
pay "$OLD" 500 >/dev/null
check_eq "a customer who already paid an order is not new" not_new "$(enter "$OLD" "$CODE")"
AGED=$(money_customer)
psql_val "UPDATE customers SET created_at = now() - interval '40 days' WHERE id = $AGED" >/dev/null
check_eq "a number first seen 40 days ago is not new (referral_new_days 30)" not_new "$(enter "$AGED" "$CODE")"
ctl referral enter "$(msisdn_of "$AGED")" "$CODE" >/dev/null 2>&1; rc=$?
check_eq "a refused code exits 1" 1 "$rc"

# ---- the reward: on the referee's first paid order, both; never again
check_eq "no reward before the referee pays" "0 0" "$(points "$R") $(points "$N1")"
O1=$(pay "$N1" 2000)
check_eq "the referee's first paid order (R20) gives the referee $RP + 20 points" $((RP + 20)) "$(points "$N1")"
check_eq "... and the referrer $RP" "$RP" "$(points "$R")"
pay "$N1" 1000 >/dev/null
check_eq "a second paid order rewards nobody again" "$((RP + 30)) $RP" "$(points "$N1") $(points "$R")"
check_true "the ledger check passes after the rewards" "ledger check failed" sh -c "'$SPAZACTL' -c '$T_TMP/spazad.cfg' ledger check >/dev/null"

# ---- no reward when the order is refunded
N2=$(money_customer)
check_eq "a second referee" ok "$(enter "$N2" "$CODE")"
O2=$(pay "$N2" 1000)
check_eq "... rewarded on paying" "$((RP + 10)) $((2 * RP))" "$(points "$N2") $(points "$R")"
ctl refund "$O2" --reason "returned" >/dev/null 2>&1
check_eq "refunding that order takes both rewards (and the order's points) back" "0 $RP" "$(points "$N2") $(points "$R")"
check_true "the ledger check passes after the reversal" "ledger check failed" sh -c "'$SPAZACTL' -c '$T_TMP/spazad.cfg' ledger check >/dev/null"

# ---- the monthly cap per referrer
psql_val "UPDATE loyalty_rules SET referral_month_cap = 3" >/dev/null
at_exit psql -X -qtAc "UPDATE loyalty_rules SET referral_month_cap = 10"
N3=$(money_customer)
check_eq "the third referee this month is taken (cap 3)" ok "$(enter "$N3" "$CODE")"
N4=$(money_customer)
check_eq "the fourth is refused: the referrer's cap for the month" month_cap "$(enter "$N4" "$CODE")"
R2=$(money_customer)
CODE2=$(ctl referral code "$(msisdn_of "$R2")" | sed -n 's/^.*referral code \([0-9]*\)$/\1/p')
check_eq "... who may still take another referrer's code" ok "$(enter "$N4" "$CODE2")"
psql_val "UPDATE loyalty_rules SET referral_month_cap = 10" >/dev/null

# ---- every outcome counted
got=$(ctl referral stats --since "$SINCE" | tr -s ' ' | tr '\n' ',')
check_eq "referral stats counts each outcome since the test began" \
	"already 1,month_cap 1,not_new 3,ok 4,own_code 1,reward_reversed 1,rewarded 2,unknown_code 1," "$got"

# ---- on USSD: My account > My points > Enter a referral code, the same rules said on screen
code_ussd() { ussd "$(t_sid)" "$(msisdn_of "$1")" "7*2*1*$2"; }
N5=$(money_customer)
check_eq "a new customer enters a code on USSD" \
	"END Thank you! When your first order is paid, you and the person who told you both get points." "$(code_ussd "$N5" "$CODE2")"
check_eq "... recorded as spazactl's would be: the referrer is the code's" "$R2" \
	"$(psql_val "SELECT referrer_id FROM referrals WHERE referee_id = $N5")"
check_eq "a second code on USSD is refused: already" "END You have already entered a referral code." \
	"$(code_ussd "$N5" "$CODE")"
check_eq "one's own code on USSD is refused" "END That is your own referral code. Give it to your friends." \
	"$(code_ussd "$R2" "$CODE2")"
check_eq "a customer who already paid an order is not new on USSD either" "END Referral codes are for new customers only." \
	"$(code_ussd "$OLD" "$CODE2")"
check_eq "an unknown code on USSD is said so, as typed" "END Code 000000 is not a referral code." \
	"$(code_ussd "$(money_customer)" 000000)"
psql_val "UPDATE loyalty_rules SET referral_month_cap = 2" >/dev/null
check_eq "the referrer's monthly cap on USSD" "END This code has been used too often this month. Please try again next month." \
	"$(code_ussd "$(money_customer)" "$CODE2")"
psql_val "UPDATE loyalty_rules SET referral_month_cap = 10" >/dev/null
r=$(ussd "$(t_sid)" "$(msisdn_of "$N5")" "7*2*1*12345")
check_eq "five digits are not a code: asked again" \
	"CON A code is 6 digits."$'\n'"Enter the 6-digit referral code of the person who told you about us:"$'\n'"0. Back" "$r"
# the code taken, in isiZulu and Afrikaans (R3's code: a referrer of their own, under the cap)
R3=$(money_customer)
CODE3=$(ctl referral code "$(msisdn_of "$R3")" | sed -n 's/^.*referral code \([0-9]*\)$/\1/p')
N6=$(money_customer)
psql_val "UPDATE customers SET lang = 'zu' WHERE id = $N6" >/dev/null
check_eq "isiZulu: the code is taken" \
	"END Siyabonga! Uma i-oda lakho lokuqala likhokhiwe, wena nomuntu okutshele nizothola amaphuzu." "$(code_ussd "$N6" "$CODE3")"
check_eq "isiZulu: ... once" "END Usuyifakile kakade ikhodi yokudlulisela." "$(code_ussd "$N6" "$CODE3")"
N7=$(money_customer)
psql_val "UPDATE customers SET lang = 'af' WHERE id = $N7" >/dev/null
check_eq "Afrikaans: the code is taken" \
	"END Dankie! Wanneer jou eerste bestelling betaal is, kry jy en wie jou vertel het albei punte." "$(code_ussd "$N7" "$CODE3")"
psql_val "UPDATE customers SET lang = 'af' WHERE id = $R3" >/dev/null
check_eq "Afrikaans: one's own code is refused" "END Dit is jou eie verwysingskode. Gee dit vir jou vriende." \
	"$(code_ussd "$R3" "$CODE3")"
got=$(ctl referral stats --since "$SINCE" | tr -s ' ' | tr '\n' ',')
check_eq "the USSD attempts are counted with the others" \
	"already 3,month_cap 2,not_new 4,ok 7,own_code 3,reward_reversed 1,rewarded 2,unknown_code 2," "$got"
