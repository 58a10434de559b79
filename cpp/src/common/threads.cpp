#include "lumengate/common/threads.hpp"

#include <sched.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

namespace lumengate {
namespace {

std::atomic<std::size_t> g_thread_cap{0};

std::size_t affinity_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<std::size_t>(count);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : hw;
}

// cgroup v2 "cpu.max" holds "<quota> <period>" or "max <period>".
std::size_t cgroup_quota_cpus() {
    std::ifstream v2("/sys/fs/cgroup/cpu.max");
    std::string quota;
    double period = 0;
    if (v2 >> quota >> period && quota != "max" && period > 0) {
        const double cpus = std::stod(quota) / period;
        return static_cast<std::size_t>(std::max(1.0, std::ceil(cpus)));
    }
    std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    std::ifstream p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    double q = -1, p = 0;
    if (q1 >> q && p1 >> p && q > 0 && p > 0) {
        return static_cast<std::size_t>(std::max(1.0, std::ceil(q / p)));
    }
    return 0;
}

}  // namespace

std::size_t available_cpus() {
    std::size_t cpus = affinity_cpus();
    const std::size_t quota = cgroup_quota_cpus();
    if (quota > 0) cpus = std::min(cpus, quota);
    return std::max<std::size_t>(cpus, 1);
}

void set_max_threads(std::size_t cap) { g_thread_cap.store(cap, std::memory_order_relaxed); }

std::size_t max_threads() noexcept { return g_thread_cap.load(std::memory_order_relaxed); }

std::size_t resolve_threads(std::size_t requested) {
    std::size_t threads = requested == 0 ? available_cpus() : requested;
    const std::size_t cap = max_threads();
    if (cap > 0) threads = std::min(threads, cap);
    return std::max<std::size_t>(threads, 1);
}

void parallel_ranges(std::size_t n, std::size_t threads,
                     const std::function<void(std::size_t, std::size_t)>& body) {
    if (n == 0) return;
    // Small inputs or one thread: run inline, no arena overhead.
    constexpr std::size_t min_chunk = 4096;
    if (threads <= 1 || n < 2 * min_chunk) {
        body(0, n);
        return;
    }
    tbb::task_arena arena(static_cast<int>(threads));
    arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, n, min_chunk),
            [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); });
    });
}

}  // namespace lumengate
