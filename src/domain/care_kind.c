/* The ticket kinds (sql/011_care.sql's CHECK lists the same words). Shared by spazactl and the
 * daemon, so it needs nothing of the loop. */
#include <string.h>
#include "care.h"

int care_kind_valid(const char *word)
{
	static const char *const kinds[] = { "not_delivered", "wrong_item", "damaged", "charged_twice", "want_refund",
					     "other", "free_text" };
	for (size_t i = 0; word && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(word, kinds[i]))
			return 1;
	return 0;
}
