#!/usr/bin/env bash
# The operator side of the Kannel chain, without spazad: tools/spaza-smsc -> SMPP -> bearerbox ->
# smsbox -> HTTP app -> back, with nginx as a trivial fixed-reply app. Proves the simulator,
# doc/kannel/smsbox-front.conf and scripts/kannel.sh together:
#   - a USSD begin reaches the app with ussd_service_op and its_session_info, and the app's reply comes
#     back as submit_sm with ussd_service_op=2 and the echoed its_session_info (also for octets that need
#     URL-encoding); the subscriber's answer gets the final screen (ussd_service_op=17);
#   - SMS MOs (GSM-7 and UCS-2) get their replies; UCS-2 reaches the app as UTF-8;
#   - sendsms pushes: an SMS with a delivery report that reaches its dlr-url, a USSD screen with meta-data;
#   - /shutdown stops bearerbox and smsbox, which unbind from the SMSC.
# Prints one PASS:/FAIL: line per assertion (scripts/test counts them).
source "$(dirname "$0")/../../scripts/lib.sh"
source "$SPAZA_TOP/scripts/kannel.sh"
set +e

NAME=test/kannel_smsc
DIR=$VAR/$NAME
SMSC=$SPAZA_TOP/tools/spaza-smsc
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
rm -rf "$DIR"
mkdir -p "$DIR/nginx/tmp"

