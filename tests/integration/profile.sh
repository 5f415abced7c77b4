# The customer profile (sql/018_profile_loyalty.sql, spazactl customer set|fields): name,
# preferred channel, custom fields the shop defines, marketing consent with its history
# (STOP/START by SMS, staff); every change on the merged timeline and in the audit log, and
# the profile in customer show --json. The name on USSD (sql/021, `crm ask-name 1`): asked
# once, stored through spaza_customer_set() with source ussd, a skip remembered, then the home
# screen greets by name (the transcripts in tests/transcripts/ask_name/ in three languages).
source "$(dirname "$0")/lib.sh"

P=$(t_phone 31)
E=$(e164 "$P")
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
mo() {
	curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$1" --data-urlencode "to=31555" \
		--data-urlencode "text=$2" --data-urlencode "meta=" --data-urlencode "id=$3" \
		--data-urlencode "smsc=it-smsc" "$SPAZA_URL/kannel/mo"
}
mid() { echo "it-profile-$$-$RANDOM$RANDOM"; }
jq_of() { ctl customer show "$E" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

ussd "$(t_sid)" "$P" "" >/dev/null	# the customer exists from their first dial
out=$(ctl customer show "$E")
check_has "a new customer's name is not asked yet" "name      (not asked yet)" "$out"

# ---- custom fields: the shop defines the keys
key=suburb$RANDOM
out=$(ctl customer set "$E" "field.$key=Soweto" 2>&1); rc=$?
check_eq "a field the shop has not defined is refused" "1|spazactl: customer set: no field \"$key\" (spazactl customer fields add $key LABEL)" "$rc|$out"
out=$(ctl customer fields add "$key" Suburb or township)
check_eq "fields add defines a key" "field $key added" "$out"
check_match "fields list shows it with its label" "$key +Suburb or township" "$(ctl customer fields list)"
out=$(ctl customer fields add "Bad Key" x 2>&1); rc=$?
check_eq "a malformed key is a usage error" 2 "$rc"

# ---- customer set: several parts at once, audited
out=$(ctl customer set "$E" name=Thandi channel=sms "field.$key=Soweto")
check_eq "customer set changes three parts" "$E: 3 changes" "$out"
out=$(ctl customer set "$E" name=Thandi channel=sms)
check_eq "setting the same values again changes nothing" "$E: 0 changes" "$out"
out=$(ctl customer set "$E" channel=fax 2>&1); rc=$?
check_eq "a channel other than ussd or sms is refused" "2|spazactl: customer set: channel is ussd or sms" "$rc|$out"
out=$(ctl customer set "$E" colour=red 2>&1); rc=$?
check_eq "an unknown part is refused" 2 "$rc"
long=$(printf 'x%.0s' $(seq 1 41))
out=$(ctl customer set "$E" "name=$long" 2>&1); rc=$?
check_eq "a name over 40 characters is refused" 2 "$rc"
out=$(ctl customer show "$E")
check_has "customer show prints the name" "name      Thandi" "$out"
check_has "customer show prints the channel" "channel   sms" "$out"
check_has "customer show prints the field" "field     $key = Soweto" "$out"
n=$(psql_val "SELECT count(*) FROM audit_log WHERE action LIKE 'customer set%' AND subject = 'customer ' || (SELECT id FROM customers WHERE msisdn = '$E')")
check_eq "each customer set is in the audit log (two that ran, one refused for its unknown field)" 3 "$n"

# ---- consent: STOP and START by SMS, then staff; the history keeps when and how
mo "$P" "STOP" "$(mid)" >/dev/null
mo "$P" "START" "$(mid)" >/dev/null
ctl customer set "$E" consent=no >/dev/null
hist=$(jq_of "' '.join(h['consent'] + '/' + h['source'].split(':')[0] for h in d['profile']['consent']['history'])")
who=$(id -un)
check_eq "the consent history: withdrawn by SMS STOP, given by START, withdrawn by staff" \
	"withdrawn/sms given/sms withdrawn/staff $who" "$hist"
check_eq "the profile says no marketing now" False "$(jq_of "d['profile']['consent']['marketing']")"
st=$(psql_val "SELECT opt_out FROM customers WHERE msisdn = '$E'")
check_eq "consent=no is the same opt-out STOP sets (marketing is suppressed)" t "$st"
check_eq "the profile JSON has the name, channel and field" "Thandi|sms|Soweto" \
	"$(jq_of "'|'.join([d['profile']['name'], d['profile']['channel'], d['profile']['fields']['$key']])")"

# ---- the timeline shows each change
tl=$(ctl customer show "$E")
check_match "the timeline shows the name change" "profile_name +[0-9]+ +name = \"Thandi\" \\(staff $who\\)" "$tl"
check_match "the timeline shows the channel change" "profile_channel +[0-9]+ +channel = \"sms\"" "$tl"
check_match "the timeline shows the field" "profile_field +[0-9]+ +$key = \"Soweto\"" "$tl"
check_match "the timeline shows consent withdrawn by SMS" "profile_consent +[0-9]+ +marketing consent withdrawn \\(sms:" "$tl"
check_match "the timeline shows consent given by SMS" "profile_consent +[0-9]+ +marketing consent given \\(sms:" "$tl"
check_match "the timeline shows consent withdrawn by staff" "profile_consent +[0-9]+ +marketing consent withdrawn \\(staff $who\\)" "$tl"

# ---- clearing: "" removes a field and the name
out=$(ctl customer set "$E" name= "field.$key=")
check_eq "clearing the name and the field is two changes" "$E: 2 changes" "$out"
check_eq "the field is gone from the profile" "{}" "$(jq_of "json.dumps(d['profile']['fields'])")"
check_has "the timeline shows the field removed" "$key removed (staff $who)" "$(ctl customer show "$E")"

# ---- forgetting (POPIA) leaves no name in the history
P2=$(t_phone 31); E2=$(e164 "$P2")
ussd "$(t_sid)" "$P2" "" >/dev/null
ctl customer set "$E2" name=Sipho "field.$key=Orlando East" >/dev/null
C2=$(psql_val "SELECT id FROM customers WHERE msisdn = '$E2'")
check_eq "a customer with a name and a field, to forget" "Sipho|1" \
	"$(psql_val "SELECT name || '|' || (SELECT count(*) FROM customer_fields WHERE customer_id = ${C2:-0})
		FROM customers WHERE id = ${C2:-0}")"
ctl customer forget "$E2" >/dev/null
n=$(psql_val "SELECT count(*) FROM customer_profile_events e JOIN customers c ON c.id = e.customer_id
	WHERE c.forgotten_at IS NOT NULL AND e.value = 'Sipho'")
check_eq "a forgotten customer's name is gone from the profile history" 0 "$n"
check_eq "... from the record itself, and the custom fields with it" "|0" \
	"$(psql_val "SELECT coalesce(name, '') || '|' || (SELECT count(*) FROM customer_fields WHERE customer_id = ${C2:-0})
		FROM customers WHERE id = ${C2:-0}")"

# ---- the name on USSD (sql/021): off by default, on with `crm ask-name 1` on the VTY
name_cfg() { printf 'enable\nconfigure terminal\nspaza\ncrm ask-name %s\nend\nshow running-config\n' "$1" |
	"$SPAZACTL" -c "$SPAZA_CFG" vty 2>&1; }
MAIN_EN="Welcome to Spaza"$'\n'"1. Browse"$'\n'"2. My orders"$'\n'"3. Pay"$'\n'"4. Language"$'\n'"5. Help"$'\n'"6. Basket"$'\n'"7. My account"
P3=$(t_phone 31); E3=$(e164 "$P3")
check_eq "crm ask-name off (the default): a new customer starts on the home screen" "CON $MAIN_EN" "$(ussd "$(t_sid)" "$P3" "")"
at_exit 'name_cfg 0 >/dev/null'
check_has "crm ask-name 1 on the VTY is in the running config (written back)" " crm ask-name 1" "$(name_cfg 1)"
P4=$(t_phone 31); E4=$(e164 "$P4")
sid=$(t_sid)
check_eq "ask-name on: a customer never asked is asked first" "CON Your name? (0 to skip)" "$(ussd "$sid" "$P4" "")"
check_eq "... a name is taken and the home screen greets by it" "CON Hi Thandeka"$'\n'"$MAIN_EN" "$(ussd "$sid" "$P4" "Thandeka")"
check_has "... stored on the customer's profile" "name      Thandeka" "$(ctl customer show "$E4")"
check_match "... the timeline shows the change, source ussd" "profile_name +[0-9]+ +name = \"Thandeka\" \\(ussd\\)" "$(ctl customer show "$E4")"
check_eq "... asked once: the next dial greets at once" "CON Hi Thandeka"$'\n'"$MAIN_EN" "$(ussd "$(t_sid)" "$P4" "")"
check_eq "... the same answer replayed changes nothing" 1 \
	"$(psql_val "SELECT count(*) FROM customer_profile_events e JOIN customers c ON c.id = e.customer_id WHERE c.msisdn = '$E4' AND e.kind = 'name'")"
# forgetting a customer who typed their name leaves it nowhere in the database, nor their number:
# every text and JSON column of every table is searched for both
NM="Qx$(printf '%05d' "$RANDOM" | tr 0-9 a-j)"
P10=$(t_phone 31); E10=$(e164 "$P10")
sid=$(t_sid)
ussd "$sid" "$P10" "" >/dev/null
check_eq "a customer types their name" "CON Hi $NM"$'\n'"$MAIN_EN" "$(ussd "$sid" "$P10" "$NM")"
ussd "$sid" "$P10" "$NM*2" >/dev/null	# and walks on, so the dialogue holds it in its inputs
found_in() {	# found_in STRING: the table.column of every row holding STRING
	psql_val "WITH cols AS MATERIALIZED (SELECT c.table_name, c.column_name
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
		AND c.data_type IN ('text', 'character varying', 'jsonb', 'json'))
	SELECT coalesce(string_agg(table_name || '.' || column_name, ' ' ORDER BY table_name, column_name), '') FROM cols
	WHERE (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I WHERE %I::text LIKE %L',
		table_name, column_name, '%' || '$1' || '%'), false, true, '')))[1]::text::int > 0"
}
check_match "... the name is in the database" "customers.name" "$(found_in "$NM")"
ctl customer forget "$E10" >/dev/null
check_eq "... after customer forget, the name is in no table" "" "$(found_in "$NM")"
check_eq "... nor the number" "" "$(found_in "$E10")"
P5=$(t_phone 31); E5=$(e164 "$P5")
sid=$(t_sid)
ussd "$sid" "$P5" "" >/dev/null
check_eq "0 skips: the home screen as it always was" "CON $MAIN_EN" "$(ussd "$sid" "$P5" "0")"
check_eq "... the skip is remembered: not asked again" "CON $MAIN_EN" "$(ussd "$(t_sid)" "$P5" "")"
check_match "... and on the timeline (source ussd)" "profile_name +[0-9]+ +name skipped or cleared \\(ussd\\)" "$(ctl customer show "$E5")"
check_eq "... the profile says it was asked, no name" "True None" "$(E=$E5 jq_of "d['profile']['name_asked'], d['profile']['name']" | tr -d '(),')"
# a long code's inputs were typed for the home screen: no question on such a dial, the next plain one asks
P9=$(t_phone 31)
check_eq "a long code (*120*777*1042#) is not asked the name: it goes where it leads" "END Order #1042 not found." \
	"$(ussd "$(t_sid)" "$P9" "" '*120*777*1042#')"
