// Turns POSIX signals (SIGINT, SIGTERM …) into readable file descriptors, so
// an event loop stops cleanly between two batches instead of dying inside one.
//
// A self-pipe, not signalfd: signalfd needs the signals blocked in every
// thread of the process (else the kernel hands them to a thread that did not
// block them and the default action kills the process), which a library
// cannot promise for threads it did not start (gtest's, the CLI's, the
// sharded loops'). Here one process-wide sigaction() handler writes to the
// eventfd of every hook registered for that signal; write() is
// async-signal-safe. The previous disposition is saved when the first hook
// takes a signal and restored when the last one lets it go.
#pragma once

#include <csignal>
#include <initializer_list>
#include <optional>

#include "net/socket_address.hpp"

namespace imsflow::net {

class SignalHook {
 public:
  SignalHook() = default;
  SignalHook(const SignalHook&) = delete;
  SignalHook& operator=(const SignalHook&) = delete;
  ~SignalHook() { release(); }

  /// Makes `event_fd` (an eventfd) readable whenever one of `signals` is
  /// delivered to the process. Replaces an earlier install() of this hook.
  /// Fails when sigaction() refuses a signal (SIGKILL …) or when 64 hooks
  /// are live at once.
  NetStatus install(int event_fd, std::initializer_list<int> signals);
  /// Stops listening and restores the signals no other hook still holds.
  void release();
  bool installed() const { return slot_ >= 0; }
  /// The last signal this hook saw, if any.
  std::optional<int> last_signal() const;

 private:
  int slot_ = -1;
};

}  // namespace imsflow::net
