// transport.hpp comes first and includes <utility>, which Boost 1.74's Asio uses (std::exchange)
// without including it.
#include "lumengate/gemini/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/eventfd.h>
#include <tbb/concurrent_queue.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "lumengate/common/error.hpp"

namespace lumengate::gemini {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t read_buffer_bytes = 16 * 1024;

Clock::duration seconds(double s) {
    // Capped at a day so that "no limit" values cannot overflow the clock.
    const double capped = std::min(s, 86400.0);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(capped));
}

bool is_ip_address(const std::string& host) {
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

bool is_timeout(Failure f) {
    return f == Failure::timeout_connect || f == Failure::timeout_first_byte ||
           f == Failure::timeout_idle || f == Failure::timeout_total;
}

std::string describe(Failure f) {
    switch (f) {
        case Failure::timeout_connect:
            return "connect deadline passed";
        case Failure::timeout_first_byte:
            return "no response byte before the first_byte deadline";
        case Failure::timeout_idle:
            return "no data before the idle deadline";
        case Failure::timeout_total:
            return "the total deadline passed";
        case Failure::cancelled:
            return "cancelled by the caller";
        case Failure::closed:
            return "the client was closed";
        default:
            return "failed";
    }
}

// "1.5s" (a protobuf Duration in JSON) in seconds, or nullopt.
std::optional<double> duration_seconds(const std::string& text) {
    if (text.size() < 2 || text.back() != 's') return std::nullopt;
    const std::string number = text.substr(0, text.size() - 1);
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size() || !(value >= 0.0)) return std::nullopt;
    return value;
}

// The wait a throttling or overloaded server asked for: google.rpc.RetryInfo.retryDelay in the
// error body, else a Retry-After header in seconds (an HTTP-date is not honoured).
std::optional<double> server_delay(const Headers& headers, const std::string& body) {
    const auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_object()) {
        const auto error = parsed.find("error");
        if (error != parsed.end() && error->is_object()) {
            const auto details = error->find("details");
            if (details != error->end() && details->is_array()) {
                for (const auto& detail : *details) {
                    if (!detail.is_object()) continue;
                    const auto type = detail.find("@type");
                    const auto delay = detail.find("retryDelay");
                    if (type == detail.end() || !type->is_string() || delay == detail.end() ||
                        !delay->is_string()) {
                        continue;
                    }
                    if (type->get<std::string>().find("RetryInfo") == std::string::npos) continue;
                    if (auto seconds = duration_seconds(delay->get<std::string>())) return seconds;
                }
            }
        }
    }
    for (const auto& [name, value] : headers) {
        if (!beast::iequals(name, "retry-after")) continue;
        if (value.empty() || !std::all_of(value.begin(), value.end(),
                                          [](unsigned char c) { return std::isdigit(c) != 0; })) {
            return std::nullopt;
        }
        return std::strtod(value.c_str(), nullptr);
    }
    return std::nullopt;
}

}  // namespace

struct Connection {
    Connection(asio::io_context& io, ssl::context* tls_context, std::string pool_key)
        : key(std::move(pool_key)) {
        if (tls_context != nullptr) {
            secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls_context);
        } else {
            plain = std::make_unique<beast::tcp_stream>(io);
        }
    }
    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    template <class F>
    void visit(F&& f) {
        if (secure) {
            f(*secure);
        } else {
            f(*plain);
        }
    }
    void close() {
        beast::error_code ec;
        lowest().socket().close(ec);
    }

    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    std::string key;
    bool connected = false;
};

class Exchange;

struct Pool {
    std::vector<std::shared_ptr<Connection>> idle;
    std::size_t open = 0;  // idle + in use + connecting
    std::deque<std::shared_ptr<Exchange>> waiters;
};

struct Transport::Impl {
    explicit Impl(TransportOptions opts)
        : options(std::move(opts)), tls(ssl::context::tls_client), work(io.get_executor()) {
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
        tls.set_verify_mode(ssl::verify_peer);
        beast::error_code ec;
        if (options.ca_file.empty()) {
            tls.set_default_verify_paths(ec);
        } else {
            tls.load_verify_file(options.ca_file, ec);
            if (ec) {
                throw InvalidArgument("ca_file", "cannot load CA certificates from '" +
                                                     options.ca_file + "': " + ec.message());
            }
        }
        event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (event_fd < 0) throw Error(std::string("eventfd failed: ") + std::strerror(errno));
        thread = std::thread([this] { io.run(); });
    }

