#pragma once
// The error hierarchy of the core. Bindings map each class to ValueError or to the
// matching class of lumengate.errors; messages name the field, the value and what is allowed.
#include <stdexcept>
#include <string>

namespace lumengate {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class InvalidArgument : public Error {
  public:
    InvalidArgument(std::string field, const std::string& message)
        : Error(field + ": " + message), field_(std::move(field)) {}
    [[nodiscard]] const std::string& field() const noexcept { return field_; }

  private:
    std::string field_;
};

class ParseError : public InvalidArgument {
  public:
    using InvalidArgument::InvalidArgument;
};

class HttpError : public Error {
  public:
    HttpError(int status, bool retryable, const std::string& message)
        : Error(message), status_(status), retryable_(retryable) {}
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] bool retryable() const noexcept { return retryable_; }

  private:
    int status_;
    bool retryable_;
};

class Timeout : public Error {
  public:
    using Error::Error;
};

class Cancelled : public Error {
  public:
    using Error::Error;
};

class RateLimited : public Error {
  public:
    using Error::Error;
};

class CircuitOpen : public Error {
  public:
    using Error::Error;
};

}  // namespace lumengate
