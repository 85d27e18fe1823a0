// Errors inside the library are values: a Result<T> holds either a T or an
// errno code.  errno itself is only set at the C boundary (src/api).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace knet {

struct Error {
    int code;  // an errno value, never 0
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error e) : v_(e) { assert(e.code != 0); }

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    int error() const { return ok() ? 0 : std::get<1>(v_).code; }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

private:
    std::variant<T, Error> v_;
};

// Result of an operation that produces nothing but may fail.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error e) : code_(e.code) { assert(e.code != 0); }
    static Status success() { return {}; }

    bool ok() const { return code_ == 0; }
    explicit operator bool() const { return ok(); }
    int error() const { return code_; }

private:
    int code_ = 0;
};

}  // namespace knet