    ~Impl() {
        if (thread.joinable()) thread.join();
        if (event_fd >= 0) ::close(event_fd);
    }

    void push(Event event) {
        queue.push(std::move(event));
        queued.fetch_add(1);
        if (!signalled.exchange(true)) {
            const std::uint64_t one = 1;
            // A full eventfd counter cannot happen: it is reset on every drain.
            [[maybe_unused]] auto written = ::write(event_fd, &one, sizeof one);
        }
        if (blocking_waiters.load() > 0) {
            { std::lock_guard lock(wait_mutex); }
            wait_cv.notify_all();
        }
    }

    std::vector<Event> pop_all() {
        std::uint64_t value = 0;
        [[maybe_unused]] auto got = ::read(event_fd, &value, sizeof value);
        signalled.store(false);
        std::vector<Event> out;
        Event event;
        while (queue.try_pop(event)) {
            queued.fetch_sub(1);
            out.push_back(std::move(event));
        }
        return out;
    }

    Pool& pool(const std::string& key) { return pools[key]; }
    void acquire(const std::shared_ptr<Exchange>& exchange);
    void release(std::shared_ptr<Connection> connection);
    void drop(const std::shared_ptr<Connection>& connection);
    void shutdown();

    TransportOptions options;
    asio::io_context io{1};
    ssl::context tls;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;
    int event_fd = -1;

    // Touched only on the I/O thread.
    std::map<std::string, Pool> pools;
    std::unordered_map<std::uint64_t, std::shared_ptr<Exchange>> active;
    bool shutting_down = false;

    // Shared with callers.
    tbb::concurrent_queue<Event> queue;
    std::atomic<std::size_t> queued{0};
    std::atomic<bool> signalled{false};
    std::atomic<int> blocking_waiters{0};
    std::mutex wait_mutex;
    std::condition_variable wait_cv;
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<bool> closed{false};

    struct Counters {
        std::atomic<std::uint64_t> requests{0}, completed{0}, failed{0}, timeouts{0}, cancelled{0},
            resent{0}, retries{0}, opened{0}, reused{0}, closed{0}, queued{0}, sent{0}, received{0};
    } counters;
};

// One request from submit to its last event. Lives on the I/O thread only; every async
// handler holds a shared_ptr to it, and `finished` turns late handlers into no-ops. A handler
// of an operation on a connection also holds that connection: close() may fail the exchange
// and let go of the connection while the operation is still pending, and the operation's
// completion (aborted by the closed socket) must still find its stream and buffer.
class Exchange : public std::enable_shared_from_this<Exchange> {
  public:
    enum class State { queued, backoff, connecting, sending, waiting_head, body, paused, finished };

    Exchange(Transport::Impl& impl, std::uint64_t id, Request request)
        : impl_(impl),
          id_(id),
          request_(std::move(request)),
          key_(request_.scheme + "://" + request_.host + ":" + std::to_string(request_.port)),
          deadline_(Clock::now() + seconds(request_.timeouts.total_s)),
          timer_(impl.io),
          resolver_(impl.io),
          read_buffer_(read_buffer_bytes) {
        if (request_.retry) retrier_.emplace(*request_.retry, Clock::now(), request_.retry_seed);
    }

    const std::string& key() const { return key_; }
    bool finished() const { return state_ == State::finished; }

    void start() {
        state_ = State::queued;
        arm(1e9, Failure::timeout_total);
        impl_.acquire(shared_from_this());
    }

    void wait_for_slot() {
        state_ = State::queued;
        impl_.counters.queued++;
    }

    // A connection from the pool (reused) or one this exchange just opened.
    void use(std::shared_ptr<Connection> connection, bool reused) {
        if (finished()) {
            impl_.release(std::move(connection));
            return;
        }
        connection_ = std::move(connection);
        reused_ = reused;
        if (reused) impl_.counters.reused++;
        send();
    }

