// Byte searches the parsers run over whole buffers: line ends in 64-byte
// blocks, runs of plain quoted-string text, and runs of a class's common
// characters. SSE2 (part of every x86-64) does 16 bytes per step; the class
// runs use SSE4.2: inline in an x86-64-v2 build, else where the CPU has it
// (checked once at start-up). Other targets take the scalar loops, which give
// the same answers. Nothing here reads outside the range it is given:
// [begin, end), or [begin, limit) for the look-ahead forms.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <nmmintrin.h>
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
/// next header line costs a few instructions instead of a memchr call. The
/// mask keeps only the LFs not yet returned: a parser that walks line by line
/// (asking from just after the last LF) takes the next one with a bit scan.
class LineFinder {
 public:
  LineFinder(const char* begin, const char* end) : end_(end), after_(begin) { load(begin); }

  /// The first LF at or after `from` (which must lie in [begin, end]), or
  /// `end` when there is none.
  [[gnu::always_inline]] const char* next(const char* from) {
    if (from != after_) move_to(from);
    while (mask_ == 0) {
      if (end_ - block_ <= 64) return end_;
      load(block_ + 64);
    }
    const char* const lf = block_ + internal::count_trailing_zeros(mask_);
    mask_ &= mask_ - 1;  // this LF is taken
    after_ = lf + 1;
    return lf;
  }

 private:
  void load(const char* at) {
    block_ = at;
    mask_ = internal::match_mask64(at, end_, '\n');
  }
  /// A search that does not start where the last one ended: the bits below
  /// `from` go, or the block is loaded anew at `from`.
  void move_to(const char* from) {
    if (from < after_ || from - block_ >= 64) {
      load(from);
    } else {
      mask_ &= ~std::uint64_t{0} << static_cast<unsigned>(from - block_);
    }
    after_ = from;
  }

  const char* end_;
  const char* after_;  // just past the last LF returned (the start at first)
  const char* block_ = nullptr;
  std::uint64_t mask_ = 0;  // LFs of the block at or after after_
};

/// The first `c` in [p, end), or `end`: inline, 16 bytes per step, for
/// searches that usually end within a few dozen bytes (an SDP line), where
/// a memchr call costs more to set up than it saves.
inline const char* find_byte(const char* p, const char* end, char c) {
#if IMSFLOW_HAVE_SSE2
  const __m128i needle = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), needle));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (p < end && *p != c) ++p;
  return p;
}

/// Up to eight inclusive byte ranges ("azAZ09"), the common characters of a
/// class. skip_common() jumps over a run of them 16 bytes per instruction
/// (SSE4.2 PCMPISTRI); the caller's own class loop then
/// takes the rare members and decides where the run really ends. So the set
/// must be a subset of the class, never more.
struct CommonBytes {
  alignas(16) char ranges[16];
};
inline constexpr CommonBytes make_common_bytes(const char* pairs) {
  CommonBytes c{};
  for (int i = 0; i < 16 && pairs[i] != '\0'; ++i) c.ranges[i] = pairs[i];
  return c;
}

/// What list_masks64() finds in 64 bytes: bit i of each mask stands for
/// byte i.
struct ListMasks {
  std::uint64_t outside = 0;  // not in the set
  std::uint64_t commas = 0;   // ','
  std::uint64_t blanks = 0;   // SP or HT
};

namespace internal {
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__SSE4_2__)
// Built for x86-64-v2 (see CMakeLists.txt): the skip is inlined at every call
// site, with no run-time check. A call per use cost more than the skip.
#define IMSFLOW_SKIP_COMMON_INLINE [[gnu::always_inline]]
#else
#define IMSFLOW_SKIP_COMMON_INLINE
#endif
IMSFLOW_SKIP_COMMON_INLINE [[gnu::target("sse4.2")]] inline const char* skip_common_sse42(const char* p, const char* end,
                                                                                       const CommonBytes& set) {
  const __m128i ranges = _mm_load_si128(reinterpret_cast<const __m128i*>(set.ranges));
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Index of the first byte in none of the ranges; a NUL byte ends the
    // implicit-length string, and every byte from it on counts as "in none".
    const int i = _mm_cmpistri(ranges, v, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY);
    if (i < 16) return p + i;
    p += 16;
  }
  return p;
}
IMSFLOW_SKIP_COMMON_INLINE [[gnu::target("sse4.2")]] inline bool list_masks64_sse42(const char* p, const CommonBytes& set,
                                                                                     ListMasks& out) {
  const __m128i ranges = _mm_load_si128(reinterpret_cast<const __m128i*>(set.ranges));
  __m128i nul = _mm_setzero_si128();
  ListMasks m;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    nul = _mm_or_si128(nul, _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    const __m128i outside =
        _mm_cmpistrm(ranges, v, _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY | _SIDD_BIT_MASK);
    const auto at = [k](int bits) { return static_cast<std::uint64_t>(static_cast<std::uint32_t>(bits) & 0xFFFFu) << (16 * k); };
    m.outside |= at(_mm_cvtsi128_si32(outside));
    m.commas |= at(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(','))));
    m.blanks |= at(_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')))));
  }
  out = m;
  // A NUL ends PCMPISTRM's string: the bytes after it would count as outside.
  return _mm_movemask_epi8(nul) == 0;
}
#if defined(__SSE4_2__)
inline constexpr bool kHaveSse42 = true;
#else
inline const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif
#undef IMSFLOW_SKIP_COMMON_INLINE
#endif
}  // namespace internal

