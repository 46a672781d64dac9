#include "cli/subscribers_file.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

#include "ims/topology.hpp"

namespace imsflow::cli {

std::optional<std::vector<ims::Subscriber>> load_subscribers(const std::string& path, const char* command,
                                                             std::ostream& err) {
  if (path.empty()) return ims::TopologyOptions::demo_subscribers();
  std::ifstream in(path);
  if (!in) {
    err << command << ": cannot read " << path << "\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ims::parse_subscribers(text.str());
  if (!parsed) {
    err << command << ": " << parsed.error().describe(path) << "\n";
    return std::nullopt;
  }
  return std::move(*parsed);
}

}  // namespace imsflow::cli
