// Under ThreadSanitizer only: librdkafka 2.0.2 on Debian 12 uses glibc's C11 threads (thrd_*,
// mtx_*, cnd_*, call_once), which GCC 12's TSan runtime does not intercept. TSan then crashes on
// the first malloc of a librdkafka thread and misses librdkafka's locking. These definitions take
// precedence over glibc's and route the C11 calls through the pthread functions TSan intercepts.
#include "common/kafka/tsan_thread_shim.hpp"

#if defined(__SANITIZE_THREAD__)

#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct thread_start {
  thrd_start_t function;
  void* argument;
};

void* run_thread(void* raw) {
  const thread_start start = *static_cast<thread_start*>(raw);
  delete static_cast<thread_start*>(raw);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) thread_start{function, argument};
  if (start == nullptr) {
    return thrd_nomem;
  }
  if (pthread_create(thread, nullptr, &run_thread, start) != 0) {
    delete start;
    return thrd_error;
  }
  return thrd_success;
}

extern "C" int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  if (pthread_join(thread, &value) != 0) {
    return thrd_error;
  }
  if (result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
  }
  return thrd_success;
}

extern "C" int thrd_detach(thrd_t thread) {
  return pthread_detach(thread) == 0 ? thrd_success : thrd_error;
}

// glibc's C11 mutexes and condition variables are pthread objects of the same layout, so these
// casts are what glibc does itself, minus the calls that bypass TSan.
extern "C" int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) {
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  }
  const int result = pthread_mutex_init(reinterpret_cast<pthread_mutex_t*>(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return result == 0 ? thrd_success : thrd_error;
}

extern "C" int mtx_lock(mtx_t* mutex) {
  return pthread_mutex_lock(reinterpret_cast<pthread_mutex_t*>(mutex)) == 0 ? thrd_success
                                                                            : thrd_error;
}

extern "C" int mtx_unlock(mtx_t* mutex) {
  return pthread_mutex_unlock(reinterpret_cast<pthread_mutex_t*>(mutex)) == 0 ? thrd_success
                                                                              : thrd_error;
}

extern "C" void mtx_destroy(mtx_t* mutex) {
  pthread_mutex_destroy(reinterpret_cast<pthread_mutex_t*>(mutex));
}

extern "C" int cnd_init(cnd_t* condition) {
  return pthread_cond_init(reinterpret_cast<pthread_cond_t*>(condition), nullptr) == 0
             ? thrd_success
             : thrd_error;
}

extern "C" int cnd_signal(cnd_t* condition) {
  return pthread_cond_signal(reinterpret_cast<pthread_cond_t*>(condition)) == 0 ? thrd_success
                                                                                : thrd_error;
}

extern "C" int cnd_broadcast(cnd_t* condition) {
  return pthread_cond_broadcast(reinterpret_cast<pthread_cond_t*>(condition)) == 0 ? thrd_success
                                                                                   : thrd_error;
}

extern "C" int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return pthread_cond_wait(reinterpret_cast<pthread_cond_t*>(condition),
                           reinterpret_cast<pthread_mutex_t*>(mutex)) == 0
             ? thrd_success
             : thrd_error;
}

extern "C" int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* deadline) {
  const int result = pthread_cond_timedwait(reinterpret_cast<pthread_cond_t*>(condition),
                                            reinterpret_cast<pthread_mutex_t*>(mutex), deadline);
  if (result == ETIMEDOUT) {
    return thrd_timedout;
  }
  return result == 0 ? thrd_success : thrd_error;
}

extern "C" void cnd_destroy(cnd_t* condition) {
  pthread_cond_destroy(reinterpret_cast<pthread_cond_t*>(condition));
}

extern "C" void call_once(once_flag* flag, void (*function)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

#endif

namespace jobgate::kafka {

void link_tsan_thread_shim() noexcept {}

}  // namespace jobgate::kafka
