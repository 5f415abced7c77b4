# Shared by scripts/run, scripts/test and scripts/bench: install, build, and start the private
# PostgreSQL cluster and spazad on free loopback ports. Source it; every function dies on error.
set -euo pipefail

SPAZA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where the running state lives (clusters, configs, logs); SPAZA_VAR moves it, as
# tests/integration/demo.sh does to run a second demo beside yours.
VAR=${SPAZA_VAR:-$SPAZA_TOP/var}
PGBIN=/usr/lib/postgresql/15/bin

say() { printf '%s\n' "$*" >&2; }
die() { ticker_stop; say "error: $*"; exit 1; }

# ticker_start WHAT: until ticker_stop, a line on stderr every SPAZA_TICK seconds (default 5) that
# WHAT is still running and for how long, so that a long step (apt-get, the build, the fuzz targets)
# is not taken for a hang. The ticker also ends by itself when the script that started it is gone.
SPAZA_TICKER=
ticker_start() {
	ticker_stop
	local what=$1 t0=$SECONDS me=$$
	( while sleep "${SPAZA_TICK:-5}" && kill -0 "$me" 2>/dev/null; do
		printf '  ... %s (%d s)\n' "$what" $((SECONDS - t0))
	  done ) </dev/null >&2 &
	SPAZA_TICKER=$!
}
ticker_stop() {
	[ -n "${SPAZA_TICKER:-}" ] || return 0
	kill "$SPAZA_TICKER" 2>/dev/null || true
	wait "$SPAZA_TICKER" 2>/dev/null || true
	SPAZA_TICKER=
}

# Every Debian package the build, the demo and the tests need (clang and libclang-rt-14-dev:
# the fuzz targets' libFuzzer build; cppcheck and clang-tidy: scripts/lint; pgbackrest: WAL
# archiving and point-in-time restore, scripts/drill).
SPAZA_PACKAGES="autoconf automake libtool pkg-config make gcc git curl ca-certificates iproute2 procps
 libosmocore-dev libtalloc-dev libpq-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev
 libjansson-dev libqrencode-dev libzint-dev libyaml-dev postgresql-15 postgresql-client-15
 kannel kannel-extras libsmpp34-dev nginx-light clang libclang-rt-14-dev cppcheck clang-tidy openssl
 pgbackrest"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

spaza_deps() {
	local missing=()
	for p in $SPAZA_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	ticker_start "installing ${#missing[@]} packages"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	ticker_stop
	# The postgresql package may start a system cluster; we never use it, and it only costs memory.
	as_root systemctl disable --now postgresql >/dev/null 2>&1 || true
	as_root systemctl disable --now nginx >/dev/null 2>&1 || true
}

# The browser tests' own (tests/integration/browser.sh): Debian's chromium and node, npm where
# node came without it, and playwright-core from npm into var/browser (tests/browser/package.json;
# nothing of npm's in git). Any of it failing is said, not fatal: that test then says SKIP.
SPAZA_BROWSER_PACKAGES="chromium nodejs"
spaza_browser_deps() {
	local missing=()
	for p in $SPAZA_BROWSER_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	command -v npm >/dev/null || missing+=(npm)
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing for the browser tests: ${missing[*]}"
		ticker_start "installing ${missing[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
			say "could not install ${missing[*]}: the browser tests will be skipped"
		ticker_stop
	fi
	mkdir -p "$VAR/browser"
	cmp -s "$SPAZA_TOP/tests/browser/package.json" "$VAR/browser/package.json" &&
		[ -d "$VAR/browser/node_modules/playwright-core" ] && return 0
	cp "$SPAZA_TOP/tests/browser/package.json" "$VAR/browser/"
	command -v npm >/dev/null && (cd "$VAR/browser" && npm install --no-audit --no-fund --silent >/dev/null 2>&1) ||
		say "npm could not install playwright-core: the browser tests will be skipped"
}

# spaza_build MODE: "plain" (demo, benchmark) or "asan" (tests). Switching mode rebuilds everything.
spaza_build() {
	local mode=$1 flags=""
	[ "$mode" = asan ] && flags="--enable-sanitize"
	cd "$SPAZA_TOP"
	mkdir -p "$VAR"
	ticker_start "building ($mode)"
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || die "autoreconf failed"
	if [ ! -f config.status ] || [ "$(cat var/build-mode 2>/dev/null)" != "$mode" ]; then
		[ -f Makefile ] && make -s distclean >/dev/null 2>&1 || true
		./configure -q $flags CFLAGS="-O2 -g" >/dev/null || die "configure failed"
		mkdir -p var
		echo "$mode" > var/build-mode
	fi
	make -s -j"$(nproc)" >/dev/null || die "build failed (run make to see why)"
	make -s -j"$(nproc)" -C tests check TESTS= >/dev/null || die "test build failed"
	ticker_stop
}

