/*
 * The PASS/FAIL lines and the monotonic clock shared by the single-file
 * interop test programs (local_test.c, frag_test.c).  Each program prints
 * "N passed, N failed" last, from these counters.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (ok) passed++; else failed++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