pass() { echo "PASS: kannel_smsc: $1"; }
fail() { echo "FAIL: kannel_smsc: $1${2:+: $2}"; }
check() { # check WHAT CMD...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
in_file() { grep -qF -- "$2" "$1"; }

SIM_PID= NGINX_PID=
cleanup() {
	kannel_down "$NAME" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
}
trap cleanup EXIT

[ -x "$SMSC" ] || { fail "tools/spaza-smsc is built" "run make"; exit 0; }
for bin in "$KANNEL_BIN/bearerbox" "$KANNEL_BIN/smsbox" "$NGINX"; do
	[ -x "$bin" ] || { echo "SKIP: kannel_smsc: $bin not installed (Debian packages kannel, nginx-light)"; exit 0; }
done

# ---- the app: nginx with fixed replies; its access log shows what Kannel asked for ----
# USSD (the MO carries its_session_info): "CON ..." with ussd_service_op 2, then "END ..." with 17 once
# the subscriber answers "1"; its_session_info is echoed as Kannel passed it (URL-encoded once).
APP_PORT=$(free_port)
cat > "$DIR/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log warn;
events { worker_connections 256; }
http {
	access_log $DIR/nginx/access.log;
	client_body_temp_path $DIR/nginx/tmp/body;
	proxy_temp_path $DIR/nginx/tmp/proxy;
	fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
	uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
	scgi_temp_path $DIR/nginx/tmp/scgi;
	default_type text/plain;
	map \$arg_text \$ussd_op { "1" "%11"; default "%02"; }
	map \$arg_text \$ussd_screen { "1" "END Goodbye"; default "CON Hello from nginx\n1. Continue"; }
	server {
		listen 127.0.0.1:$APP_PORT;
		location = /kannel/mo {
			if (\$arg_sess != "") {
				add_header X-Kannel-Meta-Data "?smpp?ussd_service_op=\$ussd_op&its_session_info=\$arg_sess";
				add_header X-Kannel-BInfo "USSD";
				return 200 "\$ussd_screen";
			}
			return 200 "Thanks for your SMS";
		}
		location = /kannel/dlr { return 200 "ok"; }
	}
}
NGINX
"$NGINX" -e "$DIR/nginx/error.log" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" </dev/null >"$DIR/nginx/out" 2>&1 &
NGINX_PID=$!
wait_for 10 curl -sf "http://127.0.0.1:$APP_PORT/kannel/dlr" ||
	{ fail "nginx (the fixed-reply app) starts" "$(tail -3 "$DIR/nginx/error.log" "$DIR/nginx/out" 2>/dev/null)"; exit 0; }

# ---- the operator: spaza-smsc running the dialogue ----
cat > "$DIR/smsc.script" <<'SCRIPT'
wait-bind timeout=30000
# USSD: the subscriber dials, the app shows a screen, the subscriber answers, the app ends the dialogue
ussd-begin 27820000001 *120*777# 13313
expect-submit to=27820000001 ussd_service_op=2 its_session_info=13313 service_type=USSD text="CON Hello from nginx\n1. Continue"
ussd-continue 27820000001 1 13313
expect-submit to=27820000001 ussd_service_op=17 its_session_info=13313 text="END Goodbye"
# its_session_info 0x2600: '&' and NUL must survive the URL-encoding both ways
ussd-begin 27820000009 *120*777*1042# 9728
expect-submit to=27820000009 ussd_service_op=2 its_session_info=9728 text="/^CON Hello/"
# SMS: GSM-7 and UCS-2
sms 27820000002 777 "STATUS 42"
expect-submit-sms to=27820000002 from=777 text="Thanks for your SMS"
sms 27820000003 777 "Molo ☺"
expect-submit-sms to=27820000003 text="Thanks for your SMS"
echo READY-FOR-PUSH
expect-submit-sms to=27820000004 registered_delivery=1 text="Your order 42 has shipped" timeout=20000
dlr last delivered
expect-submit to=27820000005 ussd_service_op=2 its_session_info=13313 text="CON Pushed screen" timeout=20000
echo READY-FOR-SHUTDOWN
wait-unbind timeout=30000
SCRIPT
SMSC_PORT=$(free_port)
export KANNEL_SMSC_SYSTEM_ID=spaza KANNEL_SMSC_PASSWORD=sim4test

# ---- Kannel between them ----
STARTED=
trap 'cleanup; [ -n "$STARTED" ] || echo "FAIL: kannel_smsc: kannel_up starts bearerbox and smsbox (see the .err file)"' EXIT
t0=$(date +%s%N)
kannel_up "$NAME" "$SMSC_PORT" "http://127.0.0.1:$APP_PORT/kannel/mo"
STARTED=1
pass "kannel_up starts bearerbox and smsbox ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
# The operator comes up once smsbox is connected: bearerbox answers an MO that no box can take with
# 0x64, and a busy machine could let the script's first dial meet a bearerbox without its smsbox.
# bearerbox reconnects to the SMSC every second by itself.
"$SMSC" -p "$SMSC_PORT" -u "$KANNEL_SMSC_SYSTEM_ID" -w "$KANNEL_SMSC_PASSWORD" --script "$DIR/smsc.script" \
	>"$DIR/smsc.out" 2>&1 &
SIM_PID=$!
wait_for 10 kannel_listening "$SMSC_PORT" || { fail "spaza-smsc listens" "$(cat "$DIR/smsc.out")"; exit 0; }
check "bearerbox binds to the SMSC as a transceiver" kannel_wait_smsc 30

# ---- the pushes, once the MO part of the dialogue is through ----
wait_for 30 grep -q READY-FOR-PUSH "$DIR/smsc.out"
DLR_URL="http://127.0.0.1:$APP_PORT/kannel/dlr?type=%d&smsc=%i&fid=%F&to=%p"
sendsms() { curl -s -m 10 -G "$KANNEL_SENDSMS_URL" --data-urlencode "username=$KANNEL_SENDSMS_USER" \
	--data-urlencode "password=$KANNEL_SENDSMS_PASS" --data-urlencode "from=777" "$@"; }
out=$(sendsms --data-urlencode "to=27820000004" --data-urlencode "text=Your order 42 has shipped" \
	--data-urlencode "dlr-mask=3" --data-urlencode "dlr-url=$DLR_URL")
case $out in 0:*) pass "sendsms accepts an SMS push with a dlr-url" ;; *) fail "sendsms accepts an SMS push" "$out" ;; esac
if wait_for 20 grep -q 'GET /kannel/dlr?type=1&smsc=sim' "$DIR/nginx/access.log"; then
	pass "the SMSC's delivery receipt reaches the dlr-url as type 1 (delivered)"
