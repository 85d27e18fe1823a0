/* The benchmark payload, shared by knet_bench and bench/kernel_floor.c so that
 * both compress alike: half pseudo-random, half zeros in 16-byte blocks
 * (LZ4 about 0.6 of the input). */
#ifndef BENCH_PAYLOAD_H
#define BENCH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

static inline void bench_fill_payload(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		if ((i / 16) % 2 == 0) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
		} else {
			buf[i] = 0;
		}
	}
}

#endif
