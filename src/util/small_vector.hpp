// SmallVector<T, N>: a vector that keeps its first N elements inline, for the
// parsers' tables. Growth past N allocates once per doubling, never per
// element, so parsing a typical message allocates nothing.
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace imsflow {

template <class T, std::size_t N>
class SmallVector {
  static_assert(std::is_nothrow_move_constructible_v<T>, "SmallVector moves elements when it grows");

 public:
  SmallVector() = default;
  SmallVector(const SmallVector& other) { append_copies(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      append_copies(other);
    }
    return *this;
  }
  SmallVector(SmallVector&& other) noexcept { take(std::move(other)); }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(std::move(other));
    }
    return *this;
  }
  ~SmallVector() { release(); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* data() noexcept { return heap_ ? heap_ : inline_data(); }
  const T* data() const noexcept { return heap_ ? heap_ : inline_data(); }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](std::size_t i) noexcept {
    assert(i < size_);
    return data()[i];
  }
  const T& operator[](std::size_t i) const noexcept {
    assert(i < size_);
    return data()[i];
  }
  T& front() noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  const T& front() const noexcept { return (*this)[0]; }
  const T& back() const noexcept { return (*this)[size_ - 1]; }

  void clear() noexcept {
    std::destroy_n(data(), size_);
    size_ = 0;
  }

  /// Drops the elements past the first n.
  void truncate(std::size_t n) noexcept {
    if (n >= size_) return;
    std::destroy_n(data() + n, size_ - n);
    size_ = n;
  }

  /// Constructs the new last element in place (value-initialised when no
  /// arguments are given), so a large entry is written once, not built and copied.
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) grow();
    T* slot = std::construct_at(data() + size_, std::forward<Args>(args)...);
    ++size_;
    return *slot;
  }

  template <class U>
  T& push_back(U&& value) {
    if (size_ == capacity_) grow();
    T* slot = std::construct_at(data() + size_, std::forward<U>(value));
    ++size_;
    return *slot;
  }

 private:
  T* inline_data() noexcept { return std::launder(reinterpret_cast<T*>(inline_)); }
  const T* inline_data() const noexcept { return std::launder(reinterpret_cast<const T*>(inline_)); }

  void grow() {
    const std::size_t next = capacity_ * 2;
    T* fresh = static_cast<T*>(::operator new(next * sizeof(T), std::align_val_t(alignof(T))));
    T* old = data();
    std::uninitialized_move_n(old, size_, fresh);
    std::destroy_n(old, size_);
    free_heap();
    heap_ = fresh;
    capacity_ = next;
  }
  void append_copies(const SmallVector& other) {
    for (const T& v : other) push_back(v);
  }
  void take(SmallVector&& other) noexcept {
    if (other.heap_) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
      size_ = other.size_;
      other.heap_ = nullptr;
      other.capacity_ = N;
      other.size_ = 0;
      return;
    }
    std::uninitialized_move_n(other.inline_data(), other.size_, inline_data());
    size_ = other.size_;
    other.clear();
  }
  void free_heap() noexcept {
    if (heap_) ::operator delete(heap_, std::align_val_t(alignof(T)));
    heap_ = nullptr;
  }
  void release() noexcept {
    clear();
    free_heap();
    capacity_ = N;
  }

  T* heap_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = N;
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

}  // namespace imsflow