    // The pool granted a slot: open a new connection in it.
    void connect_new() {
        if (finished()) {
            slot_returned();
            return;
        }
        state_ = State::connecting;
        reused_ = false;
        arm(request_.timeouts.connect_s, Failure::timeout_connect);
        const bool https = request_.scheme == "https";
        connection_ = std::make_shared<Connection>(impl_.io, https ? &impl_.tls : nullptr, key_);
        const bool proxied = !impl_.options.proxy_host.empty();
        const std::string& host = proxied ? impl_.options.proxy_host : request_.host;
        const auto port = proxied ? impl_.options.proxy_port : request_.port;
        resolver_.async_resolve(
            host, std::to_string(port),
            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type found) {
                self->on_resolved(ec, std::move(found));
            });
    }

    void abort(Failure why) {
        if (finished()) return;
        if (abort_ == Failure::none) abort_ = why;
        switch (state_) {
            case State::queued:
            case State::backoff:
            case State::paused:
                fail(abort_, describe(abort_));
                break;
            default:
                resolver_.cancel();
                if (connection_) connection_->close();
                break;
        }
    }

    void consumed(std::size_t count) {
        undelivered_ -= std::min(count, undelivered_);
        if (state_ == State::paused && undelivered_ < impl_.options.stream_queue_chunks) {
            state_ = State::body;
            read_body();
        }
    }

    void fail(Failure failure, const std::string& message) {
        if (finished()) return;
        if (state_ == State::queued) {
            auto& waiters = impl_.pool(key_).waiters;
            auto it = std::find(waiters.begin(), waiters.end(), shared_from_this());
            if (it != waiters.end()) waiters.erase(it);
        }
        if (connection_) {
            impl_.drop(connection_);
            connection_.reset();
        }
        // Every attempt that hit a deadline counts, retried or not.
        if (is_timeout(failure)) impl_.counters.timeouts++;
        if (retry_later(failure)) return;
        state_ = State::finished;
        timer_.cancel();
        impl_.counters.failed++;
        if (failure == Failure::cancelled) impl_.counters.cancelled++;
        Event event;
        event.request_id = id_;
        event.kind = EventKind::failed;
        event.status = status_;
        event.failure = failure;
        event.message = message;
        event.body_started = body_started_;
        push(std::move(event));
        impl_.active.erase(id_);
    }

  private:
    // One timer per exchange: its expiry aborts whatever operation is pending. The phase
    // deadline is cut to what remains of the total one, which is then reported instead.
    void arm(double phase_s, Failure kind) {
        const auto now = Clock::now();
        const auto remaining = deadline_ - now;
        auto wait = seconds(phase_s);
        Failure reported = kind;
        if (remaining <= wait) {
            wait = std::max(remaining, Clock::duration::zero());
            reported = Failure::timeout_total;
        }
        const auto generation = ++generation_;
        timer_.expires_after(wait);
        timer_.async_wait([self = shared_from_this(), generation, reported](beast::error_code ec) {
            if (ec || generation != self->generation_ || self->finished()) return;
            self->abort(reported);
        });
    }

    // True when an abort (deadline, cancel, close) explains the error; the exchange then fails.
    bool aborted() {
        if (finished()) return true;
        if (abort_ == Failure::none) return false;
        std::string message = describe(abort_);
        if (is_timeout(abort_)) message += " (" + request_.method + " " + key_ + ")";
        fail(abort_, message);
        return true;
    }

    void on_resolved(beast::error_code ec, const tcp::resolver::results_type& found) {
        if (aborted()) return;
        if (ec)
            return fail(Failure::connect, "cannot resolve " + resolve_name() + ": " + ec.message());
        connection_->lowest().async_connect(
            found,
            [self = shared_from_this(), conn = connection_](
                beast::error_code error, const tcp::endpoint&) { self->on_connected(error); });
    }

    std::string resolve_name() const {
        if (impl_.options.proxy_host.empty()) return request_.host;
        return "proxy " + impl_.options.proxy_host;
    }

    void on_connected(beast::error_code ec) {
        if (aborted()) return;
        if (ec) {
            return fail(Failure::connect,
                        "cannot connect to " + endpoint_name() + ": " + ec.message());
        }
        impl_.counters.opened++;
        connection_->connected = true;
        beast::error_code ignored;
        connection_->lowest().socket().set_option(tcp::no_delay(true), ignored);
        if (!impl_.options.proxy_host.empty()) return send_connect();
        handshake();
    }

    std::string endpoint_name() const {
        if (impl_.options.proxy_host.empty())
            return request_.host + ":" + std::to_string(request_.port);
        return "proxy " + impl_.options.proxy_host + ":" + std::to_string(impl_.options.proxy_port);
    }

    void send_connect() {
        const std::string authority = request_.host + ":" + std::to_string(request_.port);
        connect_request_ =
            std::make_unique<http::request<http::empty_body>>(http::verb::connect, authority, 11);
        connect_request_->set(http::field::host, authority);
        http::async_write(
            connection_->lowest(), *connect_request_,
            [self = shared_from_this(), conn = connection_](beast::error_code ec, std::size_t) {
                if (self->aborted()) return;
                if (ec) {
                    return self->fail(Failure::connect, "proxy CONNECT failed: " + ec.message());
                }
                self->read_connect_reply();
            });
    }

    void read_connect_reply() {
        connect_reply_ = std::make_unique<http::response_parser<http::empty_body>>();
        connect_reply_->skip(true);  // a CONNECT reply has no body: the tunnel follows
        http::async_read_header(
            connection_->lowest(), connection_->buffer, *connect_reply_,
            [self = shared_from_this(), conn = connection_](beast::error_code ec, std::size_t) {
                if (self->aborted()) return;
                if (ec) {
                    return self->fail(Failure::connect,
                                      "proxy CONNECT reply unreadable: " + ec.message());
                }
                const auto status = self->connect_reply_->get().result_int();
                if (status != 200) {
                    return self->fail(Failure::connect, "proxy refused CONNECT to " +
                                                            self->request_.host + ": HTTP " +
                                                            std::to_string(status));
                }
                self->handshake();
            });
    }

    void handshake() {
        if (!connection_->secure) return send();
        SSL* handle = connection_->secure->native_handle();
        X509_VERIFY_PARAM* param = SSL_get0_param(handle);
        const char* host = request_.host.c_str();
        if (is_ip_address(request_.host)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        } else {
            SSL_set_tlsext_host_name(handle, host);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, host, 0);
        }
        connection_->secure->async_handshake(
            ssl::stream_base::client,
            [self = shared_from_this(), conn = connection_](beast::error_code ec) {
                if (self->aborted()) return;
                if (ec) {
                    const long verify =
                        SSL_get_verify_result(self->connection_->secure->native_handle());
                    std::string why = ec.message();
                    if (verify != X509_V_OK) {
                        why = std::string("certificate verification failed: ") +
                              X509_verify_cert_error_string(verify);
                    }
                    return self->fail(Failure::tls, "TLS handshake with " + self->request_.host +
                                                        ":" + std::to_string(self->request_.port) +
                                                        " failed: " + why);
                }
                self->send();
            });
    }

    void send() {
        state_ = State::sending;
        arm(request_.timeouts.first_byte_s, Failure::timeout_first_byte);
        message_ = std::make_unique<http::request<http::string_body>>();
        auto& message = *message_;
        message.method_string(request_.method);
        message.target(request_.target);
        message.version(11);
        const bool default_port = (request_.scheme == "https" && request_.port == 443) ||
                                  (request_.scheme == "http" && request_.port == 80);
        message.set(http::field::host, default_port
                                           ? request_.host
                                           : request_.host + ":" + std::to_string(request_.port));
        for (const auto& [name, value] : request_.headers) message.set(name, value);
        message.body() = request_.body;
        if (!request_.body.empty() || request_.method == "POST") message.prepare_payload();
        connection_->visit([&](auto& stream) {
            http::async_write(stream, message,
                              [self = shared_from_this(), conn = connection_](
                                  beast::error_code ec, std::size_t n) { self->on_sent(ec, n); });
        });
    }

    void on_sent(beast::error_code ec, std::size_t bytes) {
        if (aborted()) return;
        impl_.counters.sent += bytes;
        if (ec) {
            if (resend_allowed()) return resend();
            return fail(Failure::connection, "sending to " + key_ + " failed: " + ec.message());
        }
        state_ = State::waiting_head;
        parser_ = std::make_unique<http::response_parser<http::buffer_body>>();
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        connection_->visit([&](auto& stream) {
            http::async_read_header(
                stream, connection_->buffer, *parser_,
                [self = shared_from_this(), conn = connection_](
                    beast::error_code error, std::size_t n) { self->on_head(error, n); });
        });
    }

    // Only a reused connection that failed before any response byte: the server most likely
    // closed it while idle, so the request never reached it.
    bool resend_allowed() const {
        return reused_ && !resent_ && (!parser_ || !parser_->got_some()) &&
               connection_->buffer.size() == 0;
    }

    void resend() {
        resent_ = true;
        impl_.counters.resent++;
        // The slot stays ours: close the broken connection and open a new one in its place.
        connection_->close();
        if (connection_->connected) impl_.counters.closed++;
        connection_.reset();
        parser_.reset();
        connect_new();
    }

    void on_head(beast::error_code ec, std::size_t bytes) {
        if (aborted()) return;
        impl_.counters.received += bytes;
        if (ec) {
            if (resend_allowed()) return resend();
            body_started_ = parser_->got_some();
            const bool protocol =
                ec.category() == http::make_error_code(http::error::bad_version).category() &&
                ec != http::error::end_of_stream && ec != http::error::partial_message;
            return fail(protocol ? Failure::protocol : Failure::connection,
                        "reading the response from " + key_ + " failed: " + ec.message());
        }
        body_started_ = true;
        const auto& head = parser_->get();
        status_ = static_cast<int>(head.result_int());
        for (const auto& field : head) {
            headers_.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        streaming_ = request_.stream && status_ >= 200 && status_ < 300;
        if (streaming_) {
            Event event;
            event.request_id = id_;
            event.kind = EventKind::head;
            event.status = status_;
            event.headers = headers_;
            push(std::move(event));
        }
        state_ = State::body;
        if (parser_->is_done()) return complete();
        read_body();
    }

    void read_body() {
        if (streaming_ && undelivered_ >= impl_.options.stream_queue_chunks) {
            // The consumer is behind: stop reading (TCP pushes back on the server) until it
            // takes chunks; only the total deadline runs meanwhile.
            state_ = State::paused;
            arm(1e9, Failure::timeout_total);
            return;
        }
        arm(request_.timeouts.idle_s, Failure::timeout_idle);
        auto& body = parser_->get().body();
        body.data = read_buffer_.data();
        body.size = read_buffer_.size();
        body.more = true;
        connection_->visit([&](auto& stream) {
            http::async_read_some(
                stream, connection_->buffer, *parser_,
                [self = shared_from_this(), conn = connection_](
                    beast::error_code ec, std::size_t n) { self->on_body(ec, n); });
        });
    }

    void on_body(beast::error_code ec, std::size_t bytes) {
        if (aborted()) return;
        impl_.counters.received += bytes;
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            return fail(Failure::connection,
                        "the response from " + key_ + " broke off: " + ec.message());
        }
        const std::size_t got = read_buffer_.size() - parser_->get().body().size;
        if (got > 0) {
            if (streaming_) {
                Event event;
                event.request_id = id_;
                event.kind = EventKind::chunk;
                event.data.assign(read_buffer_.data(), got);
                ++undelivered_;
                push(std::move(event));
            } else {
                body_.append(read_buffer_.data(), got);
            }
        }
        if (parser_->is_done()) return complete();
        read_body();
    }

    void complete() {
        const bool keep = parser_->get().keep_alive();
        auto connection = std::move(connection_);
        if (keep) {
            impl_.release(std::move(connection));
        } else {
            impl_.drop(connection);
        }
        if (!(status_ >= 200 && status_ < 300) && retry_later(Failure::none)) return;
        state_ = State::finished;
        timer_.cancel();
        Event event;
        event.request_id = id_;
        event.kind = EventKind::done;
        event.status = status_;
        if (!streaming_) {
            event.headers = std::move(headers_);
            event.data = std::move(body_);
        }
        impl_.counters.completed++;
        push(std::move(event));
        impl_.active.erase(id_);
    }

    void push(Event event) {
        delivered_ = true;
        impl_.push(std::move(event));
    }

    // The outcome of one attempt, for the retry decision.
    struct Attempt {
        int status;
        Failure failure;
        const Headers& headers;
        const std::string& body;
    };

    // How long to wait before the next attempt, or nothing to deliver this outcome to the
    // caller. TLS and protocol failures are never retried: another attempt would fail alike.
    std::optional<Clock::duration> retry_delay(const Attempt& attempt) {
        if (!retrier_) return std::nullopt;
        AttemptOutcome outcome;
        outcome.status = attempt.failure == Failure::none ? attempt.status : 0;
        outcome.connection_error =
            attempt.failure == Failure::connect || attempt.failure == Failure::connection;
        outcome.timed_out = is_timeout(attempt.failure);
        if (attempt.failure == Failure::none) {
            outcome.server_delay_s = server_delay(attempt.headers, attempt.body);
        }
        return retrier_->next(outcome, Clock::now());
    }

    // Schedules another attempt when nothing was delivered yet (a stream that handed out its
    // head is never retried), the caller did not abort and the wait fits the total deadline.
    bool retry_later(Failure failure) {
        if (delivered_ || impl_.shutting_down) return false;
        if (failure == Failure::timeout_total || failure == Failure::cancelled ||
            failure == Failure::closed) {
            return false;
        }
        // A phase deadline (connect, first byte, idle) ended this attempt, not the request.
        if (abort_ != Failure::none && !is_timeout(abort_)) return false;
        const auto delay = retry_delay(Attempt{status_, failure, headers_, body_});
        if (!delay || Clock::now() + *delay >= deadline_) return false;
        impl_.counters.retries++;
        abort_ = Failure::none;
        status_ = 0;
        headers_.clear();
        body_.clear();
        parser_.reset();
        message_.reset();
        reused_ = resent_ = streaming_ = body_started_ = false;
        state_ = State::backoff;
        const auto generation = ++generation_;
        timer_.expires_after(*delay);
        timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
            if (ec || generation != self->generation_ || self->finished()) return;
            self->start();
        });
        return true;
    }

    void slot_returned() {
        auto& pool = impl_.pool(key_);
        if (pool.open > 0) --pool.open;
    }

    Transport::Impl& impl_;
    std::uint64_t id_;
    Request request_;
    std::string key_;
    Clock::time_point deadline_;
    asio::steady_timer timer_;
    tcp::resolver resolver_;
    std::vector<char> read_buffer_;
    std::optional<Retrier> retrier_;
    std::shared_ptr<Connection> connection_;
    std::unique_ptr<http::request<http::empty_body>> connect_request_;
    std::unique_ptr<http::response_parser<http::empty_body>> connect_reply_;
    std::unique_ptr<http::request<http::string_body>> message_;
    std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
    State state_ = State::queued;
    Failure abort_ = Failure::none;
    std::uint64_t generation_ = 0;
    bool reused_ = false;
    bool resent_ = false;
    bool streaming_ = false;
    bool body_started_ = false;
    bool delivered_ = false;  // an event reached the caller: no more attempts
    int status_ = 0;
    Headers headers_;
    std::string body_;
    std::size_t undelivered_ = 0;

    friend struct Transport::Impl;
};