check_eq "... the next plain dial asks" "CON Your name? (0 to skip)" "$(ussd "$(t_sid)" "$P9" "")"
# a customer whose language was set by SMS before their first dial is asked in it
for l in zu af; do
	P6=$(t_phone 31)
	mo "$P6" "lang $l" "$(mid)" >/dev/null
	want=$([ $l = zu ] && echo "CON Igama lakho? (0 ukweqa)" || echo "CON Jou naam? (0 om oor te slaan)")
	check_eq "the question in the customer's language ($l)" "$want" "$(ussd "$(t_sid)" "$P6" "")"
done
# a name staff set before the first dial: no question, greeted; one outside GSM-7: no greeting
P7=$(t_phone 31); E7=$(e164 "$P7")
psql_val "INSERT INTO customers (msisdn) VALUES ('$E7')" >/dev/null
ctl customer set "$E7" name=Nomvula >/dev/null
check_eq "a name staff set is not asked again, and greets" "CON Hi Nomvula"$'\n'"$MAIN_EN" "$(ussd "$(t_sid)" "$P7" "")"
P8=$(t_phone 31); E8=$(e164 "$P8")
psql_val "INSERT INTO customers (msisdn) VALUES ('$E8')" >/dev/null
ctl customer set "$E8" "name=Zoë" >/dev/null
check_eq "a name outside GSM-7 is not asked again, and greets nobody (the screen would turn UCS-2)" "CON $MAIN_EN" \
	"$(ussd "$(t_sid)" "$P8" "")"
out=$("$SPAZA_TOP/tools/spaza-phone" -u "$SPAZA_URL/ussd/at" -s "$SPAZA_TOP"/tests/transcripts/ask_name/*.ussd 2>&1)
check_eq "the ask-name transcripts pass in English, isiZulu and Afrikaans" 3 "$(grep -c '^PASS' <<<"$out")"
[ "$(grep -c '^PASS' <<<"$out")" = 3 ] || echo "$out" | grep -v '^PASS' >&2
check_lacks "crm ask-name 0 turns it off again" "crm ask-name 1" "$(name_cfg 0)"