# A free TCP port on loopback, below the kernel's range for outgoing connections (32768 and
# up), so that no connection's local end can take it between our check and the bind; a port
# is free when no socket in any state uses it.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(( (RANDOM % 12000) + 20000 ))
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	die "no free port"
}

port_or_free() { # port_or_free PORT: PORT when no socket uses it, else a free port
	if ss -Htan "sport = :$1" 2>/dev/null | grep -q .; then free_port; else echo "$1"; fi
}

wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
	local t=$1; shift
	local end=$(( $(date +%s) + t ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# PostgreSQL refuses to run as root: when we are root it runs as the system user "spaza".
pg_user() { if [ "$(id -u)" = 0 ]; then echo spaza; else id -un; fi; }
pg_run() {
	local u; u=$(pg_user)
	if [ "$(id -u)" = 0 ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

# spazad starts as root and drops to the spaza user, then reads the menus on `menu reload` and
# the back office's pages on every request from this checkout. A checkout under a directory
# others cannot enter (/root, a mktemp -d) would leave it unable to: give "others" the right to
# pass through (x, never r: nothing is listed) each directory from / down to the checkout.
spaza_reachable() {
	[ "$(id -u)" = 0 ] || return 0
	runuser -u spaza -- test -r "$SPAZA_TOP/menus/shop.yaml" 2>/dev/null && return 0
	local d=$SPAZA_TOP
	while [ "$d" != / ]; do
		[ -n "$(find "$d" -maxdepth 0 ! -perm -o=x)" ] && chmod o+x "$d" &&
			say "let spazad's user pass through $d (o+x) to reach the menus and pages"
		d=$(dirname "$d")
	done
}

# Where a cluster lives: under var/, unless the PostgreSQL user cannot reach it there (a
# checkout under /root, say); then under /var/tmp, named after this checkout.
pg_dir() {
	local dir=$VAR/$1
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown "$(pg_user)" "$dir" && chmod 700 "$dir"
	if ! pg_run test -w "$dir" 2>/dev/null; then
		local key=$SPAZA_TOP	# (named after the checkout, or after SPAZA_VAR when that is set)
		[ "$VAR" = "$SPAZA_TOP/var" ] || key=$VAR
		dir=/var/tmp/spaza-$(printf '%s' "$key" | md5sum | cut -c1-8)/$1
		mkdir -p "$dir"
		[ "$(id -u)" = 0 ] && chown "$(pg_user)" "$dir" "$(dirname "$dir")" && chmod 700 "$dir"
		ln -sfn "$dir" "$VAR/$1.link"
	fi
	echo "$dir"
}

# pg_up NAME: a private cluster on a free loopback port (no Unix socket, no system service).
# Exports PGHOST, PGPORT, PGUSER, PGDATABASE and SPAZA_CONNINFO.
pg_up() {
	local dir port
	if [ "$(id -u)" = 0 ] && ! id spaza >/dev/null 2>&1; then
		useradd -r -M -d /nonexistent -s /usr/sbin/nologin spaza
	fi
	spaza_reachable
	dir=$(pg_dir "$1")
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		pg_run "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null ||
			die "initdb failed"
	fi
	if [ -f "$dir/port" ] && pg_run "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		port=$(cat "$dir/port")
	else
		port=$(free_port)
		pg_run "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
			-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null ||
			die "PostgreSQL did not start: see $dir/postgres.log"
		echo "$port" | pg_run tee "$dir/port" >/dev/null
	fi
	export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=spaza
	wait_for 30 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" || die "PostgreSQL not ready"
	pg_roles
	psql -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname='spaza'" | grep -q 1 ||
		psql -d postgres -qc "CREATE DATABASE spaza OWNER $SPAZA_OWNER_ROLE" >/dev/null
	pg_adopt spaza
	# spazad connects as the runtime role, spazactl as the owner (database-owner, spazad_cfg);
	# psql here stays the superuser, for tests that reach behind both.
	export SPAZA_CONNINFO="host=127.0.0.1 port=$port user=$SPAZA_APP_ROLE dbname=spaza"
	export SPAZA_OWNER_CONNINFO="host=127.0.0.1 port=$port user=$SPAZA_OWNER_ROLE dbname=spaza"
}

# The two database roles (doc/security.md): the owner runs the migrations and owns every
# object; spazad's runtime role may do only what sql/006_roles.sql grants it, and neither
# may create roles or databases or is a superuser.
SPAZA_OWNER_ROLE=spaza_owner
SPAZA_APP_ROLE=spaza_app
pg_roles() {
	local r
	for r in "$SPAZA_OWNER_ROLE" "$SPAZA_APP_ROLE"; do
		psql -X -d postgres -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$r'" | grep -q 1 ||
			psql -X -d postgres -qc "CREATE ROLE $r LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null ||
			die "cannot create the database role $r"
	done
	# Databases are made from template1, and the tests drop and make theirs often: with its
	# public schema the owner's, every new database's is too, so the owner can migrate it.
	psql -X -d template1 -qc "ALTER SCHEMA public OWNER TO $SPAZA_OWNER_ROLE" >/dev/null
}

# pg_adopt DB: a database made before there were two roles (the demo's under var/, whose
# migrations ran as the superuser) becomes the owner's, with everything in its public schema,
# so that the owner can migrate it further. Nothing to do on a database the owner made.
pg_adopt() {
	psql -X -d "$1" -v ON_ERROR_STOP=1 -q >/dev/null <<-SQL || die "cannot hand database $1 to $SPAZA_OWNER_ROLE"
	ALTER DATABASE "$1" OWNER TO $SPAZA_OWNER_ROLE;
	ALTER SCHEMA public OWNER TO $SPAZA_OWNER_ROLE;
	DO \$\$
	DECLARE r record;
	BEGIN
		-- tables first: a serial's sequence follows its table and cannot be given away alone
		FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')
			   AND c.relowner <> '$SPAZA_OWNER_ROLE'::regrole LOOP
			EXECUTE format('ALTER TABLE %s OWNER TO $SPAZA_OWNER_ROLE', r.name);
		END LOOP;
		FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> '$SPAZA_OWNER_ROLE'::regrole LOOP
			EXECUTE format('ALTER SEQUENCE %s OWNER TO $SPAZA_OWNER_ROLE', r.name);
		END LOOP;
		FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			 WHERE n.nspname = 'public' AND p.proowner <> '$SPAZA_OWNER_ROLE'::regrole LOOP
			EXECUTE format('ALTER FUNCTION %s OWNER TO $SPAZA_OWNER_ROLE', r.name);
		END LOOP;
	END \$\$;
	SQL
}

pg_down() {
	local dir
	dir=$(pg_dir "$1")
	[ -f "$dir/data/PG_VERSION" ] || return 0
	pg_run "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -f "$dir/port"
}

# ---- backups: continuous WAL archiving and point-in-time restore with pgBackRest (doc/security.md)

# pgbr NAME ARGS...: pgBackRest on cluster NAME's stanza "spaza", as the PostgreSQL user. Its
# configuration, repository, logs and lock live beside the cluster (pg_dir NAME); a shop's
# repository belongs on another machine or in object storage (repo1-type=s3 and the like).
pgbr() {
	local dir; dir=$(pg_dir "$1"); shift
	pg_run pgbackrest --config="$dir/pgbackrest.conf" --stanza=spaza "$@"
}

# pg_archive NAME: WAL archiving on for cluster NAME (pg_up first), and a full backup if the
# repository has none yet. Running it again changes nothing and restarts nothing. Small and
# quick: no compression, an immediate checkpoint for the backup, one process.
pg_archive() {
	local dir; dir=$(pg_dir "$1")
	pg_run tee "$dir/pgbackrest.conf" >/dev/null <<-CONF
	[global]
	repo1-path=$dir/backup
	repo1-retention-full=2
	log-path=$dir/pgbackrest-log
	lock-path=$dir/pgbackrest-lock
	spool-path=$dir/pgbackrest-spool
	log-level-console=warn
	log-level-file=info
	compress-type=none
	start-fast=y
	process-max=1

	[spaza]
	pg1-path=$dir/data
	pg1-port=$PGPORT
	pg1-socket-path=$dir
	pg1-user=postgres
	CONF
	pg_run mkdir -p "$dir/backup" "$dir/pgbackrest-log" "$dir/pgbackrest-lock" "$dir/pgbackrest-spool"
	local cmd="pgbackrest --config=$dir/pgbackrest.conf --stanza=spaza archive-push %p"
	if [ "$(psql -X -d postgres -qtAc "SHOW archive_command")" = "$cmd" ] &&
	   [ "$(psql -X -d postgres -qtAc "SHOW archive_mode")" = on ] &&
	   pgbr "$1" info --output=json 2>/dev/null | grep -q '"label"'; then
		return 0	# archiving, with a backup to start from
	fi
	psql -X -d postgres -q -c "ALTER SYSTEM SET archive_mode = on" -c "ALTER SYSTEM SET wal_level = replica" \
		-c "ALTER SYSTEM SET archive_command = '$cmd'" >/dev/null || die "cannot configure WAL archiving"
	pg_socket "$1" restart
	pgbr "$1" stanza-create >/dev/null || die "pgbackrest stanza-create failed (see $dir/pgbackrest-log)"
	pgbr "$1" info --output=json | grep -q '"label"' && return 0
	pgbr "$1" --type=full backup >/dev/null || die "pgbackrest backup failed (see $dir/pgbackrest-log)"
}

# pg_socket NAME [restart]: cluster NAME restarted with a Unix socket in its own directory if it
# has none (or always, with "restart": archive_mode takes one). pgBackRest's stanza-create and
# backup reach PostgreSQL through a socket only; pg_up starts without one, and archiving needs none.
pg_socket() {
	local dir; dir=$(pg_dir "$1")
	[ "${2:-}" = restart ] || ! pg_run test -S "$dir/.s.PGSQL.$PGPORT" || return 0
	pg_run "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -m fast -w -t 30 \
		-o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" restart >/dev/null ||
		die "PostgreSQL did not restart: see $dir/postgres.log"
	wait_for 30 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" || die "PostgreSQL not ready"
}

# spaza_secrets FILE: the HMAC keys (PIN hashes, retailer signing secrets), made once, mode
# 0600, outside git. Losing this file makes every issued voucher PIN unusable.
spaza_secrets() {
	[ -s "$1" ] && return 0
	( umask 077
	  printf '# Spaza secrets: keep out of git and backups you do not trust\n' > "$1"
	  for k in voucher-pin retailer-master slip-qr; do
		printf '%s = %s\n' "$k" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >> "$1"
	  done )
	spaza_own "$1"
}

# spaza_own FILE: started as root, spazad runs as the user spaza (run-as) and reads the secrets
# file again whenever it changes (a key rotation): the file is that user's.
spaza_own() { [ "$(id -u)" != 0 ] || ! id spaza >/dev/null 2>&1 || chown spaza "$1"; }

# spaza_secret_set FILE NAME VALUE: the secrets file line NAME = hex(VALUE), replacing one of
# that name (passwords: kannel-sendsms-password, database-password, vty-token; >= 16 bytes).
spaza_secret_set() {
	local hex
	hex=$(printf '%s' "$3" | od -An -tx1 | tr -d ' \n')
	( umask 077; grep -v "^$2 *=" "$1" > "$1.new" 2>/dev/null; printf '%s = %s\n' "$2" "$hex" >> "$1.new" )
	mv "$1.new" "$1"
	spaza_own "$1"
}

# spazad_cfg FILE HTTP_PORT VTY_PORT [TILL_PORT ADMIN_PORT]: a config for the current
# SPAZA_CONNINFO, with a secrets file beside it. HTTP_PORT is the front listener's (/ussd/at,
# /kannel/*); unless given, the till and admin listeners take the two ports after it (the
# demo's 8181 and 8182) when those are free, else free ports; cfg_port finds them.
spazad_cfg() {
	spaza_secrets "$(dirname "$1")/secrets"
	local till=${4:-$(port_or_free $(($2 + 1)))} admin=${5:-$(port_or_free $(($2 + 2)))}
	cat > "$1" <<CFG
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging level set-all notice
line vty
 bind 127.0.0.1 $3
spaza
 listen front 127.0.0.1 $2
 listen till 127.0.0.1 $till
 listen admin 127.0.0.1 $admin
 database $SPAZA_CONNINFO
 database-owner $SPAZA_OWNER_ROLE
 menus $SPAZA_TOP/menus
 office web-dir $SPAZA_TOP/web
 country-code 27
 secrets-file $(cd "$(dirname "$1")" && pwd)/secrets
CFG
}

# cfg_port CFG front|till|admin: the port of that listener in a config spazad_cfg wrote.
cfg_port() { awk -v k="$2" '$1 == "listen" && $2 == k && $4 ~ /^[0-9]+$/ { p = $4 } END { print p }' "$1"; }

# spazad_up CFG LOG PIDFILE HTTP_PORT: start the daemon, wait until it answers HTTP.
spazad_up() {
	local cfg=$1 log=$2 pidf=$3 port=$4
	"$SPAZA_TOP/src/spazad" -c "$cfg" >"$log" 2>&1 &
	echo $! > "$pidf"
	wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$port/health" ||
		{ tail -20 "$log" >&2; die "spazad did not come up (log: $log)"; }
}

spazad_down() {
	local pidf=$1 pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	if kill "$pid" 2>/dev/null; then
		wait_for 10 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidf"
}