void Transport::Impl::acquire(const std::shared_ptr<Exchange>& exchange) {
    auto& p = pool(exchange->key());
    if (!p.idle.empty()) {
        auto connection = std::move(p.idle.back());
        p.idle.pop_back();
        exchange->use(std::move(connection), true);
    } else if (p.open < options.max_connections) {
        ++p.open;
        exchange->connect_new();
    } else {
        p.waiters.push_back(exchange);
        exchange->wait_for_slot();
    }
}

// A connection whose response ended cleanly: the longest-waiting request gets it, else idle.
void Transport::Impl::release(std::shared_ptr<Connection> connection) {
    auto& p = pool(connection->key);
    if (shutting_down) {
        drop(connection);
        return;
    }
    while (!p.waiters.empty()) {
        auto next = std::move(p.waiters.front());
        p.waiters.pop_front();
        if (!next->finished()) {
            next->use(std::move(connection), true);
            return;
        }
    }
    p.idle.push_back(std::move(connection));
}

// A connection that cannot be reused: close it and pass its slot to the longest waiter.
void Transport::Impl::drop(const std::shared_ptr<Connection>& connection) {
    connection->close();
    if (connection->connected) counters.closed++;
    auto& p = pool(connection->key);
    if (p.open > 0) --p.open;
    while (!shutting_down && !p.waiters.empty()) {
        auto next = std::move(p.waiters.front());
        p.waiters.pop_front();
        if (!next->finished()) {
            ++p.open;
            next->connect_new();
            return;
        }
    }
}

