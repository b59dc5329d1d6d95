#pragma once

namespace jobgate::kafka {

// Does nothing. Calling it makes the linker keep tsan_thread_shim.cpp. In ThreadSanitizer builds
// that file replaces glibc's C11 thread, mutex and condition variable functions, so TSan tracks
// librdkafka's threads and locks. In other builds it defines nothing else.
void link_tsan_thread_shim() noexcept;

}  // namespace jobgate::kafka
