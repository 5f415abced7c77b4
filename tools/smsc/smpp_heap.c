#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <stdio.h>

#include <smpp34.h>
#include <smpp34_heap.h>
#include <smpp34_structs.h>

#include "smsc.h"

/* libsmpp34's allocations, kept on a list. When smpp34_unpack() fails half-way through the TLVs it
 * returns without linking the TLV it was filling, and nobody could free it; we can: smpp_heap_reset()
 * after a failed unpack frees whatever the library still holds (nothing else is live at that point,
 * as every unpacked PDU's TLV list is destroyed right after use). */
struct smpp_block {
	struct smpp_block *prev, *next;
	size_t size;
	max_align_t data[];
};

static struct smpp_block smpp_heap = { &smpp_heap, &smpp_heap, 0 };

static void *smpp_heap_alloc(size_t n)
{
	struct smpp_block *b = malloc(sizeof(*b) + n);

	if (!b)
		die("out of memory");
	b->size = n;
	b->next = smpp_heap.next;
	b->prev = &smpp_heap;
	smpp_heap.next->prev = b;
	smpp_heap.next = b;
	return b->data;
}

static void smpp_heap_free(void *p)
{
	struct smpp_block *b;

	if (!p)
		return;
	b = (struct smpp_block *)((char *)p - offsetof(struct smpp_block, data));
	b->prev->next = b->next;	/* NOLINT(clang-analyzer-unix.Malloc): b is still on the list; the analyzer loses track of the ring */
	b->next->prev = b->prev;
	free(b);
}

static void *smpp_heap_realloc(void *p, size_t n)
{
	void *q = smpp_heap_alloc(n);

	if (p) {
		struct smpp_block *b = (struct smpp_block *)((char *)p - offsetof(struct smpp_block, data));

		memcpy(q, p, b->size < n ? b->size : n);
		smpp_heap_free(p);
	}
	return q;
}

void smpp_heap_reset(void)
{
	while (smpp_heap.next != &smpp_heap)
		smpp_heap_free(smpp_heap.next->data);
}

/* The reason at the end of libsmpp34's field-by-field trace: "[field:value(reason)]". */
const char *smpp_error(void)
{
	const char *p = smpp34_strerror + strlen(smpp34_strerror);
	int brackets = 0;

	while (p > smpp34_strerror && brackets < 2)
		if (*--p == '[')
			brackets++;
	return p;
}

/* Every libsmpp34 allocation from now on goes through the list above. */
void smpp_heap_install(void)
{
	static const struct smpp34_memory_functions heap = { smpp_heap_alloc, smpp_heap_realloc, smpp_heap_free };

	smpp34_set_memory_functions(&heap);
}