void Transport::Impl::shutdown() {
    shutting_down = true;
    std::vector<std::shared_ptr<Exchange>> running;
    running.reserve(active.size());
    for (auto& [id, exchange] : active) running.push_back(exchange);
    for (auto& exchange : running) exchange->fail(Failure::closed, describe(Failure::closed));
    for (auto& [key, p] : pools) {
        for (auto& connection : p.idle) {
            connection->close();
            counters.closed++;
        }
        p.idle.clear();
        p.open = 0;
        p.waiters.clear();
    }
    active.clear();
    work.reset();
}

Transport::Transport(TransportOptions options) : owner_pid_(static_cast<int>(::getpid())) {
    if (options.max_connections == 0) {
        throw InvalidArgument("max_connections", "must be >= 1, got 0");
    }
    if (options.stream_queue_chunks == 0) {
        throw InvalidArgument("stream_queue_chunks", "must be >= 1, got 0");
    }
    impl_ = std::make_unique<Impl>(std::move(options));
}

Transport::~Transport() {
    if (static_cast<int>(::getpid()) != owner_pid_) {
        // A forked child: the I/O thread does not exist here and the sockets and epoll
        // instance are the parent's. Touching them would disturb the parent, so leave them.
        static_cast<void>(impl_.release());
        return;
    }
    close();
}

