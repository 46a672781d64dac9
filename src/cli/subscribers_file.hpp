// Reading the subscribers file that `imsflow core` and `imsflow ue` share.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ims/subscribers.hpp"

namespace imsflow::cli {

/// The subscribers of `path`, or the demo's when it is empty. On error,
/// one line naming the file and the bad line goes to `err`, prefixed by
/// `command` ("imsflow core").
std::optional<std::vector<ims::Subscriber>> load_subscribers(const std::string& path, const char* command,
                                                             std::ostream& err);

}  // namespace imsflow::cli
