// Under ThreadSanitizer only: librdkafka 2.0.2 on Debian 12 starts its threads with glibc's C11
// thrd_create, which GCC 12's TSan runtime does not intercept. TSan then knows nothing of those
// threads and crashes in its allocator on their first malloc. These definitions take precedence
// over glibc's and route the C11 calls through the pthread functions that TSan does intercept.
#include "common/kafka/tsan_thread_shim.hpp"

#if defined(__SANITIZE_THREAD__)

#include <pthread.h>
#include <threads.h>

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

#endif

namespace jobgate::kafka {

void link_tsan_thread_shim() noexcept {}

}  // namespace jobgate::kafka