void Transport::check_process() const {
    if (static_cast<int>(::getpid()) != owner_pid_) {
        throw Error("this Gemini client was created in process " + std::to_string(owner_pid_) +
                    " and cannot be used after fork(); create a new client in the child process");
    }
}

std::uint64_t Transport::submit(Request request) {
    check_process();
    std::lock_guard life(lifecycle_mutex_);
    if (!impl_ || impl_->closed.load()) throw Cancelled("the Gemini client is closed");
    const auto& t = request.timeouts;
    for (const auto& [name, value] :
         {std::pair{"timeout.connect", t.connect_s},
          std::pair{"timeout.first_byte", t.first_byte_s}, std::pair{"timeout.idle", t.idle_s},
          std::pair{"timeout.total", t.total_s}}) {
        if (!(value > 0)) {
            throw InvalidArgument(name,
                                  "must be a number of seconds > 0, got " + std::to_string(value));
        }
    }
    if (request.scheme != "http" && request.scheme != "https") {
        throw InvalidArgument("scheme", "must be 'http' or 'https', got '" + request.scheme + "'");
    }
    // Checked here, on the caller's thread, so that the I/O thread never meets a bad policy.
    if (request.retry) request.retry->validate();
    const auto id = impl_->next_id.fetch_add(1);
    impl_->counters.requests++;
    asio::post(impl_->io, [impl = impl_.get(), id, request = std::move(request)]() mutable {
        auto exchange = std::make_shared<Exchange>(*impl, id, std::move(request));
        if (impl->shutting_down) {
            exchange->fail(Failure::closed, describe(Failure::closed));
            return;
        }
        impl->active.emplace(id, exchange);
        exchange->start();
    });
    return id;
}

