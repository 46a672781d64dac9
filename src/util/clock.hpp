// Time as the protocol cores see it. The cores never read a clock: the
// driver passes "now" in (real steady time from net/, virtual time from sim/).
#pragma once

#include <chrono>

namespace imsflow {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::milliseconds;

}  // namespace imsflow
