// native/core/store/file_lock.h
//
// An exclusive advisory lock on a file (flock), held for the object's lifetime: it orders work
// across processes and, since each lock opens the file anew, across threads of one process too.
// The kernel drops it when its holder dies, so a killed process never leaves it held.
#pragma once

#include <memory>
#include <string>

namespace hsm {

class FileLock {
 public:
  explicit FileLock(const std::string& path);  // creates the file (0600) if needed; blocks until held
  // Takes the lock without waiting and writes this process's id into the file; when another process
  // holds it, returns nullptr and sets `holder` to what that process wrote there.
  static std::unique_ptr<FileLock> TryHold(const std::string& path, std::string* holder);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  FileLock() = default;
  int fd_ = -1;
};

}  // namespace hsm
