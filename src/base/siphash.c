/* SipHash-2-4, written from the paper's description ("SipHash: a fast short-input PRF"): four
 * 64-bit words of state from the key, the message in little-endian 64-bit blocks with two
 * rounds each, the last block carrying the length's low byte, then four rounds. The
 * published test vectors are in tests/siphash_test.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t sip_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = sip_le64(key), k1 = sip_le64(key + 8);
	/* "somepseudorandomlygeneratedbytes", as the paper sets the state */
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
			  k1 ^ 0x7465646279746573ULL };
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8)
		sip_absorb(v, sip_le64(in + i));
	uint8_t last[8] = { 0 };
	memcpy(last, in + full, len - full);
	last[7] = (uint8_t)len;
	sip_absorb(v, sip_le64(last));
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void siphash_random_key(uint8_t key[SIPHASH_KEY_LEN])
{
	/* without a secret key the tables are as open to flooding as with FNV: no silent fallback */
	if (getrandom(key, SIPHASH_KEY_LEN, 0) != SIPHASH_KEY_LEN)
		abort();
}
