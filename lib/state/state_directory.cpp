#include "state/state_directory.h"

#include <cerrno>
#include <cstring>
#include <random>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <rivulet/errors.h>

namespace rivulet::state {

TaskDirectoryLock::~TaskDirectoryLock() {
  release();
}

void TaskDirectoryLock::release() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
  }
}

namespace {

std::string random_id() {
  std::random_device random;
  std::string id;
  for (int i = 0; i < 4; ++i) id += fmt::format("{:08x}", random());
  return id;
}

bool is_id(std::string_view text) {
  return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

ProcessId::ProcessId(const std::filesystem::path& state_dir, const std::string& application_id) {
  const std::filesystem::path dir = state_dir / application_id;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw StreamsException(
        fmt::format("cannot create the state directory {}: {}", dir.string(), error.message()));
  }
  const std::filesystem::path file = dir / "rivulet-process-id";
  fd_ = ::open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw StreamsException(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    id_ = random_id();  // another live instance has this directory's id
    return;
  }
  char buffer[64] = {};
  const ssize_t n = ::pread(fd_, buffer, sizeof buffer, 0);
  std::string_view text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (is_id(text)) {
    id_ = std::string(text);
  } else {
    id_ = random_id();
    const std::string line = id_ + "\n";
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
      throw StreamsException(
          fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
  }
  persisted_ = true;
}

ProcessId::~ProcessId() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

StateDirectory::StateDirectory(const std::filesystem::path& state_dir,
                               const std::string& application_id)
    : root_(state_dir / application_id) {}

std::filesystem::path StateDirectory::task_dir(TaskId task) const {
  return root_ / task.to_string();
}

std::optional<TaskDirectoryLock> StateDirectory::try_lock(TaskId task) const {
  const std::filesystem::path dir = task_dir(task);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw StreamsException(fmt::format("cannot create the state directory {} of task {}: {}",
                                       dir.string(), task.to_string(), error.message()));
  }
  const std::filesystem::path lock_file = dir / ".lock";
  const int fd = ::open(lock_file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw StreamsException(fmt::format("cannot open the lock file {} of task {}: {}",
                                       lock_file.string(), task.to_string(), std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int cause = errno;
    ::close(fd);
    if (cause == EWOULDBLOCK) return std::nullopt;
    throw StreamsException(fmt::format("cannot lock {} of task {}: {}", lock_file.string(),
                                       task.to_string(), std::strerror(cause)));
  }
  return TaskDirectoryLock(fd, dir);
}

}  // namespace rivulet::state
