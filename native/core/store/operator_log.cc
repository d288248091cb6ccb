// native/core/store/operator_log.cc
#include "operator_log.h"

#include <cstdio>
#include <ctime>

#include "../error.h"

namespace hsm {

void AppendOperatorLog(const std::string& dir, const std::string& what) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::string path = dir + "/operator.log", line = std::string(when) + " " + what + "\n";
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) Fail(CKR_DEVICE_ERROR, "cannot write " + path);
  bool ok = std::fputs(line.c_str(), f) >= 0;
  ok = std::fflush(f) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) Fail(CKR_DEVICE_ERROR, "cannot write " + path);
}

}  // namespace hsm
