#pragma once
// Per-thread scratch buffers for hot paths that must not allocate once warm.

namespace lumengate {

// This thread's instance of T, default-constructed on first use. Not inlined on purpose: in a
// shared library every use of a thread_local name may call into the dynamic loader
// (__tls_get_addr), and the compiler is free to repeat that lookup at each use; a reference
// returned from a call is looked up once per call site.
template <typename T>
[[gnu::noinline]] T& thread_scratch() {
    thread_local T value;
    return value;
}

}  // namespace lumengate
