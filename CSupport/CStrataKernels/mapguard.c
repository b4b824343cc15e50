// See CStrataKernels.h ("Mapped-file guard") for the contract. Everything the signal handler
// touches is static, prepared before the mapping is used, and read with acquire loads; the
// handler calls only write(2), _exit(2), sigaction(2) and raise(3), all async-signal-safe.
#define _GNU_SOURCE
#include "CStrataKernels.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define GUARD_SLOTS 64
#define GUARD_MESSAGE 1024

typedef struct {
    _Atomic int state;          // 0 free, 1 being filled, 2 active
    uintptr_t lo, hi;
    size_t length;
    char message[GUARD_MESSAGE];
} guard_slot;

static guard_slot slots[GUARD_SLOTS];
static struct sigaction previous_action;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        guard_slot *s = &slots[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != 2) continue;
        if (a >= s->lo && a < s->hi) {
            ssize_t unused = write(2, s->message, s->length);
            (void)unused;
            _exit(74);
        }
    }
    // Not a guarded mapping: hand the signal to whoever had it before (the default action or
    // the runtime's crash reporter). A fault recurs when this returns; a sent signal is re-raised.
    sigaction(sig, &previous_action, NULL);
    if (info->si_code <= 0) raise(sig);
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_action);
}

int32_t strata_mapguard_register(const void *base, int64_t length, const char *message) {
    pthread_once(&install_once, install);
    for (int32_t i = 0; i < GUARD_SLOTS; i++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expected, 1)) continue;
        guard_slot *s = &slots[i];
        s->lo = (uintptr_t)base;
        s->hi = (uintptr_t)base + (uintptr_t)length;
        size_t n = strlen(message);
        if (n > GUARD_MESSAGE - 1) n = GUARD_MESSAGE - 1;
        memcpy(s->message, message, n);
        if (n > 0 && s->message[n - 1] != '\n') {
            if (n == GUARD_MESSAGE - 1) n--;
            s->message[n++] = '\n';
        }
        s->length = n;
        atomic_store_explicit(&s->state, 2, memory_order_release);
        return i;
    }
    return -1;
}

void strata_mapguard_unregister(int32_t slot) {
    if (slot < 0 || slot >= GUARD_SLOTS) return;
    atomic_store_explicit(&slots[slot].state, 0, memory_order_release);
}
