# Every SQL statement is a constant with parameters ($1, $2 ...): the sources are read for
# SQL text built at run time, where a value could become SQL. Three checks over src/ and
# tools/ (comments left out):
#  1. no printf-style or string-building call (snprintf, asprintf, talloc_asprintf, strcat ...)
#     has SQL in its format or text;
#  2. every statement handed to libpq (PQexec, PQexecParams, PQprepare, PQsendQuery ... and the
#     project's wrappers, found as functions with a `const char *sql` parameter) is string
#     literals, or a constant from a table: db_stmts.def (db_stmts[].sql), the embedded
#     migrations (m->sql), or a local `sql` only ever assigned literals;
#  3. each db_stmts.def statement uses exactly the parameters $1..$N its count declares.
# An exception is listed below with its reason; it must still be found, so a stale entry fails.
# Needs no daemon or database.
source "$(dirname "$0")/lib.sh"

# "file|the call's text, spaces squeezed|why", one a line. LISTEN takes no parameters, only an
# identifier: the channel names are the daemon's own constants, quoted by PQescapeIdentifier().
ALLOWED='src/store/db.c|talloc_asprintf(g_db, "LISTEN %s", ident)|LISTEN takes an identifier, not a parameter
src/store/db.c|PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0)|that LISTEN, sent'

