// StateDirectory: `state.dir/<application.id>/`, with one directory per task ("<subtopology>_
// <partition>") that a process locks while it owns the task, so that two instances on one
// machine (or two in one process) never use the same task's stores at once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include <rivulet/task_id.h>

namespace rivulet::state {

// An exclusive lock on a task directory (flock on its ".lock" file); released on destruction.
class TaskDirectoryLock {
 public:
  TaskDirectoryLock(int fd, std::filesystem::path dir) : fd_(fd), dir_(std::move(dir)) {}
  ~TaskDirectoryLock();
  TaskDirectoryLock(TaskDirectoryLock&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), dir_(std::move(other.dir_)) {}
  TaskDirectoryLock& operator=(TaskDirectoryLock&& other) noexcept {
    if (this != &other) {
      release();
      fd_ = std::exchange(other.fd_, -1);
      dir_ = std::move(other.dir_);
    }
    return *this;
  }
  TaskDirectoryLock(const TaskDirectoryLock&) = delete;
  TaskDirectoryLock& operator=(const TaskDirectoryLock&) = delete;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void release();

  int fd_;
  std::filesystem::path dir_;
};

// The instance's process id: random, kept in `state.dir/<application.id>/rivulet-process-id` so
// that a restart of the instance with the same state directory gets it again (exactly-once
// derives the transactional ids from it: the restart then aborts what a crash left open). The
// file stays locked while the instance lives; a second live instance on the same directory gets
// a fresh id of its own (`persisted()` false), so no two live instances share one.
class ProcessId {
 public:
  // Throws StreamsException when the directory cannot be created.
  ProcessId(const std::filesystem::path& state_dir, const std::string& application_id);
  ~ProcessId();
  ProcessId(const ProcessId&) = delete;
  ProcessId& operator=(const ProcessId&) = delete;
  const std::string& id() const { return id_; }
  bool persisted() const { return persisted_; }

 private:
  std::string id_;
  int fd_ = -1;
  bool persisted_ = false;
};

class StateDirectory {
 public:
  StateDirectory(const std::filesystem::path& state_dir, const std::string& application_id);

  std::filesystem::path task_dir(TaskId task) const;
  // Creates the task's directory and locks it; nullopt when another owner holds the lock.
  // Throws StreamsException when the directory cannot be created or opened.
  std::optional<TaskDirectoryLock> try_lock(TaskId task) const;

 private:
  std::filesystem::path root_;
};

}  // namespace rivulet::state
