#include "net/stream_reader.hpp"

namespace imsflow::net {
namespace {
// Consumed bytes are dropped from the front once they pass this size (or the
// buffer empties), so a long-lived connection does not grow its buffer and a
// busy one does not memmove after every message.
constexpr std::size_t kCompactThreshold = 64 * 1024;
}  // namespace

char* StreamReader::prepare(std::size_t n) {
  compact();
  prepared_from_ = buffer_.size();
  buffer_.resize(prepared_from_ + n);
  return buffer_.data() + prepared_from_;
}

void StreamReader::compact() {
  if (consumed_ == 0) return;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ >= kCompactThreshold) {
    // The framer keeps offsets relative to the unconsumed start, so moving
    // the bytes does not disturb it.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

StreamItem StreamReader::next(TimePoint now) {
  StreamItem item;
  if (corrupt_) {
    item.kind = StreamItem::Kind::Corrupt;
    item.offset = corrupt_offset_;
    item.reason = corrupt_reason_;
    return item;
  }
  const std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
  const sip::StreamFrame f = framer_.next(pending);
  switch (f.status) {
    case sip::StreamFrame::Status::NeedMore:
      if (pending.empty()) {
        incomplete_since_.reset();
      } else if (!incomplete_since_) {
        incomplete_since_ = now;
      }
      return item;
    case sip::StreamFrame::Status::KeepAlive:
      item.kind = StreamItem::Kind::KeepAlive;
      break;
    case sip::StreamFrame::Status::Message:
      item.kind = StreamItem::Kind::Message;
      item.message = pending.substr(0, f.length);
      break;
    case sip::StreamFrame::Status::Corrupt:
      corrupt_ = true;
      corrupt_offset_ = static_cast<std::size_t>(stream_offset_) + f.offset;
      corrupt_reason_ = f.reason;
      item.kind = StreamItem::Kind::Corrupt;
      item.offset = corrupt_offset_;
      item.reason = f.reason;
      return item;
  }
  consumed_ += f.length;
  stream_offset_ += f.length;
  // What is left starts a new item: its stall clock starts when it proves
  // incomplete (the next call), not when the previous message arrived.
  incomplete_since_.reset();
  return item;
}

}  // namespace imsflow::net
