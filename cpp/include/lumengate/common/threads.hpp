#pragma once
// How many worker threads a batch call may use: the CPUs this process may run on
// (affinity mask and cgroup quota), capped by a process-wide setting for multi-worker services.
#include <cstddef>
#include <functional>

namespace lumengate {

// CPUs this process may use: sched_getaffinity, then the cgroup v2/v1 CPU quota.
std::size_t available_cpus();

// Process-wide cap on threads per batch call; 0 removes the cap. Thread-safe.
void set_max_threads(std::size_t cap);
std::size_t max_threads() noexcept;

// requested == 0 means "all available"; the result is in [1, cap].
std::size_t resolve_threads(std::size_t requested);

// Runs body(begin, end) over [0, n) on at most `threads` workers (oneTBB arena).
void parallel_ranges(std::size_t n, std::size_t threads,
                     const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace lumengate
