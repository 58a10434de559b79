#pragma once
// The native I/O of the Gemini client: one I/O thread owning an Asio io_context, an HTTP/1.1
// keep-alive connection pool per (scheme, host, port) over plain TCP or TLS (OpenSSL, peer and
// host-name verification on), optional HTTP CONNECT proxy, per-request deadlines, streaming
// with flow control, and cancellation. Callers build request bytes and parse replies
// themselves; finished work comes back as Events through a lock-free queue that an eventfd
// (for event loops) or a condition variable (for blocking callers) announces.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lumengate/gemini/policy.hpp"

namespace lumengate::gemini {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Seconds; each must be > 0. first_byte runs from the request being written to the response
// head; idle between body reads; total from submit() to the end of the response.
struct Timeouts {
    double connect_s = 10.0;
    double first_byte_s = 60.0;
    double idle_s = 30.0;
    double total_s = 600.0;
};

struct TransportOptions {
    std::size_t max_connections = 100;  // per (scheme, host, port)
    std::string ca_file;                // empty: the system trust store
    std::string proxy_host;             // empty: connect directly
    std::uint16_t proxy_port = 0;
    std::size_t stream_queue_chunks = 64;  // undelivered chunks per stream before reads pause
};

struct Request {
    std::string scheme;  // "http" or "https"
    std::string host;
    std::uint16_t port = 0;
    std::string method;
    std::string target;
    Headers headers;
    std::string body;
    bool stream = false;
    Timeouts timeouts;
    // Without a policy every outcome is delivered as it is. With one, a retryable status,
    // connection error or timeout (not the total deadline) is retried after a full-jitter
    // backoff, at least the server's RetryInfo.retryDelay / Retry-After, while the attempt
    // and elapsed budgets and the total deadline allow; a stream that delivered its head never is.
    std::optional<RetryPolicy> retry;
    std::uint64_t retry_seed = 0;  // seeds the jitter of this request's waits
};

enum class EventKind : std::uint8_t {
    head,    // stream: status and headers of a 2xx response; chunks follow
    chunk,   // stream: body bytes, decoded from the transfer encoding
    done,    // unary (or a non-2xx stream): status, headers and the whole body; stream: end
    failed,  // no (complete) response: see Failure
};

enum class Failure : std::uint8_t {
    none,
    connect,     // resolve, TCP connect, proxy CONNECT
    tls,         // handshake or certificate verification
    connection,  // the connection broke while sending or receiving
    protocol,    // the reply was not HTTP/1.1
    timeout_connect,
    timeout_first_byte,
    timeout_idle,
    timeout_total,
    cancelled,
    closed,  // the transport was closed
};

struct Event {
    std::uint64_t request_id = 0;
    EventKind kind = EventKind::failed;
    int status = 0;
    Headers headers;
    std::string data;
    Failure failure = Failure::none;
    std::string message;
    bool body_started = false;  // failed: whether any response byte had arrived
};

struct TransportStats {
    std::uint64_t requests = 0;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t timeouts = 0;  // attempts that hit a deadline, retried or not
    std::uint64_t cancelled = 0;
    std::uint64_t resent = 0;   // re-sent after a reused connection failed before any byte
    std::uint64_t retries = 0;  // attempts after the first that the retry policy scheduled
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_reused = 0;
    std::uint64_t connections_closed = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t queued = 0;  // requests that waited for a pool slot
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
};

class Transport {
  public:
    explicit Transport(TransportOptions options);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Queues the request on the I/O thread; returns its id (never 0).
    std::uint64_t submit(Request request);
    // Aborts the request if it is still running; a no-op for unknown or finished ids.
    void cancel(std::uint64_t request_id);
    // A stream's consumer took `count` chunks; reading resumes when its queue has room.
    void consumed(std::uint64_t request_id, std::size_t count);
    // Every event queued so far, oldest first; resets the eventfd. Never blocks.
    std::vector<Event> drain();
    // Blocks (at most timeout_s, < 0 = no limit) until an event is queued, then drains.
    std::vector<Event> wait(double timeout_s);
    // A non-blocking eventfd that is readable while events are queued.
    [[nodiscard]] int event_fd() const;
    [[nodiscard]] TransportStats stats() const;
    // Fails every running request (Failure::closed), closes every connection and the eventfd,
    // joins the I/O thread; drain() then returns the final events once. Threads blocked in
    // wait() are woken and leave before the state is freed. Idempotent; the destructor calls it.
    void close();
    [[nodiscard]] bool closed() const;

    struct Impl;

  private:
    void check_process() const;
    [[nodiscard]] TransportStats stats_locked() const;
    // Guards impl_ itself (not its contents) against close() from another thread.
    mutable std::mutex lifecycle_mutex_;
    std::unique_ptr<Impl> impl_;
    int owner_pid_;
    std::vector<Event> leftover_;
    TransportStats final_stats_;
};

}  // namespace lumengate::gemini
