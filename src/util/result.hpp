// Result<T, E>: a value or a domain error, never both. A small stand-in for
// std::expected (C++23) so the project stays on C++20 with g++ 12.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace imsflow {

/// Wraps an error so that `return Unexpected{err};` reads like std::unexpected.
template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : state_(std::in_place_index<0>, value) {}
  Result(T&& value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  Result(Unexpected<G> failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}
  /// Constructs the value in place, so a large T is built where it will stay
  /// (return the Result by name and it is not moved either).
  template <class... Args>
  explicit Result(std::in_place_t, Args&&... args) : state_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  /// Replaces the value (or error) by an error.
  template <class G>
  Result& operator=(Unexpected<G> failure) {
    state_.template emplace<1>(std::move(failure.error));
    return *this;
  }

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { return std::get<1>(state_); }
  E& error() & { return std::get<1>(state_); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> state_;
};

}  // namespace imsflow