void Transport::cancel(std::uint64_t request_id) {
    check_process();
    std::lock_guard life(lifecycle_mutex_);
    if (!impl_ || impl_->closed.load()) return;
    asio::post(impl_->io, [impl = impl_.get(), request_id] {
        auto it = impl->active.find(request_id);
        if (it != impl->active.end()) {
            auto exchange = it->second;
            exchange->abort(Failure::cancelled);
        }
    });
}

void Transport::consumed(std::uint64_t request_id, std::size_t count) {
    check_process();
    std::lock_guard life(lifecycle_mutex_);
    if (!impl_ || impl_->closed.load()) return;
    asio::post(impl_->io, [impl = impl_.get(), request_id, count] {
        auto it = impl->active.find(request_id);
        if (it != impl->active.end()) {
            auto exchange = it->second;
            exchange->consumed(count);
        }
    });
}

std::vector<Event> Transport::drain() {
    check_process();
    std::lock_guard life(lifecycle_mutex_);
    if (!impl_) return std::exchange(leftover_, {});
    return impl_->pop_all();
}

std::vector<Event> Transport::wait(double timeout_s) {
    check_process();
    std::unique_lock life(lifecycle_mutex_);
    if (!impl_) return std::exchange(leftover_, {});
    Impl& impl = *impl_;
    // Counted before the lifecycle lock is let go: close() waits for this count to reach zero
    // before it frees impl, so the state below outlives this call.
    impl.blocking_waiters.fetch_add(1);
    life.unlock();
    std::vector<Event> events;
    {
        std::unique_lock lock(impl.wait_mutex);
        auto ready = [&impl] { return impl.queued.load() > 0 || impl.closed.load(); };
        if (timeout_s < 0) {
            impl.wait_cv.wait(lock, ready);
        } else {
            impl.wait_cv.wait_for(lock, std::chrono::duration<double>(timeout_s), ready);
        }
    }
    events = impl.pop_all();
    {
        std::lock_guard lock(impl.wait_mutex);
        impl.blocking_waiters.fetch_sub(1);
    }
    impl.wait_cv.notify_all();
    return events;
}

