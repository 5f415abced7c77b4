#pragma once
/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash for tables whose keys come from
 * outside (phone numbers, session ids). With a key drawn at start, nobody outside can choose
 * keys that land in one bucket, which a plain hash (FNV) lets anyone do. */
#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);
/* A random key (getrandom); the process aborts when the kernel has none to give. */
void siphash_random_key(uint8_t key[SIPHASH_KEY_LEN]);
