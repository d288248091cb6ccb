// native/core/store/file_lock.cc
#include "file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../error.h"

namespace hsm {

FileLock::FileLock(const std::string& path) {
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) Fail(CKR_DEVICE_ERROR, "cannot open " + path + ": " + std::strerror(errno));
  while (flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    close(fd_);
    Fail(CKR_DEVICE_ERROR, "cannot lock " + path + ": " + std::strerror(err));
  }
}

std::unique_ptr<FileLock> FileLock::TryHold(const std::string& path, std::string* holder) {
  std::unique_ptr<FileLock> lock(new FileLock());
  lock->fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock->fd_ < 0) Fail(CKR_DEVICE_ERROR, "cannot open " + path + ": " + std::strerror(errno));
  while (flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) Fail(CKR_DEVICE_ERROR, "cannot lock " + path + ": " + std::strerror(errno));
    char buf[64] = {};
    ssize_t n = pread(lock->fd_, buf, sizeof buf - 1, 0);
    holder->assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!holder->empty() && (holder->back() == '\n' || holder->back() == '\0')) holder->pop_back();
    return nullptr;
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(lock->fd_, 0) != 0 || pwrite(lock->fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    Fail(CKR_DEVICE_ERROR, "cannot write " + path + ": " + std::strerror(errno));
  }
  return lock;
}

FileLock::~FileLock() {
  if (fd_ >= 0) close(fd_);
}  // closing the only descriptor releases the lock

}  // namespace hsm