/// Skips bytes of `set` from p while 16 of them can be read before `end`;
/// returns where it stopped (p itself without SSE4.2). Callers finish with
/// their exact class loop.
[[gnu::always_inline]] inline const char* skip_common(const char* p, const char* end, const CommonBytes& set) {
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__SSE4_2__)
  return internal::skip_common_sse42(p, end, set);
#else
  return internal::kHaveSse42 && end - p >= 16 ? internal::skip_common_sse42(p, end, set) : p;
#endif
#else
  (void)end;
  (void)set;
  return p;
#endif
}

/// Classifies the 64 readable bytes at p at once: which lie outside `set`,
/// which are commas, which are SP or HT (a list value's shape, all in one
/// go). False when it cannot (no SSE4.2, or a NUL among the bytes).
[[gnu::always_inline]] inline bool list_masks64(const char* p, const CommonBytes& set, ListMasks& out) {
#if defined(__x86_64__) && defined(__GNUC__)
  return internal::kHaveSse42 && internal::list_masks64_sse42(p, set, out);
#else
  (void)p;
  (void)set;
  (void)out;
  return false;
#endif
}

/// skip_common() over a text [p, end) that lies inside a larger readable
/// buffer ending at `limit`: the 16-byte steps may look past `end` (never
/// past `limit`), so that short texts get them too, and the result is clamped
/// to `end`. Header values are mostly shorter than 16 bytes but sit inside
/// the whole message.
[[gnu::always_inline]] inline const char* skip_common(const char* p, const char* end, const char* limit,
                                                      const CommonBytes& set) {
  assert(p <= end && end <= limit);
  const char* r = skip_common(p, limit, set);
  return r < end ? r : end;
}

/// Common subsets of the RFC 3261 classes, for skip_common().
inline constexpr CommonBytes kCommonToken = make_common_bytes("azAZ09-.__!!%%*+");
inline constexpr CommonBytes kCommonHostname = make_common_bytes("azAZ09-.__");
/// URI user part and parameters (RFC 3261 §25.1), without '%', which starts an escape.
inline constexpr CommonBytes kCommonUriUser = make_common_bytes("azAZ09*/__&)==??");
/// Printable ASCII but SP, '"', ',' and ';': what a header parameter value or
/// a plain header value runs over.
inline constexpr CommonBytes kCommonValue = make_common_bytes("!!#+-:<~");
inline constexpr CommonBytes kCommonUriParam = make_common_bytes("azAZ09-/__::++&&");
/// Digits, hex letters and the usual visual separators of a tel number (RFC 3966).
inline constexpr CommonBytes kCommonTel = make_common_bytes("09afAF(+-.");
/// Any byte but SP, and any byte but SP and ':' (NUL aside, which ends a
/// PCMPISTRI range set): SDP fields and attribute names.
inline constexpr CommonBytes kCommonNotSpace = make_common_bytes("\x01\x1f!\xff");
inline constexpr CommonBytes kCommonNotSpaceOrColon = make_common_bytes("\x01\x1f!9;\xff");

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

/// skip_plain_qdtext() over [p, end) inside a readable buffer ending at
/// `limit` (see the skip_common() overload): clamped to `end`.
inline const char* skip_plain_qdtext(const char* p, const char* end, const char* limit) {
  assert(p <= end && end <= limit);
  const char* r = skip_plain_qdtext(p, limit);
  return r < end ? r : end;
}

}  // namespace imsflow::scan
