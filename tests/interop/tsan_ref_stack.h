/*
 * Lets the reference libknet 1.25 run inside a ThreadSanitizer-instrumented
 * test program (included by knet_node.c and knet_matrix.c; a no-op in other
 * builds).
 *
 * The reference creates its threads with pthread_attr_setstacksize(1 MiB)
 * and one of them puts a ~280 KB frame on that stack.  glibc carves a
 * thread's static TLS out of the top of its stack, and libtsan's static TLS
 * is ~770 KB, so under TSan that thread overflows its stack (SIGSEGV in
 * libknet.so.1, no race involved).  The executable's definition interposes
 * the one in libc for the reference library too, and gives every explicitly
 * sized thread stack 8 MiB more.
 */
#ifndef KNET_TESTS_TSAN_REF_STACK_H
#define KNET_TESTS_TSAN_REF_STACK_H

#if defined(__SANITIZE_THREAD__)
#define KNET_TESTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KNET_TESTS_TSAN 1
#endif
#endif

#ifdef KNET_TESTS_TSAN
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

int pthread_attr_setstacksize(pthread_attr_t *attr, size_t size) {
    typedef int (*fn_t)(pthread_attr_t *, size_t);
    static fn_t real;
    if (!real) real = (fn_t)dlsym(RTLD_NEXT, "pthread_attr_setstacksize");
    return real ? real(attr, size + ((size_t)8 << 20)) : 0;
}
#endif

#endif
