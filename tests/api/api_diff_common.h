/* What the two differential programs (api_diff.c, api_diff_live.c) share:
 * the output line format that compare_api_diff.cmake splits, errno names,
 * bounded waits, the watchdog and the report of the library mapped.
 *
 * Each program is one translation unit: it defines DIFF_PROG (its name,
 * used in stderr messages) and includes this header once. */
#ifndef API_DIFF_COMMON_H
#define API_DIFF_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef DIFF_PROG
#error "define DIFF_PROG before including api_diff_common.h"
#endif

/* rc and errno of the call just made */
static long long g_rc;
static int g_err;
#define CALL(expr) (errno = 0, g_rc = (long long)(expr), g_err = errno)

/* Symbolic errno ("EINVAL"), so that outputs do not depend on libc's wording. */
static const char *errname(int e)
{
	static char buf[32];
	const char *n = strerrorname_np(e);

	if (e == 0)
		return "0";
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E#%d", e);
	return buf;
}

/* Prints "<label> <body>". The label is one word (blanks become '_'), and
 * '[', ']', ';', '\' and newlines are kept out of the line, because the
 * comparison script splits the output as a CMake list. */
static void emit_line(const char *label, const char *body)
{
	char line[2048];
	char *c;
	int n;

	n = snprintf(line, sizeof(line), "%s", label);
	for (c = line; *c; c++)
		if (*c == ' ')
			*c = '_';
	if (n < (int)sizeof(line) - 1)
		snprintf(line + n, sizeof(line) - n, " %s", body);
	for (c = line; *c; c++) {
		if (*c == '[')
			*c = '(';
		else if (*c == ']')
			*c = ')';
		else if (*c == ';' || *c == '\\' || *c == '\n')
			*c = '_';
	}
	puts(line);
	fflush(stdout);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits (bounded) until fd is readable: 1 readable, 0 not. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* SIGALRM handler: a hung library must fail the run, not the CI job. */
static void watchdog(int sig)
{
	static const char msg[] = DIFF_PROG ": watchdog expired\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing else to do in a signal handler */
	}
	_exit(3);
}

/* The libraries' log: a non-blocking pipe with room for bursts, so that
 * logging never blocks a library thread; the program drains logfds[0]. */
static int logfds[2];

/* Common start of both programs: the watchdog armed for `seconds`, no
 * SIGPIPE, stdout line-buffered, the log pipe open.  0, or -1 without a pipe. */
static int diff_start(unsigned int seconds)
{
	signal(SIGALRM, watchdog);
	alarm(seconds);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(logfds) != 0)
		return -1;
	fcntl(logfds[0], F_SETFL, O_NONBLOCK);
	fcntl(logfds[1], F_SETFL, O_NONBLOCK);
	fcntl(logfds[1], F_SETPIPE_SZ, 1 << 20);
	return 0;
}

/* Says on stderr which libknet.so this run mapped: the comparison script
 * checks that the two runs really used the two libraries. */
static void report_library(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (p && strstr(p, "/libknet.so")) {
			fprintf(stderr, "libknet: %s", p);
			break;
		}
	}
	fclose(f);
}

#endif
