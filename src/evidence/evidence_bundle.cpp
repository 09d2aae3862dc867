#include "evidence/evidence_bundle.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <vector>

#include "evidence/evidence_retention.h"
#include "output/json.h"
#include "platform/atomic_file.h"
#include "platform/write_all.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/parse_number.h"

namespace ephport {

namespace fs = std::filesystem;

namespace {
constexpr const char* kManifest = "MANIFEST.json";

[[noreturn]] void fail(const std::string& path, int error) {
  throw RuntimeError(fmt::format("cannot write evidence {}: {}", path, std::strerror(error)));
}

[[noreturn]] void fail(const std::string& path, const std::error_code& error) {
  throw RuntimeError(fmt::format("cannot write evidence {}: {}", path, error.message()));
}

// The bundle is atomic as a directory: files are written in .partial-NAME,
// synced, and the directory renamed (the same steps as platform/atomic_file
// for one file). Any sync failure fails the bundle.
void check_synced(const std::string& path, const Result<void>& synced) {
  if (!synced.ok()) {
    fail(path, synced.error().error_number);
  }
}

std::string timestamp_name(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

bool is_bundle_name(std::string_view name) {
  // YYYYMMDDTHHMMSSZ[-N]
  if (name.size() < 16 || !all_digits(name.substr(0, 8)) || name[8] != 'T' ||
      !all_digits(name.substr(9, 6)) || name[15] != 'Z') {
    return false;
  }
  return name.size() == 16 || (name[16] == '-' && all_digits(name.substr(17)));
}

EvidenceBundle::EvidenceBundle(const std::string& root, std::chrono::system_clock::time_point time)
    : root_(root) {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) {
    fail(root_, error);
  }
  // Bundles of one second (a short --evidence-every) get a suffix above any
  // left of that second, so names keep sorting by age even after pruning
  // freed a lower one.
  std::string base = timestamp_name(time);
  int last = 0;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    std::string name = entry.path().filename().string();
    if (name == base) {
      last = std::max(last, 1);
    } else if (is_bundle_name(name) && name.size() > base.size() && name.starts_with(base + "-")) {
      // is_bundle_name() checked the digits; a suffix beyond int is ignored.
      last = std::max(last, parse_decimal<int>(name.substr(base.size() + 1)).value_or(0));
    }
  }
  name_ = last == 0 ? base : fmt::format("{}-{}", base, last + 1);
  partial_ = (fs::path(root_) / (std::string(kPartialEvidencePrefix) + name_)).string();
  fs::remove_all(partial_, error);  // a crashed attempt with the same name
  if (!fs::create_directory(partial_, error) || error) {
    fail(partial_, error ? error : std::make_error_code(std::errc::file_exists));
  }
}

EvidenceBundle::~EvidenceBundle() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(partial_, ignored);
  }
}

std::string EvidenceBundle::path_of(std::string_view relative) const {
  return (fs::path(partial_) / relative).string();
}

void EvidenceBundle::write_file(std::string_view relative, std::string_view content) {
  std::string path = path_of(relative);
  std::error_code error;
  fs::create_directories(fs::path(path).parent_path(), error);
  if (error) {
    fail(path, error);
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd.valid()) {
    fail(path, errno);
  }
  Result<void> result = write_all(fd.get(), content);
  if (!result.ok()) {
    fail(path, result.error().error_number);
  }
}

uint64_t EvidenceBundle::disk_bytes() const {
  return disk_use(partial_);
}

std::string EvidenceBundle::commit(nlohmann::ordered_json manifest) {
  // Every file reaches the disk before the rename makes the bundle visible.
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  std::vector<fs::path> directories = {partial_};
  std::vector<fs::path> paths;
  std::error_code error;
  for (fs::recursive_directory_iterator it(partial_, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_directory()) {
      directories.push_back(it->path());
    } else {
      paths.push_back(it->path());
    }
  }
  if (error) {
    fail(partial_, error);
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    check_synced(path.string(), sync_file(path.string()));
    files.push_back(
        {{"path", fs::relative(path, partial_).string()}, {"bytes", fs::file_size(path)}});
  }
  manifest["files"] = std::move(files);
  write_file(kManifest, dump_json(manifest, true));
  check_synced(path_of(kManifest), sync_file(path_of(kManifest)));
  for (const fs::path& directory : directories) {
    check_synced(directory.string(), sync_directory(directory.string()));
  }
  std::string final_path = (fs::path(root_) / name_).string();
  if (::rename(partial_.c_str(), final_path.c_str()) != 0) {
    fail(final_path, errno);
  }
  committed_ = true;
  check_synced(root_, sync_directory(root_));
  return final_path;
}

}  // namespace ephport
