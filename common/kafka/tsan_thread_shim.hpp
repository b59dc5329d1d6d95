#pragma once

namespace jobgate::kafka {

// Does nothing. Calling it makes the linker keep tsan_thread_shim.cpp, whose thrd_create,
// thrd_join and thrd_detach replace glibc's in ThreadSanitizer builds so that TSan sees
// librdkafka's threads. In other builds the file defines nothing else.
void link_tsan_thread_shim() noexcept;

}  // namespace jobgate::kafka
