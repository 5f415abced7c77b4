#pragma once
/* The shop's segment rules (doc/crm.md): a few conditions, all of which a member meets.
 *
 *   bought CATEGORY within DAYS   a paid order from that category (its number or its name) lately
 *   spent-over RAND               more than that spent on paid orders, ever
 *   lang en|zu|af                 the customer's language
 *   credit-due                    owes on their credit line
 *   open-ticket                   a care ticket not resolved yet
 *   opted-in                      has not sent STOP
 *   segment top|average|once-off|new|lapsed   a named RFM segment
 *
 * joined by spaces or "and", each at most once. Pure: parsed and written back here, turned into
 * the parameters of spaza_segment_members() (sql/015_crm.sql) for the statements that count
 * and list members; fuzzed (fuzz/segment_rule_fuzz.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEGMENT_RULE_MAX 512		/* longest rule text accepted */
#define SEGMENT_CATEGORY_MAX 64
#define SEGMENT_RULE_NPARAMS 8

/* The named RFM segments, in the order reports list them. */
#define SEGMENT_NAMED(X) X(TOP, "top") X(AVERAGE, "average") X(ONCE_OFF, "once-off") X(NEW, "new") X(LAPSED, "lapsed")
enum segment_named {
#define SEGMENT_ENUM(id, word) SEGMENT_##id,
	SEGMENT_NAMED(SEGMENT_ENUM)
#undef SEGMENT_ENUM
	_SEGMENT_NAMED_COUNT
};
const char *segment_named_word(enum segment_named s);
/* The named segment of a word, or -1. */
int segment_named_index(const char *word);

struct segment_rule {
	char category[SEGMENT_CATEGORY_MAX];	/* "" : no bought condition */
	unsigned within_days;
	int64_t spent_over_cents;		/* -1: none */
	char lang[3];				/* "": any */
	bool credit_due, open_ticket, opted_in;
	int named;				/* enum segment_named, -1: none */
};

/* Parses the words of a rule. 0, or -EINVAL with why (a short sentence) filled. */
int segment_rule_parse(const char *text, struct segment_rule *r, char *why, size_t why_len);
/* The rule as canonical text ("bought drinks within 30 and lang zu"): parsing it gives the same
 * rule. "everyone" for a rule with no condition. 0 or -ENOSPC. */
int segment_rule_format(const struct segment_rule *r, char *buf, size_t len);

/* The statement parameters ($1..$8 of spaza_segment_members) in bufs, pointed to by params
 * (NULL for a condition not given). */
struct segment_rule_params {
	char within[16], spent[24];
	const char *v[SEGMENT_RULE_NPARAMS];
};
void segment_rule_params(const struct segment_rule *r, struct segment_rule_params *p);
