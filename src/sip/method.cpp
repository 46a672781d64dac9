#include "sip/method.hpp"

#include <array>

namespace imsflow::sip {

namespace {
constexpr std::array<std::string_view, 15> kNames = {
    "",        "INVITE",  "ACK",     "BYE",       "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "UPDATE",  "INFO",    "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER",   "PUBLISH",
};
}  // namespace

Method method_from_token(std::string_view token) noexcept {
  // Switch on length first: one comparison per candidate at most.
  switch (token.size()) {
    case 3:
      if (token == "ACK") return Method::Ack;
      if (token == "BYE") return Method::Bye;
      break;
    case 4:
      if (token == "INFO") return Method::Info;
      break;
    case 5:
      if (token == "PRACK") return Method::Prack;
      if (token == "REFER") return Method::Refer;
      break;
    case 6:
      if (token == "INVITE") return Method::Invite;
      if (token == "CANCEL") return Method::Cancel;
      if (token == "UPDATE") return Method::Update;
      if (token == "NOTIFY") return Method::Notify;
      break;
    case 7:
      if (token == "OPTIONS") return Method::Options;
      if (token == "MESSAGE") return Method::Message;
      if (token == "PUBLISH") return Method::Publish;
      break;
    case 8:
      if (token == "REGISTER") return Method::Register;
      break;
    case 9:
      if (token == "SUBSCRIBE") return Method::Subscribe;
      break;
    default:
      break;
  }
  return Method::Unknown;
}

std::string_view method_name(Method m) noexcept { return kNames[static_cast<std::size_t>(m)]; }

}  // namespace imsflow::sip