else
	fail "the SMSC's delivery receipt reaches the dlr-url" "$(grep kannel/dlr "$DIR/nginx/access.log")"
fi
# The USSD push: meta-data URL-encoded twice (KANNEL.md), from the service code.
out=$(curl -s -m 10 "$KANNEL_SENDSMS_URL?username=$KANNEL_SENDSMS_USER&password=$KANNEL_SENDSMS_PASS&from=%2A120%2A777%23&to=27820000005&text=CON+Pushed+screen&meta-data=%3Fsmpp%3Fussd_service_op%3D%2502%26its_session_info%3D%2534%2501")
case $out in 0:*) pass "sendsms accepts a USSD push with meta-data" ;; *) fail "sendsms accepts a USSD push" "$out" ;; esac

# ---- what the app saw ----
wait_for 30 grep -q READY-FOR-SHUTDOWN "$DIR/smsc.out"
log=$DIR/nginx/access.log
check "the USSD begin reaches the app with ussd_service_op 1, its_session_info, service_type and the code" \
	in_file "$log" 'GET /kannel/mo?from=%2B27820000001&to=*120*777%23&text=*120*777%23&meta=%3Fsmpp%3Fussd_service_op%3D%2501%26its_session_info%3D4%2501%26&'
check "the app gets op=%01 and sess=4%01 (raw octets, URL-encoded once)" in_file "$log" '&op=%01&sess=4%01&binfo=USSD&'
check "the subscriber's answer reaches the app with ussd_service_op 18" in_file "$log" 'text=1&meta='
check "the app gets ussd_service_op 18 as op=%12" in_file "$log" '&op=%12&sess=4%01&'
check "a long service code reaches the app whole" in_file "$log" 'to=*120*777*1042%23&'
check "its_session_info 0x2600 reaches the app as %26%00" in_file "$log" '&sess=%26%00&'
check "an SMS reaches the app with no USSD meta-data" in_file "$log" 'to=777&text=STATUS+42&meta=%3Fsmpp%3F&op=&sess=&'
check "a UCS-2 SMS reaches the app as UTF-8" in_file "$log" 'text=Molo+%E2%98%BA'

# ---- stopping ----
t0=$(date +%s%N)
kannel_down "$NAME"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ -f "$DIR/bearerbox.pid" ] || ps -C bearerbox,smsbox -o args= | grep -qF "$DIR/kannel.conf"; then
	fail "kannel_down stops bearerbox and smsbox"
else
	pass "kannel_down stops bearerbox and smsbox ($ms ms)"
fi
wait "$SIM_PID"
rc=$?
SIM_PID=
# every expectation of the script, by name, from the simulator's "ok FILE:LINE" lines
n=0
while IFS= read -r line; do
	n=$((n + 1))
	case $line in expect-*) ;; *) continue ;; esac
	if grep -q "^ok $DIR/smsc.script:$n: " "$DIR/smsc.out"; then
		pass "SMSC got: ${line:0:110}"
	else
		fail "SMSC got: ${line:0:110}" "$(grep -A2 '^FAILED' "$DIR/smsc.out" | tr '\n' ' ')"
	fi
done < "$DIR/smsc.script"
if [ $rc = 0 ] && grep -q '^<< unbind' "$DIR/smsc.out"; then
	pass "bearerbox unbinds at shutdown and the SMSC script ends with every expectation held"
else
	fail "the SMSC script ends with every expectation held (exit $rc)" "$(grep -A2 '^FAILED' "$DIR/smsc.out" | tr '\n' ' ')"
fi
check "spaza-smsc ran clean under the sanitizers" sh -c "! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$DIR/smsc.out'"
check "no PANIC in the Kannel logs" sh -c "! grep -h PANIC '$DIR'/*.log '$DIR'/*.out"
exit 0
