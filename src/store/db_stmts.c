/* The statement table both executors read (see db_stmts.h). */
#include "db_stmts.h"

const struct db_stmt_info db_stmts[_DB_STMT_COUNT] = {
#define X(nm, np, s) [DB_##nm] = { #nm, np, s },
#include "db_stmts.def"
#undef X
};

#define X(nm, np, s) _Static_assert(np <= DB_MAX_PARAMS, #nm " has more than DB_MAX_PARAMS parameters");
#include "db_stmts.def"
#undef X
