#include "state/state_directory.h"

#include <cerrno>
#include <cstring>
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
