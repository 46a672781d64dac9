// Byte searches the parsers run over whole buffers: line ends in 64-byte
// blocks, and runs of plain quoted-string text. SSE2 (part of every x86-64)
// does 16 bytes per step; other targets take the scalar loops under #else,
// which give the same answers. Nothing here reads outside [begin, end).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#define IMSFLOW_HAVE_SSE2 1
#else
#define IMSFLOW_HAVE_SSE2 0
#endif

namespace imsflow::scan {

namespace internal {

inline unsigned count_trailing_zeros(std::uint64_t v) { return static_cast<unsigned>(__builtin_ctzll(v)); }

/// Bit i set when at[i] == c, for i < min(64, end - at).
inline std::uint64_t match_mask64(const char* at, const char* end, char c) {
  const std::size_t n = static_cast<std::size_t>(end - at);
#if IMSFLOW_HAVE_SSE2
  if (n >= 64) {
    const __m128i needle = _mm_set1_epi8(c);
    auto part = [&](int k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 16 * k));
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle))))
             << (16 * k);
    };
    return part(0) | part(1) | part(2) | part(3);
  }
#endif
  std::uint64_t m = 0;
  const std::size_t limit = n < 64 ? n : 64;
  for (std::size_t i = 0; i < limit; ++i) m |= static_cast<std::uint64_t>(at[i] == c) << i;
  return m;
}

}  // namespace internal

/// Finds the LF bytes of [begin, end) front to back, classifying 64 bytes at
/// a time and keeping the result as a bit mask, so finding the end of each
/// next header line costs a few instructions instead of a memchr call.
class LineFinder {
 public:
  LineFinder(const char* begin, const char* end) : end_(end) { load(begin); }

  /// The first LF at or after `from` (which must lie in [begin, end]), or
  /// `end` when there is none.
  [[gnu::always_inline]] const char* next(const char* from) {
    if (from < block_ || from - block_ >= 64) load(from);
    while (true) {
      const auto off = static_cast<unsigned>(from - block_);
      const std::uint64_t m = off >= 64 ? 0 : mask_ & (~std::uint64_t{0} << off);
      if (m != 0) return block_ + internal::count_trailing_zeros(m);
      if (end_ - block_ <= 64) return end_;
      from = block_ + 64;
      load(from);
    }
  }

 private:
  void load(const char* at) {
    block_ = at;
    mask_ = internal::match_mask64(at, end_, '\n');
  }

  const char* end_;
  const char* block_ = nullptr;
  std::uint64_t mask_ = 0;
};

/// Skips plain quoted-string text: bytes from 0x20 to 0x7E other than '"'
/// and '\\'. Returns the first other byte (a quote, a backslash, a control
/// character, HT, or a byte >= 0x7F), or `end`.
inline const char* skip_plain_qdtext(const char* p, const char* end) {
#if IMSFLOW_HAVE_SSE2
  const __m128i low = _mm_set1_epi8(0x20);
  const __m128i high = _mm_set1_epi8(0x7E);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compares: bytes >= 0x80 are negative, so "below 0x20" catches them.
    const __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, low), _mm_cmpgt_epi8(v, high)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int m = _mm_movemask_epi8(bad);
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (p < end) {
    const auto u = static_cast<unsigned char>(*p);
    if (u < 0x20 || u > 0x7E || u == '"' || u == '\\') return p;
    ++p;
  }
  return end;
}

}  // namespace imsflow::scan
