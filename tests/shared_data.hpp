// Access to the test data: tests/data (in the repository) and ../shared
// (beside the checkout; tests that need it skip when it is absent).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace imsflow::test {

inline std::filesystem::path shared_dir() { return IMSFLOW_SHARED_DIR; }
inline std::filesystem::path data_dir() { return IMSFLOW_TEST_DATA_DIR; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace imsflow::test

/// Skips the current test with a clear message when ../shared/<sub> is missing.
#define IMSFLOW_REQUIRE_SHARED(sub)                                                                   \
  do {                                                                                                \
    if (!std::filesystem::exists(::imsflow::test::shared_dir() / (sub)))                              \
      GTEST_SKIP() << "shared test data not found at " << (::imsflow::test::shared_dir() / (sub))     \
                   << " (clone the project with ../shared beside it to run this test)";               \
  } while (0)
