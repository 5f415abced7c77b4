/* cod_order_parse() (domain/cod.c): the order numbers a cashier types on the till page, as
 * SMS and packing slips write them, are taken; anything else, which would reach the database
 * as another number or none, is refused. */
#include <errno.h>
#include <string.h>
#include "cod.h"
#include "testlib.h"

static void taken(const char *in, long long want)
{
	int64_t id = 0;
	char what[96];
	snprintf(what, sizeof(what), "\"%s\" is order %lld", in, want);
	T_CHECK(cod_order_parse(in, strlen(in), &id) == 0 && id == want, what, "got %lld", (long long)id);
}

static void refused(const char *in)
{
	int64_t id = 0;
	char what[96];
	snprintf(what, sizeof(what), "\"%s\" is refused", in);
	T_EQ_INT(cod_order_parse(in, strlen(in), &id), -EINVAL, what);
}

int main(void)
{
	taken("1009", 1009);
	taken("#1009", 1009);
	taken(" 1009 ", 1009);
	taken("999999999999999", 999999999999999LL);
	refused("");
	refused("#");
	refused("0");
	refused("-5");
	refused("10 09");
	refused("1009x");
	refused("1009;DROP");
	refused("##1009");
	refused("1000000000000000");	/* 16 digits: past COD_ORDER_MAX, and would overflow further on */
	refused("99999999999999999999");
	return T_DONE();
}
