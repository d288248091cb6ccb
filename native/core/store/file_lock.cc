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

FileLock::~FileLock() { close(fd_); }  // closing the only descriptor releases the lock

}  // namespace hsm
