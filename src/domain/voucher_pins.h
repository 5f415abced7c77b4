#pragma once
/* A batch of voucher PINs, made where staff issue them (spazactl vouchers issue, the back
 * office's Money page): each PIN goes to the batch's CSV for the person who sells them and
 * nowhere else; the database gets its HMAC under 'voucher-pin' (secrets.h) and last 4 digits. */
#include <stddef.h>
#include <stdio.h>

#define VOUCHER_PIN_LEN 16	/* with its Luhn check digit */

/* One new PIN (a refund's new voucher, spazactl refund): 0 or -EIO. */
int voucher_pin(char pin[VOUCHER_PIN_LEN + 1]);

/* The sizes of the HMAC and last-4 text[] literals for count PINs. */
size_t voucher_pins_hmacs_len(long count);
size_t voucher_pins_last4s_len(long count);

/* Writes count new PINs to fp as "pin,value,expires" lines under a header (value_txt as
 * money_format() writes it, "R" first), and their HMACs under version key_v and last 4 digits
 * as text[] literals ("{hex,...}", "{1234,...}") into hmacs and last4s. 0 or -EIO. */
int voucher_pins_make(FILE *fp, long count, const char *value_txt, const char *expires_txt, unsigned key_v,
		      char *hmacs, char *last4s);
