#include "net/signal_hook.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace imsflow::net {
namespace {

constexpr int kSlots = 64;
constexpr int kMaxSignal = 64;  // Linux signals are 1 … 64

struct HookSlot {
  std::atomic<int> fd{-1};
  std::atomic<std::uint64_t> mask{0};  // bit (signal - 1)
  std::atomic<int> last{0};
};

// Read by the handler, so lock-free atomics only; written under g_mutex.
std::array<HookSlot, kSlots> g_slots;
std::mutex g_mutex;
std::array<int, kMaxSignal + 1> g_users{};  // hooks holding each signal
std::array<struct sigaction, kMaxSignal + 1> g_previous{};

std::uint64_t bit(int sig) { return std::uint64_t{1} << (sig - 1); }

extern "C" void imsflow_net_on_signal(int sig) {
  const int saved_errno = errno;
  if (sig >= 1 && sig <= kMaxSignal) {
    for (HookSlot& s : g_slots) {
      if (!(s.mask.load(std::memory_order_acquire) & bit(sig))) continue;
      const int fd = s.fd.load(std::memory_order_acquire);
      if (fd < 0) continue;
      s.last.store(sig, std::memory_order_release);
      const std::uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
    }
  }
  errno = saved_errno;
}

void drop_signal(int sig) {
  if (--g_users[sig] == 0) sigaction(sig, &g_previous[sig], nullptr);
}

}  // namespace

NetStatus SignalHook::install(int event_fd, std::initializer_list<int> signals) {
  release();
  std::lock_guard lock(g_mutex);
  int slot = -1;
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].fd.load() < 0 && g_slots[i].mask.load() == 0) {
      slot = i;
      break;
    }
  }
  if (slot < 0) return Unexpected{NetError{NetErrorCode::SignalHookFailed, "more than 64 signal hooks at once"}};
  std::uint64_t mask = 0;
  for (int sig : signals) {
    if (sig < 1 || sig > kMaxSignal) {
      for (int s = 1; s <= kMaxSignal; ++s)
        if (mask & bit(s)) drop_signal(s);
      return Unexpected{NetError{NetErrorCode::SignalHookFailed, "no such signal: " + std::to_string(sig)}};
    }
    if (mask & bit(sig)) continue;
    if (g_users[sig] == 0) {
      struct sigaction action {};
      action.sa_handler = imsflow_net_on_signal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESTART;
      if (sigaction(sig, &action, &g_previous[sig]) != 0) {
        const int err = errno;
        for (int s = 1; s <= kMaxSignal; ++s)
          if (mask & bit(s)) drop_signal(s);
        return Unexpected{NetError{NetErrorCode::SignalHookFailed,
                                   "cannot hook signal " + std::to_string(sig) + ": " + std::strerror(err)}};
      }
    }
    ++g_users[sig];
    mask |= bit(sig);
  }
  g_slots[slot].last.store(0);
  g_slots[slot].fd.store(event_fd, std::memory_order_release);
  g_slots[slot].mask.store(mask, std::memory_order_release);
  slot_ = slot;
  return std::monostate{};
}

void SignalHook::release() {
  if (slot_ < 0) return;
  std::lock_guard lock(g_mutex);
  HookSlot& s = g_slots[slot_];
  const std::uint64_t mask = s.mask.exchange(0, std::memory_order_acq_rel);
  s.fd.store(-1, std::memory_order_release);
  for (int sig = 1; sig <= kMaxSignal; ++sig)
    if (mask & bit(sig)) drop_signal(sig);
  slot_ = -1;
}

std::optional<int> SignalHook::last_signal() const {
  if (slot_ < 0) return std::nullopt;
  const int sig = g_slots[slot_].last.load(std::memory_order_acquire);
  if (sig == 0) return std::nullopt;
  return sig;
}

}  // namespace imsflow::net