int Transport::event_fd() const {
    std::lock_guard life(lifecycle_mutex_);
    return impl_ ? impl_->event_fd : -1;
}

bool Transport::closed() const {
    std::lock_guard life(lifecycle_mutex_);
    return !impl_ || impl_->closed.load();
}

TransportStats Transport::stats() const {
    std::lock_guard life(lifecycle_mutex_);
    return stats_locked();
}

TransportStats Transport::stats_locked() const {
    if (!impl_) return final_stats_;
    const auto& c = impl_->counters;
    TransportStats s;
    s.requests = c.requests;
    s.completed = c.completed;
    s.failed = c.failed;
    s.timeouts = c.timeouts;
    s.cancelled = c.cancelled;
    s.resent = c.resent;
    s.retries = c.retries;
    s.connections_opened = c.opened;
    s.connections_reused = c.reused;
    s.connections_closed = c.closed;
    s.connections_open = c.opened >= c.closed ? c.opened - c.closed : 0;
    s.queued = c.queued;
    s.bytes_sent = c.sent;
    s.bytes_received = c.received;
    return s;
}

// Holding the lifecycle lock keeps submit, cancel, drain and new waiters out while impl goes
// away; threads already blocked in wait() are woken and awaited before it is freed.
void Transport::close() {
    if (static_cast<int>(::getpid()) != owner_pid_) return;
    std::lock_guard life(lifecycle_mutex_);
    if (!impl_ || impl_->closed.exchange(true)) return;
    asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
    if (impl_->thread.joinable()) impl_->thread.join();
    {
        std::unique_lock lock(impl_->wait_mutex);
        impl_->wait_cv.notify_all();
        impl_->wait_cv.wait(lock, [this] { return impl_->blocking_waiters.load() == 0; });
    }
    // The events of the requests that close() ended stay readable; every fd (sockets, epoll,
    // eventfd) is released now rather than when the object is collected.
    leftover_ = impl_->pop_all();
    final_stats_ = stats_locked();
    impl_.reset();
}

}  // namespace lumengate::gemini
