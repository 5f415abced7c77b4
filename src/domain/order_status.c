/* The order statuses' words (order_status.def). Apart from orders.c, which needs the database,
 * so the menu loader, the SMS texts and spazactl have them without it. */
#include <string.h>
#include "orders.h"

const char *const order_status_names[_ORDER_STATUS_COUNT] = {
#define ORDER_STATUS(e, word) word,
#include "order_status.def"
#undef ORDER_STATUS
};

int order_status_index(const char *word)
{
	for (int i = 0; i < _ORDER_STATUS_COUNT; i++)
		if (!strcmp(order_status_names[i], word))
			return i;
	return -1;
}