cd "$SPAZA_TOP" || exit 1
out=$(ALLOWED=$ALLOWED perl -e '
use strict; use warnings;
my (@fail1, @fail2, @fail3, %allowed_seen, $calls);
my %allowed = map { my ($f, $c) = split /\|/; ("$f|$c" => 1) } grep { length } split /\n/, $ENV{ALLOWED};
my $str = qr/"(?:[^"\\\n]|\\.)*"/;
my $sqlkw = qr/(?:^|[\s(])(?:SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE|ALTER|DROP|TRUNCATE|LISTEN|NOTIFY|LOCK\s+TABLE|GRANT|COPY|WITH\s+\w+\s+AS|SET\s+(?:LOCAL|SESSION)|BEGIN|COMMIT|ROLLBACK|VALUES\s*\(|WHERE\s|ORDER\s+BY)\b/;
my %exec = (PQexec => 2, PQsendQuery => 2, PQexecParams => 2, PQsendQueryParams => 2,
	    PQprepare => 3, PQsendPrepare => 3);
my @build = qw(snprintf sprintf vsnprintf vsprintf asprintf vasprintf talloc_asprintf talloc_asprintf_append
	       talloc_asprintf_append_buffer talloc_vasprintf talloc_strdup_append talloc_strndup_append strcat
	       strncat stpcpy strcpy);

sub strip_comments { my $s = shift;
	# comments out, strings kept (and their length, so offsets still give line numbers)
	$s =~ s{($str)|(/\*.*?\*/)|(//[^\n]*)}{ defined $1 ? $1 : ($2 // $3) =~ s/[^\n]/ /gr }gse;
	return $s; }
sub line_of { my ($s, $pos) = @_; return 1 + (substr($s, 0, $pos) =~ tr/\n//); }
# the argument list of the call whose "(" is at $pos: (text, [args])
sub call_args { my ($s, $pos) = @_;
	my ($depth, $i, $cur, @args) = (0, $pos, "");
	for ($i = $pos; $i < length $s; $i++) {
		my $c = substr($s, $i, 1);
		if ($c eq "\"") { substr($s, $i) =~ /^($str)/ or last; $cur .= $1; $i += length($1) - 1; next; }
		if ($c eq "(") { $depth++; next if $depth == 1; }
		if ($c eq ")") { $depth--; if (!$depth) { push @args, $cur; last; } }
		if ($c eq "," && $depth == 1) { push @args, $cur; $cur = ""; next; }
		$cur .= $c;
	}
	s/^\s+|\s+$//g for @args;
	return (substr($s, $pos, $i - $pos + 1), \@args); }
sub squeeze { my $t = shift; $t =~ s/\s+/ /g; $t =~ s/\( /(/g; $t =~ s/ \)/)/g; return $t; }
sub literal { my $e = shift; return $e =~ /^(?:$str|[A-Z][A-Z0-9_]*|\s)+$/ && $e =~ /$str/; }

my @files = (glob("src/*.c"), glob("src/*/*.c"), glob("tools/*.c"));
my %wrap;	# function name => index of its sql parameter (1-based)
my %src;
for my $f (@files) {
	next if $f eq "src/sql_embed.c";
	local $/; open(my $fh, "<", $f) or die "$f: $!"; $src{$f} = strip_comments(<$fh>);
	while ($src{$f} =~ /\b(\w+)\s*\(([^;{}()]*)\)\s*\{/g) {
		my ($name, @p) = ($1, split /,/, $2);
		for my $i (0 .. $#p) { $wrap{$name} = $i + 1 if $p[$i] =~ /\bconst\s+char\s*\*\s*sql\s*$/; }
	}
}
my %sqlcall = (%exec, %wrap, db_sync_exec => 3);
for my $f (sort keys %src) {
	my $s = $src{$f};
	# function bodies: where each starts, what its parameters are
	my @funcs;
	while ($s =~ /\b(\w+)\s*\(([^;{}()]*)\)\s*\{/g) { push @funcs, [pos($s), $1, $2]; }
	my $func_at = sub { my $p = shift; my $r = [0, "", ""]; for (@funcs) { last if $_->[0] > $p; $r = $_; } return $r; };
	# 1. SQL built by string functions
	for my $fn (@build) {
		while ($s =~ /\b\Q$fn\E\s*\(/g) {
			my $at = pos($s) - 1;
			my ($text, $args) = call_args($s, $at);
			my $lits = join " ", map { /"((?:[^"\\]|\\.)*)"/g } @$args;
			next unless $lits =~ $sqlkw;
			my $key = "$f|" . squeeze("$fn$text");
			if ($allowed{$key}) { $allowed_seen{$key} = 1; next; }
			push @fail1, "$f:" . line_of($s, $at) . ": " . squeeze("$fn$text");
		}
	}
	# 2. what reaches libpq
	for my $fn (sort keys %sqlcall) {
		while ($s =~ /\b\Q$fn\E\s*\(/g) {
			my $at = pos($s) - 1;
			# a definition or prototype (a type before the name on its line), not a call
			my ($line_start) = substr($s, 0, $-[0]) =~ /([^\n]*)$/;
			next if $line_start =~ /^\s*(?:(?:static|const|struct|unsigned|enum)\s+)*\w+[\s*]+$/ && $line_start !~ /\breturn\b/;
			my ($text, $args) = call_args($s, $at);
			my $e = $args->[$sqlcall{$fn} - 1] // "";
			$calls++;
			next if literal($e);
			next if $e =~ /^db_stmts\[[^\]]+\]\.sql$/ || $e =~ /^m->sql$/;
			if ($e eq "sql") {
				my ($start, $name, $params) = @{ $func_at->($at) };
				next if $params =~ /\bconst\s+char\s*\*\s*sql\b/;
				my $end = index($s, "\n}", $start); $end = length $s if $end < 0;
				my $body = substr($s, $start, $end - $start);
				my @rhs = $body =~ /\bsql\s*=\s*([^;]*);/g;
				next if @rhs && !grep { !literal($_) } @rhs;
			}
			my $key = "$f|" . squeeze("$fn$text");
			if ($allowed{$key}) { $allowed_seen{$key} = 1; next; }
			push @fail2, "$f:" . line_of($s, $at) . ": $fn: the statement is <" . squeeze($e) . ">";
		}
	}
}
# 3. db_stmts.def: declared count = highest $N, and every $1..$N used
{
	local $/; open(my $fh, "<", "src/store/db_stmts.def") or die; my $d = strip_comments(<$fh>);
	while ($d =~ /\bX\(\s*(\w+)\s*,\s*(\d+)\s*,((?:\s*$str)+)\s*\)/g) {
		my ($name, $n, $lits) = ($1, $2, $3);
		my $sql = join "", $lits =~ /"((?:[^"\\]|\\.)*)"/g;
		my %used = map { $_ => 1 } $sql =~ /\$(\d+)/g;
		my $max = 0; for (keys %used) { $max = $_ if $_ > $max; }
		my @missing = grep { !$used{$_} } 1 .. $n;
		push @fail3, "$name declares $n parameters, uses \$" . join(",\$", sort { $a <=> $b } keys %used) if $max != $n || @missing;
	}
}
for (keys %allowed) { push @fail1, "allowed exception not found any more (remove it): $_" unless $allowed_seen{$_}; }
print @fail1 ? "FAIL: sql: SQL text built at run time: " . join("; ", @fail1) . "\n"
	     : "PASS: sql: no SQL text is built with printf-style or string functions\n";
print @fail2 ? "FAIL: sql: statements that are not constants: " . join("; ", @fail2) . "\n"
	     : "PASS: sql: every statement handed to libpq is a constant (" . ($calls // 0) . " call sites)\n";
print @fail3 ? "FAIL: sql: db_stmts.def: " . join("; ", @fail3) . "\n"
	     : "PASS: sql: every db_stmts.def statement uses exactly its declared parameters\n";
' 2>&1) || { fail "sql: the source check did not run: $out"; exit 0; }
echo "$out"
