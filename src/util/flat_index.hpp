// An open-addressing hash index from a 64-bit key hash to a 32-bit slot
// number, for tables whose keys live elsewhere (a transaction's key string
// in its slot). Lookups take the hash and a predicate that confirms a
// candidate slot really holds the key, so collisions are resolved against
// the real key. One cache line per probe, no allocation per entry: the
// standard unordered_map costs a node allocation per insert and a pointer
// chase per probe, which dominates with a million live transactions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace imsflow {

class FlatIndex {
 public:
  FlatIndex() { entries_.resize(16); }

  std::size_t size() const { return size_; }

  template <class Matches>
  std::optional<std::uint32_t> find(std::uint64_t hash, Matches&& matches) const {
    const std::uint64_t h = tag(hash);
    for (std::size_t i = h & mask(); entries_[i].hash != 0; i = (i + 1) & mask()) {
      if (entries_[i].hash == h && matches(entries_[i].value)) return entries_[i].value;
    }
    return std::nullopt;
  }

  void insert(std::uint64_t hash, std::uint32_t value) {
    if ((size_ + 1) * 2 > entries_.size()) grow();
    place(tag(hash), value);
    ++size_;
  }

  /// Removes the entry for `value` (found through its hash).
  bool erase(std::uint64_t hash, std::uint32_t value) {
    const std::uint64_t h = tag(hash);
    std::size_t i = h & mask();
    for (; entries_[i].hash != 0; i = (i + 1) & mask()) {
      if (entries_[i].hash == h && entries_[i].value == value) break;
    }
    if (entries_[i].hash == 0) return false;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask(); entries_[j].hash != 0; j = (j + 1) & mask()) {
      const std::size_t home = entries_[j].hash & mask();
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_after_hole) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole] = Entry{};
    --size_;
    return true;
  }

 private:
  struct Entry {
    std::uint64_t hash = 0;  // 0: empty
    std::uint32_t value = 0;
  };
  static std::uint64_t tag(std::uint64_t hash) { return hash == 0 ? 1 : hash; }
  std::size_t mask() const { return entries_.size() - 1; }
  void place(std::uint64_t h, std::uint32_t value) {
    std::size_t i = h & mask();
    while (entries_[i].hash != 0) i = (i + 1) & mask();
    entries_[i] = Entry{h, value};
  }
  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    for (const Entry& e : old) {
      if (e.hash != 0) place(e.hash, e.value);
    }
  }

  std::vector<Entry> entries_;
  std::size_t size_ = 0;
};

}  // namespace imsflow
