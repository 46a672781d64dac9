#include "analyze/open_call.hpp"

#include <functional>

#include "util/splitmix.hpp"

namespace imsflow::analyze::internal {

std::uint64_t hash_text(std::string_view s) {
  // libstdc++'s string hash reads 8 bytes a step; the mix spreads it to the low bits.
  std::uint64_t h = std::hash<std::string_view>{}(s);
  return splitmix64(h);
}

StrId StringPool::intern(std::string_view s) {
  if (s.empty()) return 0;
  const auto count = static_cast<StrId>(ends_.size());
  std::uint64_t h = 0;
  if (index_) {
    h = hash_text(s);
    if (auto id = index_->find(h, [&](std::uint32_t v) { return view(v) == s; })) return *id;
  } else {
    for (StrId id = 1; id <= count; ++id)
      if (view(id) == s) return id;
  }
  bytes_.append(s);
  ends_.push_back(static_cast<std::uint32_t>(bytes_.size()));
  const StrId id = count + 1;
  if (index_) {
    index_->insert(h, id);
  } else if (ends_.size() > kScanLimit) {
    index_ = std::make_unique<FlatIndex>();
    for (StrId i = 1; i <= id; ++i) index_->insert(hash_text(view(i)), i);
  }
  return id;
}

namespace {

std::vector<std::string> texts(const StringPool& pool, const std::vector<StrId>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (StrId id : ids) out.emplace_back(pool.view(id));
  return out;
}

}  // namespace

std::vector<std::string> OpenCall::routes(const Sighting& s) const {
  if (s.extras == kNone) return {};
  return texts(strings, extras[s.extras].routes);
}

std::vector<std::string> OpenCall::record_routes(const Sighting& s) const {
  if (s.extras == kNone) return {};
  return texts(strings, extras[s.extras].record_routes);
}

}  // namespace imsflow::analyze::internal
