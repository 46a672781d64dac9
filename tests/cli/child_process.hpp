// The imsflow binary run as a child process by the command tests, its
// standard output and error read through a pipe.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace imsflow::cli {

using namespace std::chrono_literals;

/// A UDP socket bound to an ephemeral port of 127.0.0.1 (-1 on failure),
/// its port in `port`: a peer played by the test, or, closed at once, a
/// port the kernel calls free.
inline int loopback_udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// The imsflow binary as a child, its standard output read through a pipe.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      // Only standard I/O goes to the child: what the test process holds
      // open (sockets, pipes of other children) is none of its business.
      ::close_range(3, ~0U, 0);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
    ::fcntl(fd_, F_SETFL, O_NONBLOCK);
  }
  ~Child() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads what is available now.
  const std::string& output() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd_, buf, sizeof buf)) > 0) out_.append(buf, static_cast<std::size_t>(n));
    return out_;
  }
  // Waits for the child to exit by itself (killed after `limit`).
  int wait(std::chrono::milliseconds limit = 10000ms) {
    for (auto waited = 0ms; waited < limit; waited += 10ms) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return reap(status);
      output();
      std::this_thread::sleep_for(10ms);
    }
    return stop(SIGKILL);
  }
  int stop(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    return reap(status);
  }
  int reap(int status) {
    done_ = true;
    ::fcntl(fd_, F_SETFL, 0);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd_, buf, sizeof buf)) > 0) out_.append(buf, static_cast<std::size_t>(n));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool done_ = false;
  std::string out_;
};

// Waits until `child` has printed something matching `pattern`; its first group.
inline std::string wait_for(Child& child, const char* pattern, std::chrono::milliseconds limit = 5000ms) {
  const std::regex re(pattern);
  for (auto waited = 0ms; waited < limit; waited += 10ms) {
    std::smatch m;
    const std::string out = child.output();
    if (std::regex_search(out, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

}  // namespace imsflow::cli
