#include "lumengate/gemini/policy.hpp"
#include "lumengate/gemini/transport.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using gemini::Event;
using gemini::EventKind;
using gemini::Failure;
using gemini::Transport;

const char* kind_name(EventKind kind) {
    switch (kind) {
        case EventKind::head:
            return "head";
        case EventKind::chunk:
            return "chunk";
        case EventKind::done:
            return "done";
        case EventKind::failed:
            return "failed";
    }
    return "failed";
}

const char* failure_name(Failure failure) {
    switch (failure) {
        case Failure::none:
            return "";
        case Failure::connect:
            return "connect";
        case Failure::tls:
            return "tls";
        case Failure::connection:
            return "connection";
        case Failure::protocol:
            return "protocol";
        case Failure::timeout_connect:
            return "timeout_connect";
        case Failure::timeout_first_byte:
            return "timeout_first_byte";
        case Failure::timeout_idle:
            return "timeout_idle";
        case Failure::timeout_total:
            return "timeout_total";
        case Failure::cancelled:
            return "cancelled";
        case Failure::closed:
            return "closed";
    }
    return "";
}

// Header bytes are not guaranteed UTF-8; latin-1 maps every byte to one code point.
py::str latin1(const std::string& text) {
    PyObject* decoded =
        PyUnicode_DecodeLatin1(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
    if (decoded == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(decoded);
}

py::list to_python(std::vector<Event>& events) {
    py::list out;
    for (auto& event : events) {
        py::list headers;
        for (const auto& [name, value] : event.headers) {
            headers.append(py::make_tuple(latin1(name), latin1(value)));
        }
        out.append(py::make_tuple(event.request_id, kind_name(event.kind), event.status, headers,
                                  py::bytes(event.data), failure_name(event.failure),
                                  latin1(event.message), event.body_started));
    }
    return out;
}

}  // namespace

void register_gemini(py::module_& m) {
    register_gemini_policy(m);
    py::class_<Transport>(m, "Transport",
                          "HTTP/1.1 keep-alive connection pools over TCP or TLS on one I/O "
                          "thread; results arrive as events (see drain and wait).")
        .def(py::init([](std::size_t max_connections, std::string ca_file, std::string proxy_host,
                         std::uint16_t proxy_port, std::size_t stream_queue_chunks) {
                 gemini::TransportOptions options;
                 options.max_connections = max_connections;
                 options.ca_file = std::move(ca_file);
                 options.proxy_host = std::move(proxy_host);
                 options.proxy_port = proxy_port;
                 options.stream_queue_chunks = stream_queue_chunks;
                 return std::make_unique<Transport>(std::move(options));
             }),
             "max_connections"_a = 100, "ca_file"_a = "", "proxy_host"_a = "", "proxy_port"_a = 0,
             "stream_queue_chunks"_a = 64,
             "Start the I/O thread. ca_file replaces the system trust store when given; "
             "proxy_host/proxy_port tunnel every connection through HTTP CONNECT.")
        .def(
            "submit",
            [](Transport& transport, std::string scheme, std::string host, std::uint16_t port,
               std::string method, std::string target, gemini::Headers headers,
               const py::bytes& body, bool stream, double connect, double first_byte, double idle,
               double total, const py::object& retry, std::uint64_t retry_seed) {
                gemini::Request request;
                request.scheme = std::move(scheme);
                request.host = std::move(host);
                request.port = port;
                request.method = std::move(method);
                request.target = std::move(target);
                request.headers = std::move(headers);
                request.body = std::string(body);
                request.stream = stream;
                request.timeouts = {connect, first_byte, idle, total};
                if (!retry.is_none()) request.retry = retry_policy(retry);
                request.retry_seed = retry_seed;
                // Every Python object was read above; the transport only takes a lock-free
                // post onto its I/O thread.
                py::gil_scoped_release release;
                return transport.submit(std::move(request));
            },
            "scheme"_a, "host"_a, "port"_a, "method"_a, "target"_a, "headers"_a, "body"_a,
            "stream"_a, "connect"_a, "first_byte"_a, "idle"_a, "total"_a, "retry"_a = py::none(),
            "retry_seed"_a = 0,
            "Send one request; returns its id. Its events arrive through drain or wait. With a "
            "gemini.RetryPolicy as `retry`, retryable outcomes are retried natively (jitter "
            "seeded by retry_seed) and only the last one is delivered.")
        .def("cancel", &Transport::cancel, "request_id"_a, py::call_guard<py::gil_scoped_release>(),
             "Abort a running request; it ends with a 'cancelled' failure event.")
        .def("consumed", &Transport::consumed, "request_id"_a, "count"_a,
             py::call_guard<py::gil_scoped_release>(),
             "A stream's consumer took `count` chunks; reading resumes when there is room.")
        .def(
            "drain",
            [](Transport& transport) {
                std::vector<Event> events;
                {
                    // Pops from the lock-free queue; no Python object is touched.
                    py::gil_scoped_release release;
                    events = transport.drain();
                }
                return to_python(events);
            },
            "Every queued event as (id, kind, status, headers, data, failure, message, "
            "body_started) tuples, oldest first; never blocks.")
        .def(
            "wait",
            [](Transport& transport, double timeout) {
                std::vector<Event> events;
                {
                    // Blocks on a condition variable without the GIL so the I/O thread and
                    // other Python threads run.
                    py::gil_scoped_release release;
                    events = transport.wait(timeout);
                }
                return to_python(events);
            },
            "timeout"_a,
            "Block up to `timeout` seconds (< 0: no limit) for events, then drain them.")
        .def("fileno", &Transport::event_fd,
             "The eventfd that is readable while events are queued (for loop.add_reader).")
        .def(
            "stats",
            [](const Transport& transport) {
                const auto s = transport.stats();
                return py::dict(
                    "requests"_a = s.requests, "completed"_a = s.completed, "failed"_a = s.failed,
                    "timeouts"_a = s.timeouts, "cancelled"_a = s.cancelled, "resent"_a = s.resent,
                    "retries"_a = s.retries, "connections_opened"_a = s.connections_opened,
                    "connections_reused"_a = s.connections_reused,
                    "connections_closed"_a = s.connections_closed,
                    "connections_open"_a = s.connections_open, "queued"_a = s.queued,
                    "bytes_sent"_a = s.bytes_sent, "bytes_received"_a = s.bytes_received);
            },
            "Counters since the transport started.")
        .def("close", &Transport::close, py::call_guard<py::gil_scoped_release>(),
             "Fail every running request, close every connection and join the I/O thread.")
        .def_property_readonly("closed", &Transport::closed, "Whether close() was called.");
}

}  // namespace lumengate::bindings
